"""Servers from an `mcpServers` config (`from_config`, `mcpkit run mcp.json`): read the
file Claude Desktop, Claude Code, Cursor or VS Code write, check every entry, and mount each
server as a `ProxyServer` under its name (docs/compose.md, "Servers from an mcpServers config").

Reading is strict: a key this module does not know is refused, naming it and its server, and
so is a `${...}` it cannot expand, before anything starts. Starting is lenient: an upstream
that cannot be started, reached, initialized or listed is skipped with a warning
(`mcpkit.proxy.config_proxy`), and the others serve.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final, cast

import msgspec

from mcpkit.errors import McpkitError
from mcpkit.proxy.config_proxy import ConfiguredProxy, reaching_first
from mcpkit.server.catalog.transforms import MISSING, Arg, ToolTransform
from mcpkit.server.server import Server
from mcpkit.transports.stdio_client import StdioParameters

__all__ = [
    "DEFAULT_CONFIG_NAME",
    "ConfigError",
    "UpstreamEntry",
    "expand",
    "from_config",
    "parse_server",
    "read_config",
    "server_entries",
    "tool_transforms",
]

#: The name of a server made from a config when `name=` is not given.
DEFAULT_CONFIG_NAME: Final = "mcpkit-config"
#: The keys of the servers object: most clients', and VS Code's (with "type" in each entry).
_SERVERS_KEYS: Final = ("mcpServers", "servers")
#: What a command server's entry may hold, and a URL server's ("type" or "transport" in both).
#: What either kind may hold besides: tools derived from its own, and tag filters.
_SHAPING_KEYS: Final = frozenset({"tools", "include_tags", "exclude_tags"})
_COMMAND_KEYS: Final = (
    frozenset({"command", "args", "env", "cwd", "type", "transport"}) | _SHAPING_KEYS
)
_URL_KEYS: Final = _SHAPING_KEYS | {"url", "headers", "type", "transport"}
#: What a tool's entry under "tools" may hold, and an argument's under its "arguments".
_TOOL_KEYS: Final = frozenset({"name", "title", "description", "tags", "arguments"})
_ARGUMENT_KEYS: Final = frozenset({"name", "description", "default", "required", "hide", "value"})
#: "type" (Claude Code, VS Code, Cursor) or "transport" (FastMCP's configs) values.
_URL_TRANSPORTS: Final = frozenset({"http", "streamable-http", "sse"})
#: `${NAME}`, `${NAME:-default}` (Claude Code) and `${env:NAME}` (Cursor, VS Code).
_VARIABLE: Final = re.compile(r"\$\{([^}]*)\}")
_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ConfigError(McpkitError, ValueError):
    """An `mcpServers` config that cannot be served as it is: what is wrong, and where."""


@dataclasses.dataclass(frozen=True, slots=True)
class UpstreamEntry:
    """One server of a config, checked and expanded: what its `ProxyServer` is made of."""

    name: str
    #: A command (`StdioParameters`) or an http(s) URL.
    target: StdioParameters | str
    #: For a URL: sent with every request.
    headers: Mapping[str, str] | None = None
    #: Its "tools": the tools shown derived from the upstream's, by their upstream names.
    tools: Mapping[str, ToolTransform] | None = None
    #: Its "include_tags" (only components with one of them are shown) and "exclude_tags".
    include_tags: frozenset[str] | None = None
    exclude_tags: frozenset[str] | None = None


# ------------------------------------------------------------------- reading


def read_config(config: Mapping[str, Any] | str | os.PathLike[str]) -> Mapping[str, Any]:
    """The config as a JSON object: `config` itself (a dict), the JSON text of a str that
    starts with `{`, or the file at a path."""
    if isinstance(config, Mapping):
        return config
    if isinstance(config, str) and config.lstrip().startswith("{"):
        return _decoded(config.encode(), "the config text")
    path = Path(config)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read the config {str(path)!r}: {exc.strerror or exc}") from None
    return _decoded(data, repr(str(path)))


def _decoded(data: bytes, what: str) -> Mapping[str, Any]:
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


def parse_server(name: str, raw: object, environ: Mapping[str, str]) -> UpstreamEntry:
    """One server's entry, checked and with its `${...}` expanded from `environ`: a command
    (`command`, `args`, `env`, `cwd`) or a URL (`url`, `headers`), with an optional `type`
    or `transport`. Every key is checked here, and only here, so that a key this version
    does not support is refused, naming it."""
    where = f"server {name!r} of the config"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} is a JSON {type(raw).__name__}, not an object")
    entry = cast("dict[str, Any]", raw)
    kind = _kind(entry, where)
    allowed = _COMMAND_KEYS if kind == "stdio" else _URL_KEYS
    for key in entry:
        if key not in allowed:
            raise ConfigError(
                f"{where} has the key {key!r}, which mcpkit does not support: a command "
                "server takes command, args, env, cwd and type (or transport), a URL server "
                "url, headers and type (or transport), either one tools, include_tags and "
                "exclude_tags"
            )
    tools = tool_transforms(entry.get("tools"), where)
    include = _tags(entry.get("include_tags"), f"{where}: include_tags")
    exclude = _tags(entry.get("exclude_tags"), f"{where}: exclude_tags")

    def text(key: str, value: object) -> str:
        if not isinstance(value, str):
            raise ConfigError(f"{where}: {key} is a JSON {type(value).__name__}, not a string")
        return expand(value, environ, f"{where}, {key}")

    if kind != "stdio":
        headers = _strings(entry.get("headers"), "headers", text, where)
        return UpstreamEntry(name, text("url", entry["url"]), headers, tools, include, exclude)
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
    return UpstreamEntry(name, command, None, tools, include, exclude)


def tool_transforms(raw: object, where: str) -> dict[str, ToolTransform] | None:
    """A server's "tools": each upstream tool named there shown as derived from it
    (docs/compose.md, "Tool transforms"): its `name`, `title`, `description`, `tags`, and
    `arguments`, each with its `name`, `description`, `default`, `required`, or `hide` with
    the `value` the upstream gets (FastMCP's configs write that value as `default`)."""
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: tools is a JSON {type(raw).__name__}, not an object")
    found: dict[str, ToolTransform] = {}
    for tool, given in cast("dict[str, object]", raw).items():
        at = f"{where}, tools.{tool}"
        options = _object(given, at, _TOOL_KEYS)
        for key in ("name", "title", "description"):
            if key in options and not isinstance(options[key], str):
                raise ConfigError(f"{at}: {key} is not a string")
        tags = _tags(options.get("tags"), f"{at}: tags")
        arguments = options.get("arguments")
        if arguments is not None and not isinstance(arguments, dict):
            raise ConfigError(f"{at}: arguments is not an object")
        try:
            found[tool] = ToolTransform(
                name=options.get("name"),
                title=options.get("title"),
                description=options.get("description"),
                tags=cast("list[str] | None", tags),
                arguments={
                    arg: _argument(value, f"{at}.arguments.{arg}")
                    for arg, value in cast("dict[str, object]", arguments or {}).items()
                },
            )
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{at}: {exc}") from None
    return found


def _tags(raw: object, where: str) -> frozenset[str] | None:
    """A list of tags (non-empty strings), or None when not given."""
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(
        isinstance(tag, str) and tag for tag in cast("list[object]", raw)
    ):
        raise ConfigError(f"{where} is not a list of tags (non-empty strings)")
    return frozenset(cast("list[str]", raw))


def _argument(raw: object, where: str) -> Arg:
    given = _object(raw, where, _ARGUMENT_KEYS)
    for key in ("name", "description"):
        if key in given and not isinstance(given[key], str):
            raise ConfigError(f"{where}: {key} is not a string")
    for key in ("required", "hide"):
        if key in given and not isinstance(given[key], bool):
            raise ConfigError(f"{where}: {key} is not true or false")
    if given.get("hide"):
        if "value" in given and "default" in given:
            raise ConfigError(f"{where}: a hidden argument takes value (or default), not both")
        rest = set(given) - {"hide", "value", "default"}
        if rest:
            raise ConfigError(f"{where}: a hidden argument takes only value, not {sorted(rest)}")
        value = given.get("value", given.get("default", MISSING))
        return Arg(hide=True) if value is MISSING else Arg(hide=True, value=value)
    if "value" in given:
        raise ConfigError(f"{where}: value is what a hidden argument (hide: true) is given")
    return Arg(
        name=cast("str | None", given.get("name")),
        description=cast("str | None", given.get("description")),
        required=cast("bool | None", given.get("required")),
        **({"default": given["default"]} if "default" in given else {}),
    )


def _object(raw: object, where: str, keys: frozenset[str]) -> dict[str, Any]:
    """`raw` as a JSON object whose keys are all among `keys`; ConfigError naming the
    first that is not."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} is a JSON {type(raw).__name__}, not an object")
    found = cast("dict[str, Any]", raw)
    for key in found:
        if key not in keys:
            raise ConfigError(f"{where} has the key {key!r}: it takes {', '.join(sorted(keys))}")
    return found


def _kind(entry: dict[str, Any], where: str) -> str:
    """The entry's kind, "stdio" or a URL transport: its `type` or `transport` if it says,
    else whether it has `command` or `url`."""
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
        return str(value)
    raise ConfigError(
        f"{where}: {key} {value!r} is not one mcpkit serves: give 'stdio', 'http', "
        "'streamable-http' or 'sse'"
    )


def _strings(
    value: object, key: str, text: Callable[[str, object], str], where: str
) -> dict[str, str] | None:
    """An object of strings (env, headers), each value expanded by `text`."""
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
    `{` is kept as it is."""

    def replace(match: re.Match[str]) -> str:
        inner = match.group(1)
        name, sep, default = inner.partition(":-")
        if not sep and inner.startswith("env:"):
            name = inner[4:]
        if not _NAME.fullmatch(name):
            raise ConfigError(_unsupported(match.group(0), where))
        found = environ.get(name)
        if sep:
            return found or default
        if found is None:
            raise ConfigError(f"{where}: {match.group(0)} names {name}, which is not set")
        return found

    return _VARIABLE.sub(replace, value)


def _unsupported(variable: str, where: str) -> str:
    if variable.startswith("${input:"):
        return (
            f"{where}: {variable} is a VS Code input, which VS Code asks its user for; mcpkit "
            "asks nobody: put the value in an environment variable and write ${env:NAME}"
        )
    return (
        f"{where}: {variable} is not a variable mcpkit expands: it expands ${{NAME}}, "
        "${NAME:-default} and ${env:NAME} from its environment"
    )


# ------------------------------------------------------------------ building


def from_config(
    config: Mapping[str, Any] | str | os.PathLike[str],
    *,
    name: str = DEFAULT_CONFIG_NAME,
    connect_timeout: float = 30.0,
    upstream_timeout: float | None = 300.0,
    **server_options: Any,
) -> Server:
    """A `Server` with each server of an `mcpServers` config (a dict, JSON text, or the path of
    a JSON file) mounted as a `ProxyServer` under its name, every entry checked first. An
    upstream that does not start within `connect_timeout` seconds (reached, initialized,
    listed) is skipped with a warning; `upstream_timeout` bounds each forwarded request.
    Other keywords go to `Server(...)` (docs/compose.md)."""
    servers = server_entries(read_config(config))
    entries = [parse_server(key, raw, os.environ) for key, raw in servers.items()]
    proxies: list[ConfiguredProxy] = []
    for entry in entries:
        try:
            proxies.append(
                ConfiguredProxy(
                    entry.target,
                    name=entry.name,
                    headers=entry.headers,
                    connect_timeout=connect_timeout,
                    upstream_timeout=upstream_timeout,
                )
            )
        except (ValueError, TypeError) as exc:  # a URL that is none, say
            raise ConfigError(f"server {entry.name!r} of the config: {exc}") from None
        if entry.include_tags is not None:
            proxies[-1].enable(tags=entry.include_tags, only=True)
        if entry.exclude_tags:
            proxies[-1].disable(tags=entry.exclude_tags)
    tools_of = {entry.name: entry.tools for entry in entries}
    options: dict[str, Any] = dict(server_options)
    options["lifespan"] = reaching_first(proxies, options.get("lifespan"))
    server = Server(name, **options)
    for proxy in proxies:
        try:
            server.mount(proxy, namespace=proxy.name, transforms=tools_of[proxy.name])
        except ValueError as exc:
            raise ConfigError(
                f"server {proxy.name!r} of the config: its name is the namespace of its tools, "
                f"prompts and resources, and cannot be one: {exc}"
            ) from None
    return server
