"""Renamed and removed components, for clients that cache their lists: a tool's `aliases=`
(old names that still call it, listed as deprecated) and tombstones (`server.tombstone()`: a
removed name whose call is refused with an error naming its replacement).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Final

import msgspec

from mcpkit.errors import McpError
from mcpkit.protocol import codes
from mcpkit.server.catalog.resources import not_found
from mcpkit.server.catalog.tools import ToolSpec, check_tool_name

__all__ = ["ALIAS_OF_META_KEY", "alias_specs", "unknown"]

#: The `_meta` key that marks an alias: the name of the tool it calls.
ALIAS_OF_META_KEY: Final = "io.mcpkit/aliasOf"


def alias_specs(spec: ToolSpec, aliases: Iterable[str] | None) -> list[ToolSpec]:
    """The tools that `spec`'s old names stand for: each calls the same function, and is
    listed under its old name with a description that says it is deprecated and names the
    tool to call instead (and `io.mcpkit/aliasOf` in its `_meta`)."""
    if aliases is None:
        return []
    where = f"tool {spec.name!r}"
    if isinstance(aliases, str):
        raise TypeError(f"{where}: give aliases as a list, such as aliases=[{aliases!r}]")
    found: list[ToolSpec] = []
    for alias in dict.fromkeys(aliases):  # (in order, once each)
        if not isinstance(alias, str):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise TypeError(f"{where}: an alias is a tool name, not {alias!r}")
        check_tool_name(alias)
        if alias == spec.name:
            raise ValueError(f"{where}: an alias is another name, not its own")
        found.append(_alias(spec, alias))
    return found


def _alias(spec: ToolSpec, alias: str) -> ToolSpec:
    """The spec of one alias: the same function under the old name, with the deprecation
    leading its description (which a model reads) and the tool's name in `_meta` (which a
    program reads). The caches made from the old wire (`plain_wire`, `param_headers`) are
    dropped, to be made again from the new one."""
    note = f"Deprecated: {alias!r} is the old name of {spec.name!r}; call {spec.name!r} instead."
    description = spec.wire.description
    meta = {**(spec.wire.meta or {}), ALIAS_OF_META_KEY: spec.name}
    wire = msgspec.structs.replace(
        spec.wire,
        name=alias,
        description=f"{note} {description}" if description else note,
        meta=meta,
    )
    return dataclasses.replace(spec, name=alias, wire=wire, plain_wire=None, param_headers=None)


def unknown(kind: str, name: str, tombstones: dict[tuple[str, str], str | None]) -> McpError:
    """The error for a `kind` ("tool", "prompt", "resource") `name` that is not served: the
    usual one, or for a tombstone, one that says it was removed and what replaces it (also
    in its `data`, as `replacement`)."""
    if (kind, name) not in tombstones:
        # A resource has its own code, -32002 (server/resources, "Error Handling"); a tool or
        # prompt name unknown is -32602 (server/prompts, "Error Handling"; server/tools).
        if kind == "resource":
            return not_found(name)
        return McpError(codes.INVALID_PARAMS, f"Unknown {kind}: {name}")
    replacement = tombstones[kind, name]
    instead = f": use {replacement!r} instead" if replacement is not None else ""
    message = f"Unknown {kind}: {name} ({kind} {name!r} was removed{instead})"
    data = {"removed": name, "replacement": replacement}
    if kind == "resource":
        return McpError(codes.RESOURCE_NOT_FOUND, message, {"uri": name, **data})
    return McpError(codes.INVALID_PARAMS, message, data)
