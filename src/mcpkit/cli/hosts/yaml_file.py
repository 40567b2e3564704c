"""Goose's YAML configuration, read and written with PyYAML (the `cli` extra): a file with
comments is refused, never rewritten (writing it back would drop them), as a JSON file with
comments is."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any, Final, cast

from mcpkit._extras import import_extra
from mcpkit.cli.hosts.config_file import ConfigError
from mcpkit.client.host_configs.host_file import NotAConfigFile, read_config_bytes
from mcpkit.errors import MissingExtra

__all__ = ["load_yaml_config", "render_yaml_config", "yaml_module"]

# A `#` at the start of a line or after a blank begins a comment (YAML 1.2, "Comments"); one
# inside a quoted value is taken for a comment too, which only ever refuses a file.
_COMMENT: Final = re.compile(r"(^|\s)#", re.MULTILINE)
# Plain values PyYAML reads by YAML 1.1's rules and Goose (serde_yaml) by YAML 1.2's: `yes`,
# `on`, `n` (booleans in 1.1, strings in 1.2), `0755` (octal), `1:30` (base 60), `1_000`, `=`.
# Written back, each would change its meaning (`yes` would become `true`).
_YAML_11_ONLY: Final = re.compile(
    r"(?:y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF"
    r"|[-+]?0[0-7_]+|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?"
    r"|[-+]?(?:[0-9]+_[0-9_]*|[0-9]*_[0-9_]*\.[0-9_]*)|=)"
)


def yaml_module() -> Any:
    """PyYAML, or an error that names the extra which brings it."""
    try:
        # by name: PyYAML ships no type stubs, and mypy must not need them
        yaml: Any = import_extra("yaml", "cli", "Goose's configuration (YAML)")
    except MissingExtra as exc:
        raise ConfigError(str(exc)) from None
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
    if for_writing:
        changed = _changed_by_rewrite(yaml.compose(text))
        if changed is not None:
            raise ConfigError(f"{path} has {changed}; mcpkit leaves it untouched")
    return cast("dict[str, Any]", data), raw


def _changed_by_rewrite(root: Any) -> str | None:
    """What in the composed document writing it back would change (a key given twice keeps
    only its last value; `_YAML_11_ONLY` values change meaning), or None."""
    pending, seen = [root], set[int]()
    while pending:
        node = pending.pop()
        if node is None or id(node) in seen:  # (an alias is the node it names: once is enough)
            continue
        seen.add(id(node))
        if node.id == "scalar":
            if node.style is None and _YAML_11_ONLY.fullmatch(node.value):
                return (
                    f"the unquoted value {node.value!r} (line {node.start_mark.line + 1}), "
                    "which PyYAML and Goose read differently: quote it"
                )
            continue
        if node.id == "mapping":
            keys = Counter(key.value for key, _ in node.value if key.id == "scalar")
            twice = sorted(key for key, count in keys.items() if count > 1)
            if twice:
                return f"the key {twice[0]!r} twice in one mapping, and only one would be kept"
            pending.extend(item for pair in node.value for item in pair)
        else:  # a sequence
            pending.extend(node.value)
    return None


def render_yaml_config(config: dict[str, Any]) -> str:
    """The file's new text: block style, keys in their order, non-ASCII kept as is."""
    yaml = yaml_module()
    text: str = yaml.safe_dump(
        config, sort_keys=False, allow_unicode=True, default_flow_style=False
    )
    return text
