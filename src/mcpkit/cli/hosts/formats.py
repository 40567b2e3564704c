"""The shape of one stdio server entry in each host's configuration file, as each host
documents it, for `mcpkit install` (where the files are: `mcpkit.client.host_configs.places`)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Final

from mcpkit.client.host_configs.places import HOSTS, FileFormat, HostSpec, Scope, config_path

__all__ = [
    "HOSTS",
    "FileFormat",
    "HostSpec",
    "Scope",
    "config_path",
    "input_id_for",
    "launch_command",
    "server_entry",
]

#: Seconds Goose gives a stdio extension to answer (its own default, written as it writes it).
_GOOSE_TIMEOUT: Final = 300


def launch_command(
    target: str, *, python: str, uv: str | None, with_packages: Sequence[str] = ()
) -> tuple[str, list[str]]:
    """The command and arguments that serve `target` (an absolute FILE.py[:object]) over stdio:
    `python -m mcpkit run TARGET`, or with `uv`, `uv run --with mcpkit [--with P] mcpkit run`."""
    if uv is None:
        return python, ["-m", "mcpkit", "run", target]
    withs = [arg for package in ("mcpkit", *with_packages) for arg in ("--with", package)]
    return uv, ["run", *withs, "mcpkit", "run", target]


def server_entry(
    host: HostSpec, name: str, command: str, args: Sequence[str], env: Mapping[str, str | None]
) -> tuple[dict[str, object], list[dict[str, object]]]:
    """The entry for `host`, and the `inputs` it refers to. An env value of None is a secret
    the host asks the user for (`${input:ID}`, VS Code); the caller allows it only there."""
    if host.name == "goose":
        return _goose_extension(name, command, args, env), []
    entry: dict[str, object] = {"type": "stdio"} if host.typed else {}
    entry["command"] = command
    entry["args"] = list(args)
    inputs: list[dict[str, object]] = []
    values: dict[str, str] = {}
    for key, value in env.items():
        if value is None:
            input_id = input_id_for(name, key)
            values[key] = "${input:" + input_id + "}"
            inputs.append(
                {
                    "type": "promptString",
                    "id": input_id,
                    "description": f"{key} for the MCP server {name}",
                    "password": True,
                }
            )
        else:
            values[key] = value
    if values:
        entry["env"] = values
    return entry, inputs


def input_id_for(name: str, key: str) -> str:
    """A VS Code input id for `key` of server `name`: letters, digits, `-` and `_` only."""
    return re.sub(r"[^A-Za-z0-9_]+", "-", f"{name}-{key}").strip("-")


def _goose_extension(
    name: str, command: str, args: Sequence[str], env: Mapping[str, str | None]
) -> dict[str, object]:
    """A Goose extension entry: its own names for the command (`cmd`) and environment
    (`envs`), and its name again inside."""
    return {
        "name": name,
        "type": "stdio",
        "cmd": command,
        "args": list(args),
        "envs": {key: value for key, value in env.items() if value is not None},
        "enabled": True,
        "timeout": _GOOSE_TIMEOUT,
    }
