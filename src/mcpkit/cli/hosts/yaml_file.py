"""Goose's YAML configuration, read and written with PyYAML (the `cli` extra): a file with
comments is refused, never rewritten (writing it back would drop them), as a JSON file with
comments is."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any, Final, cast

from mcpkit.cli.hosts.config_file import ConfigError
from mcpkit.client.host_configs.host_file import NotAConfigFile, read_config_bytes

__all__ = ["load_yaml_config", "render_yaml_config", "yaml_module"]

# A `#` at the start of a line or after a blank begins a comment (YAML 1.2, "Comments"); one
# inside a quoted value is taken for a comment too, which only ever refuses a file.
_COMMENT: Final = re.compile(r"(^|\s)#", re.MULTILINE)


def yaml_module() -> Any:
    """PyYAML, or an error that names the extra which brings it."""
    try:
        # by name: PyYAML ships no type stubs, and mypy must not need them
        yaml: Any = importlib.import_module("yaml")
    except ModuleNotFoundError:
        raise ConfigError(
            "Goose's configuration is YAML, which needs PyYAML: pip install 'mcpkit[cli]'"
        ) from None
    return yaml


def load_yaml_config(
    path: Path, *, for_writing: bool = True
) -> tuple[dict[str, Any], bytes | None]:
    """The file's mapping and its exact bytes (None: no file yet); an empty file is `{}`.
    `for_writing`: a file with comments is a ConfigError (mcpkit would lose them)."""
    yaml = yaml_module()
    try:
        raw = read_config_bytes(path)
    except FileNotFoundError:
        return {}, None
    except NotAConfigFile as exc:  # a folder, a pipe (which would hang a plain read), huge
        raise ConfigError(f"{exc}; give the path of a YAML file") from None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
        data: object = yaml.safe_load(text)
    except (UnicodeDecodeError, yaml.YAMLError, RecursionError) as exc:
        raise ConfigError(f"{path} is not valid YAML ({exc}); mcpkit leaves it untouched") from None
    if data is None:
        return {}, raw
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path} holds a YAML {type(data).__name__}, not a mapping; mcpkit leaves it untouched"
        )
    if for_writing and _COMMENT.search(text):
        raise ConfigError(
            f"{path} has comments, which writing it again would lose; mcpkit leaves it untouched"
        )
    return cast("dict[str, Any]", data), raw


def render_yaml_config(config: dict[str, Any]) -> str:
    """The file's new text: block style, keys in their order, non-ASCII kept as is."""
    yaml = yaml_module()
    text: str = yaml.safe_dump(
        config, sort_keys=False, allow_unicode=True, default_flow_style=False
    )
    return text
