"""Read a host's JSON configuration, add one server to it, and write it back atomically:
every other server, every other key and the file's permissions are kept, and a file that is
not plain JSON (comments, a syntax error) is refused, never rewritten."""

from __future__ import annotations

import json
import os
import stat
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from mcpkit.cli.hosts.formats import HostSpec
from mcpkit.client.host_configs.host_file import NotAConfigFile, read_config_bytes

__all__ = ["ConfigError", "add_server", "load_config", "render_config", "write_config"]

# A new file may hold secrets (`env` values): only its owner reads it.
_NEW_FILE_MODE = 0o600


class ConfigError(Exception):
    """The configuration cannot be changed as asked; the message says why and what to do."""


def load_config(path: Path) -> tuple[dict[str, Any], bytes | None]:
    """The file's JSON object and its exact bytes (None: there is no file yet). An empty file
    counts as `{}`; anything else that is not a JSON object is a ConfigError."""
    try:
        raw = read_config_bytes(path)
    except FileNotFoundError:
        return {}, None
    except NotAConfigFile as exc:  # a folder, a pipe (which would hang a plain read), huge
        raise ConfigError(f"{exc}; give the path of a JSON file") from None
    except OSError as exc:
        raise ConfigError(
            f"cannot read {path}: {exc.strerror}; check the path, or give another file "
            "with --config"
        ) from None
    if not raw.strip():
        return {}, raw
    try:
        # utf-8-sig: Windows editors may start the file with a byte order mark
        data: object = json.loads(raw.decode("utf-8-sig"), object_pairs_hook=_unique_keys)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(
            f"{path} is not valid JSON ({exc}), or has comments; mcpkit leaves it untouched"
        ) from None
    except RecursionError:
        raise ConfigError(f"{path} nests too deeply to be a configuration; fix it") from None
    except ConfigError as exc:  # from _unique_keys
        raise ConfigError(f"{path}: {exc}; mcpkit leaves it untouched") from None
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path} holds a JSON {type(data).__name__}, not an object; mcpkit leaves it "
            "untouched: fix it, or give another file with --config"
        )
    return cast("dict[str, Any]", data), raw


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # a repeated key would silently lose its first value when the file is written back
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ConfigError(f"the key {key!r} appears twice in one object; keep one of them")
        result[key] = value
    return result


def add_server(
    config: dict[str, Any],
    host: HostSpec,
    name: str,
    entry: dict[str, object],
    inputs: Sequence[dict[str, object]] = (),
    *,
    force: bool,
    path: Path,
) -> dict[str, Any]:
    """A copy of `config` with `entry` under `name` (an existing one replaced only if `force`,
    in its place) and each of `inputs` whose id is not there yet; nothing else changes."""
    result = dict(config)
    servers = result.get(host.servers_key, {})
    if not isinstance(servers, dict):
        raise ConfigError(
            f'"{host.servers_key}" in {path} is a JSON {type(servers).__name__}, not an '
            "object of servers; fix the file first"
        )
    if name in servers and not force:
        raise ConfigError(
            f"{path} already has a server named {name!r}; add --force to replace it, or "
            "choose another name with --name"
        )
    result[host.servers_key] = {**servers, name: entry}
    if host.has_inputs and (inputs or "inputs" not in result):
        result["inputs"] = _merged_inputs(result.get("inputs", []), inputs, path)
    return result


def _merged_inputs(
    existing: object, inputs: Sequence[dict[str, object]], path: Path
) -> list[object]:
    if not isinstance(existing, list):
        raise ConfigError(f'"inputs" in {path} is not a JSON array; fix the file first')
    items = list(cast("list[object]", existing))
    # the user may have edited an input of the same id (its description, say): keep theirs
    known = {_id_of(item) for item in items}
    items.extend(item for item in inputs if item["id"] not in known)
    return items


def _id_of(item: object) -> object:
    return cast("dict[str, object]", item).get("id") if isinstance(item, dict) else None


def render_config(config: dict[str, Any]) -> str:
    """The file's new text: two-space indents, non-ASCII kept as is, a final newline."""
    return json.dumps(config, indent=2, ensure_ascii=False) + "\n"


def write_config(path: Path, text: str, *, expected: bytes | None) -> bool:
    """Replace `path` with `text` atomically (a temporary file in the same folder, then
    os.replace), keeping the file's permissions. False, writing nothing, if the file is no
    longer `expected` (the host changed it since it was read: read it again and retry).
    A symbolic link stays a link: its target is replaced."""
    target = path.resolve()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        mode = _mode_of(target)
        if _current_bytes(target) != expected:
            return False
        _replace(target, text, mode)
    except OSError as exc:
        raise ConfigError(
            f"cannot write {target}: {exc.strerror}; check the folder's permissions, or give "
            "another file with --config"
        ) from None
    return True


def _replace(target: Path, text: str, mode: int) -> None:
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _mode_of(path: Path) -> int:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return _NEW_FILE_MODE


def _current_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
