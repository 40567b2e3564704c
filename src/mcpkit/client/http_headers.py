"""The HTTP headers a modern (2026-07-28) request carries beside its body, without I/O.

Spec: basic/transports/streamable-http, "Request Metadata" (SEP-2243): `Mcp-Method` on every
POST, `Mcp-Name` for `tools/call`, `prompts/get` (params.name) and `resources/read`
(params.uri), and an `Mcp-Param-{Name}` for each tool parameter whose schema says
`x-mcp-header`; values that are not plain visible ASCII are sent as `=?base64?...?=`.
A tool whose `x-mcp-header` declarations break the rules is left out of `tools/list`
("Clients using the Streamable HTTP transport MUST reject tool definitions ...").
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any, Final, cast

import msgspec

from mcpkit.protocol.extensions import NAMED_BY
from mcpkit.protocol.jsonrpc import field_of
from mcpkit.protocol.param_headers import HEADER_TOKEN, encode_value, value_at

__all__ = [
    "ToolHeaders",
    "encode_value",
    "header_params",
    "standard_headers",
    "without_invalid_tools",
]

logger = logging.getLogger("mcpkit.client")

_MAX_SAFE_INTEGER: Final = 2**53 - 1

#: One annotated parameter: its path of `properties` keys, and the header's name part.
ParamHeader = tuple[tuple[str, ...], str]


def standard_headers(method: str, params: Mapping[str, Any]) -> dict[str, str]:
    """`Mcp-Method`, and `Mcp-Name` for the methods that name something (an extension's
    too: the tasks extension's name their task)."""
    found = {"mcp-method": method}
    source = NAMED_BY.get(method)
    if source is not None:
        name = params.get(source)
        if isinstance(name, str):
            found["mcp-name"] = encode_value(name)
    return found


def header_params(schema: Any) -> list[ParamHeader] | str:
    """The `x-mcp-header` parameters of a tool's `inputSchema`, or why it is invalid."""
    found: list[ParamHeader] = []
    problem = _walk(schema, (), found, statically=True)
    if problem is not None:
        return problem
    seen: set[str] = set()
    for _, name in found:
        if name.lower() in seen:
            return f"x-mcp-header {name!r} is used twice (names are case-insensitive)"
        seen.add(name.lower())
    return found


def _walk(
    schema: Any, path: tuple[str, ...], found: list[ParamHeader], *, statically: bool
) -> str | None:
    """Collect annotations under `schema`; an annotation off a chain of `properties` keys,
    or on a non-primitive, is an error."""
    if isinstance(schema, list):
        items = cast("list[object]", schema)
        return _first_problem(_walk(item, path, found, statically=False) for item in items)
    if not isinstance(schema, dict):
        return None
    node = cast("dict[str, Any]", schema)
    if "x-mcp-header" in node:
        problem = _annotation_problem(node, path, statically)
        if problem is not None:
            return problem
        found.append((path, node["x-mcp-header"]))
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):
            props = cast("dict[str, Any]", value)
            problem = _first_problem(
                _walk(sub, (*path, str(name)), found, statically=statically)
                for name, sub in props.items()
            )
        elif key != "x-mcp-header" and isinstance(value, (dict, list)):
            problem = _walk(value, path, found, statically=False)
        else:
            continue
        if problem is not None:
            return problem
    return None


def _first_problem(problems: Iterable[str | None]) -> str | None:
    return next((p for p in problems if p is not None), None)


def _annotation_problem(
    node: dict[str, Any], path: tuple[str, ...], statically: bool
) -> str | None:
    name = node["x-mcp-header"]
    where = ".".join(path) or "(the schema root)"
    if not statically or not path:
        return f"x-mcp-header on {where} is not reachable through properties alone"
    if not isinstance(name, str) or not name:
        return f"x-mcp-header of {where} is empty or not a string"
    if HEADER_TOKEN.fullmatch(name) is None:
        return f"x-mcp-header {name!r} of {where} is not an HTTP header name token"
    kind = node.get("type")
    if kind not in ("string", "integer", "boolean"):
        return (
            f"x-mcp-header {name!r} is on {where} of type {kind!r}; only string, integer "
            "and boolean parameters may be mirrored"
        )
    return None


class ToolHeaders:
    """The `x-mcp-header` parameters of each tool the client listed, by tool name."""

    def __init__(self) -> None:
        self._by_tool: dict[str, list[ParamHeader]] = {}

    def take(self, name: str, schema: Any) -> str | None:
        """Record a listed tool's annotations; returns why the tool is invalid, or None."""
        found = header_params(schema)
        if isinstance(found, str):
            self._by_tool.pop(name, None)
            return found
        if found:
            self._by_tool[name] = found
        else:
            self._by_tool.pop(name, None)
        return None

    def headers(self, method: str, params: Mapping[str, Any]) -> dict[str, str]:
        """Every header the request needs: the standard ones and the tool's parameters."""
        found = standard_headers(method, params)
        if method != "tools/call":
            return found
        wanted = self._by_tool.get(str(params.get("name")))
        arguments = params.get("arguments")
        if not wanted or not isinstance(arguments, Mapping):
            return found
        for path, name in wanted:
            value = value_at(arguments, path)
            text = _as_text(value)
            if text is not None:  # absent or null: no header ("Parameter value is null")
                found[f"mcp-param-{name.lower()}"] = encode_value(text)
        return found


def _as_text(value: Any) -> str | None:
    """ "Type conversion": booleans lower case, integers in decimal, strings as they are."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if abs(value) <= _MAX_SAFE_INTEGER else None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        return value
    return None


def without_invalid_tools(result: Any, tools: ToolHeaders) -> Any:
    """A `tools/list` result without the tools whose `x-mcp-header` declarations are invalid
    (each logged with why); the valid ones' annotations recorded in `tools`."""
    listed = field_of(result, "tools")  # (each revision decodes its own ListToolsResult)
    if listed is None:
        return result
    kept: list[Any] = []
    for tool in listed:
        problem = tools.take(tool.name, tool.input_schema)
        if problem is None:
            kept.append(tool)
        else:
            logger.warning(
                "tool %r is left out: its inputSchema is invalid: %s", tool.name, problem
            )
    if len(kept) == len(listed):
        return result
    return msgspec.structs.replace(result, tools=kept)
