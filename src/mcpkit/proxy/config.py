"""Servers from an `mcpServers` config (`from_config`, `mcpkit run mcp.json`): read the
file Claude Desktop, Claude Code, Cursor or VS Code write, check every entry, and mount each
server as a `ProxyServer` under its name (docs/compose.md, "Servers from an mcpServers config").

Reading is strict (`mcpkit.transports.server_config`, the one parser the client of many
servers shares): a key neither knows is refused, naming it and its server, and so is a `${...}`
that cannot be expanded, before anything starts. Starting is lenient: an upstream
that cannot be started, reached, initialized or listed is skipped with a warning
(`mcpkit.proxy.config_proxy`), and the others serve.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from typing import Any, Final, cast

from mcpkit.proxy.config_proxy import ConfiguredProxy, reaching_first
from mcpkit.server.catalog.transforms import MISSING, Arg, ToolTransform
from mcpkit.server.server import Server
from mcpkit.transports.server_config import (
    ConfigError,
    expand,
    parse_entry,
    read_config,
    server_entries,
)
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
#: What an entry may hold besides how to reach its server: tools derived from its own, and
#: tag filters (the proxy's own keys; `mcpkit.transports.server_config` reads the rest).
_SHAPING_KEYS: Final = frozenset({"tools", "include_tags", "exclude_tags"})
#: What a tool's entry under "tools" may hold, and an argument's under its "arguments".
_TOOL_KEYS: Final = frozenset({"name", "title", "description", "tags", "arguments"})
_ARGUMENT_KEYS: Final = frozenset({"name", "description", "default", "required", "hide", "value"})


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
    #: For a URL: whether its "type" (or "transport") says "sse", an HTTP+SSE endpoint.
    legacy_sse: bool = False


# ------------------------------------------------------------- one server


def parse_server(name: str, raw: object, environ: Mapping[str, str]) -> UpstreamEntry:
    """One server's entry, checked and with its `${...}` expanded from `environ`: how to reach
    it (`mcpkit.transports.server_config.parse_entry`), and the proxy's own "tools",
    "include_tags" and "exclude_tags". A key neither takes is refused, naming it."""
    where = f"server {name!r} of the config"
    entry = parse_entry(name, raw, environ, extra_keys=_SHAPING_KEYS)
    tools = tool_transforms(entry.extra.get("tools"), where)
    include = _tags(entry.extra.get("include_tags"), f"{where}: include_tags")
    exclude = _tags(entry.extra.get("exclude_tags"), f"{where}: exclude_tags")
    return UpstreamEntry(
        entry.name,
        entry.target,
        entry.headers,
        tools,
        include,
        exclude,
        legacy_sse=entry.transport == "sse",
    )


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
                    upstream_transport="sse" if entry.legacy_sse else "auto",
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
