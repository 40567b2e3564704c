"""The `mcpServers` config Claude Desktop, Claude Code, Cursor and VS Code write, read as how to
reach each server: one parser for the client of many servers (`Client({"mcpServers": ...})`)
and the proxy that serves them as one (`mcpkit.proxy.from_config`).

Reading is strict: a key the caller does not take is refused, naming it and its server, and so
is a `${...}` that cannot be expanded, before anything starts. What a server's entry says
beside how to reach it (the proxy's "tools" and tag filters) is handed back as given, for the
caller that takes those keys to check.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final, Literal, cast

import msgspec

from mcpkit.errors import InvalidUrl, McpkitError
from mcpkit.transports.endpoint_url import check_endpoint_url
from mcpkit.transports.stdio_client import StdioParameters

__all__ = [
    "ConfigError",
    "ServerEntry",
    "Transport",
    "expand",
    "parse_entry",
    "read_config",
    "server_entries",
]

#: The keys of the servers object: most clients', and VS Code's (with "type" in each entry).
_SERVERS_KEYS: Final = ("mcpServers", "servers")
#: What a command server's entry may hold, and a URL server's ("type" or "transport" in both).
_COMMAND_KEYS: Final = frozenset({"command", "args", "env", "cwd", "type", "transport"})
_URL_KEYS: Final = frozenset({"url", "headers", "type", "transport"})
#: "type" (Claude Code, VS Code, Cursor) or "transport" (FastMCP's configs) values.
_URL_TRANSPORTS: Final = frozenset({"http", "streamable-http", "sse"})
#: `${NAME}`, `${NAME:-default}` (Claude Code) and `${env:NAME}` (Cursor, VS Code).
_VARIABLE: Final = re.compile(r"\$\{([^}]*)\}")
#: A shell variable name: anything else inside `${...}` (`input:id`, a space, a nested
#: `${`) is refused rather than guessed at.
_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

#: How a server is reached: a process over stdio, or a URL.
Transport = Literal["stdio", "http", "streamable-http", "sse"]


class ConfigError(McpkitError, ValueError):
    """An `mcpServers` config that cannot be used as it is: what is wrong, and where.

    A ValueError too, so code that validates its input with `except ValueError` catches it;
    raised before any server is started, so a bad entry never leaves half a fleet running.
    """


@dataclasses.dataclass(frozen=True, slots=True)
class ServerEntry:
    """One server of a config, checked and with its `${...}` expanded: how to reach it.

    Frozen: the client and the proxy read it after the config was checked, and an entry
    changed later would skip the checks `parse_entry` made.
    """

    #: The key of the entry in the servers object: the client's and proxy's name for it.
    name: str
    #: A command (`StdioParameters`) or an http(s) URL.
    target: StdioParameters | str
    #: For a URL: sent with every request.
    headers: Mapping[str, str] | None = None
    #: What the entry says (or its keys imply) of how it is reached.
    transport: Transport = "stdio"
    #: The entry's other keys the caller takes (`extra_keys` of `parse_entry`), as written.
    extra: Mapping[str, object] = dataclasses.field(default_factory=dict[str, object])


# ------------------------------------------------------------------- reading


def read_config(config: Mapping[str, Any] | str | os.PathLike[str]) -> Mapping[str, Any]:
    """The config as a JSON object: `config` itself (a dict), the JSON text of a str that
    starts with `{`, or the file at a path."""
    if isinstance(config, Mapping):
        return config
    # A str is JSON text or a path; no path a user writes starts with "{", so the two
    # cannot be confused.
    if isinstance(config, str) and config.lstrip().startswith("{"):
        return _decoded(config.encode(), "the config text")
    path = Path(config)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the config {str(path)!r}: {exc.strerror or exc}") from None
    return _decoded(data, repr(str(path)))


def _decoded(data: bytes, what: str) -> Mapping[str, Any]:
    """`data` decoded as a JSON object, or a ConfigError naming `what` was read. Strict
    JSON: the comments and trailing commas VS Code tolerates in its files are refused with
    the decoder's position, so the user sees where."""
    try:
        found: object = msgspec.json.decode(data)
    except msgspec.DecodeError as exc:
        raise ConfigError(f"{what} is not JSON: {exc}") from None
    if not isinstance(found, dict):
        raise ConfigError(f"{what} is a JSON {type(found).__name__}, not an object")
    return cast("dict[str, Any]", found)


def server_entries(config: Mapping[str, Any]) -> dict[str, Any]:
    """The servers object of a config: its `mcpServers`, or VS Code's `servers`. The other
    top-level keys are the writing client's own settings (Claude Desktop keeps its
    preferences beside its servers), and are left alone."""
    # Exactly one: a config with both would leave it unclear which servers the writer meant.
    present = [key for key in _SERVERS_KEYS if key in config]
    if len(present) != 1:
        found = ", ".join(repr(key) for key in config) or "none"
        problem = "both" if present else "neither"
        link = "and" if present else "nor"
        raise ConfigError(
            f'the config has {problem} "mcpServers" {link} "servers" (VS Code\'s): give one '
            f"object of servers by name (its keys: {found})"
        )
    servers: object = config[present[0]]
    if not isinstance(servers, dict):
        raise ConfigError(
            f'"{present[0]}" is a JSON {type(servers).__name__}, not an object of servers by name'
        )
    return cast("dict[str, Any]", servers)


# ------------------------------------------------------------- one server


def parse_entry(
    name: str,
    raw: object,
    environ: Mapping[str, str],
    *,
    extra_keys: frozenset[str] = frozenset(),
) -> ServerEntry:
    """One server's entry, checked and with its `${...}` expanded from `environ`: a command
    (`command`, `args`, `env`, `cwd`) or a URL (`url`, `headers`), with an optional `type`
    or `transport`, and the `extra_keys` the caller takes (returned as written). Every other
    key is refused here, naming it."""
    # Unknown keys are refused, not ignored: a misspelt "headers" or "env" would otherwise
    # start the server without the token or setting the user wrote, and fail far from here.
    where = f"server {name!r} of the config"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} is a JSON {type(raw).__name__}, not an object")
    entry = cast("dict[str, Any]", raw)
    transport = _transport(entry, where)
    allowed = (_COMMAND_KEYS if transport == "stdio" else _URL_KEYS) | extra_keys
    for key in entry:
        if key not in allowed:
            besides = f", and either one {', '.join(sorted(extra_keys))}" if extra_keys else ""
            raise ConfigError(
                f"{where} has the key {key!r}, which mcpkit does not support here: a command "
                "server takes command, args, env, cwd and type (or transport), a URL server "
                f"url, headers and type (or transport){besides}"
            )
    extra = {key: entry[key] for key in extra_keys if key in entry}

    # Every string the entry holds goes through this one check-and-expand, so no value
    # reaches a process or a header with a `${...}` left in it.
    def text(key: str, value: object) -> str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: {key} is a JSON {type(value).__name__}, not a string")
        return expand(value, environ, f"{where}, {key}")

    if transport != "stdio":
        headers = _strings(entry.get("headers"), "headers", text, where)
        url = text("url", entry["url"])
        try:
            # Checked here: a client given text that is not a URL would take it for a command.
            check_endpoint_url(url)
        except InvalidUrl as exc:
            raise ConfigError(f"{where}: url {exc}") from None
        return ServerEntry(name, url, headers, transport, extra)
    # The command is run as given, never through a shell (see StdioParameters): args stay a
    # list, and a string is refused instead of being split in some shell-like way.
    args: object = entry.get("args", [])
    if not isinstance(args, list):
        raise ConfigError(f"{where}: args is a JSON {type(args).__name__}, not a list")
    command = StdioParameters(
        command=text("command", entry["command"]),
        args=[text(f"args[{i}]", arg) for i, arg in enumerate(cast("list[object]", args))],
        env=_strings(entry.get("env"), "env", text, where),
        cwd=text("cwd", entry["cwd"]) if "cwd" in entry else None,
    )
    if not command.command:
        raise ConfigError(f"{where}: command is empty")
    return ServerEntry(name, command, None, "stdio", extra)


def _transport(entry: dict[str, Any], where: str) -> Transport:
    """The entry's transport, "stdio" or a URL one: its `type` or `transport` if it says,
    else whether it has `command` or `url`.

    A URL without a type means Streamable HTTP ("http"): a server that only speaks the old
    HTTP+SSE transport is still reached, as the client falls back when refused. A type the
    entry's keys contradict (an "sse" entry with only a command) is refused, saying what
    it lacks.
    """
    said = {key: entry[key] for key in ("type", "transport") if key in entry}
    if len(set(map(str, said.values()))) > 1:
        raise ConfigError(f"{where} has type and transport, which differ: {said}")
    if "command" in entry and "url" in entry:
        raise ConfigError(f"{where} has both command and url: give one")
    if not said:
        if "command" in entry:
            return "stdio"
        if "url" in entry:
            return "http"
        raise ConfigError(f"{where} has neither command (a process) nor url (an HTTP server)")
    key, value = next(iter(said.items()))
    if isinstance(value, str) and (value == "stdio" or value in _URL_TRANSPORTS):
        needed = "command" if value == "stdio" else "url"
        if needed not in entry:
            raise ConfigError(f"{where}: {key} {value!r} needs {needed}")
        return cast("Transport", value)
    raise ConfigError(
        f"{where}: {key} {value!r} is not one mcpkit speaks: give 'stdio', 'http', "
        "'streamable-http' or 'sse'"
    )


def _strings(
    value: object, key: str, text: Callable[[str, object], str], where: str
) -> dict[str, str] | None:
    """An object of strings (env, headers), each value expanded by `text`. Keys are not
    expanded: a variable's name or a header's name is written out in the config."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: {key} is a JSON {type(value).__name__}, not an object")
    found = cast("dict[str, object]", value)
    return {name: text(f"{key}.{name}", item) for name, item in found.items()}


# --------------------------------------------------------------- variables


def expand(value: str, environ: Mapping[str, str], where: str) -> str:
    """`value` with each `${NAME}`, `${env:NAME}` and `${NAME:-default}` replaced from
    `environ` (the default when NAME is unset or empty, as in the shell); an unset NAME
    without a default, and any other `${...}`, is an error naming it. A `$` not followed by
    `{` is kept as it is.

    One pass: a value taken from `environ` is not expanded again, so a variable holding
    `${...}` (a password, say) comes out as written, and no variable can pull in another.
    An unset variable is an error rather than "" because an empty token or path fails
    later and obscurely, while the name of the missing variable says what to fix.
    """

    def replace(match: re.Match[str]) -> str:
        inner = match.group(1)
        name, sep, default = inner.partition(":-")
        if not sep and inner.startswith("env:"):
            name = inner[4:]
        if not _NAME.fullmatch(name):
            raise ConfigError(_unsupported(match.group(0), where))
        found = environ.get(name)
        if sep:
            return found or default  # ":-": empty counts as unset, as in the shell
        if found is None:
            raise ConfigError(f"{where}: {match.group(0)} names {name}, which is not set")
        return found

    return _VARIABLE.sub(replace, value)


def _unsupported(variable: str, where: str) -> str:
    """The error for a `${...}` mcpkit does not expand, with what to write instead."""
    if variable.startswith("${input:"):
        return (
            f"{where}: {variable} is a VS Code input, which VS Code asks its user for; mcpkit "
            "asks nobody: put the value in an environment variable and write ${env:NAME}"
        )
    return (
        f"{where}: {variable} is not a variable mcpkit expands: it expands ${{NAME}}, "
        "${NAME:-default} and ${env:NAME} from its environment"
    )
