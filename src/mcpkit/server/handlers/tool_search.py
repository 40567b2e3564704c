"""tools/list and tools/call of a server with tool search (`server.add_tool_search`,
docs/compose.md "Large catalogs: tool search"): the list holds the pinned tools and the
search pair; the search tool answers from `catalog.search.finder`; the call tool hands
its tool on to tools/call as a direct call would go (middleware, mounts, validation, tasks)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import msgspec

from mcpkit.protocol.pagination import paginate
from mcpkit.server.catalog.calling.content import to_json_text
from mcpkit.server.catalog.feature_server import FeatureServer
from mcpkit.server.catalog.search.finder import ToolSearch
from mcpkit.server.catalog.tools import ToolSpec
from mcpkit.server.catalog.views import client_renders_views
from mcpkit.server.catalog.visibility.access import visible
from mcpkit.server.catalog.visibility.shown_to import shown_to
from mcpkit.types import (
    CallToolRequestParams,
    CallToolResult,
    CreateTaskResult,
    ListToolsResult,
    PaginatedRequestParams,
    TextContent,
    Tool,
)
from mcpkit.types.apps_extension import UI_EXTENSION

if TYPE_CHECKING:
    from mcpkit.server.context import Context

__all__ = ["call_search_tool", "findable_tools", "list_with_search"]

#: The search tool's output schema. Declared so that clients and models know the result's
#: shape; server/tools then obliges the server to send `structuredContent` conforming to
#: it, which `_search` does (each item a `Tool` as tools/list would give it).
_SEARCH_OUTPUT: dict[str, Any] = {
    "type": "object",
    "properties": {"tools": {"type": "array", "items": {"type": "object"}}},
    "required": ["tools"],
}


def findable_tools(server: FeatureServer, ctx: Context) -> Sequence[ToolSpec]:
    """The tools the caller of `ctx` could list without tool search: the one place that
    decides what search finds, what is pinned in the list and what the call tool calls.

    Were these three worked out apart, a tool hidden from this caller (a visibility rule,
    a scope, a view-only tool for a client without views) could be found or called through
    the search pair though tools/list never showed it."""
    tools = server.tools
    shown = shown_to(server.visibility, ctx, tools, visible(tools.items(), ctx.auth))
    if client_renders_views(ctx.client_capabilities):
        return shown
    return [spec for spec in shown if spec.ui is None or spec.ui.for_model]


def _wire(server: FeatureServer, ctx: Context, spec: ToolSpec) -> Tool:
    """`spec` on the wire as tools/list would show it to this client: search results and
    pinned tools must match what a plain tools/list would have said of the same tool."""
    declared = server.capabilities().extensions
    if declared and UI_EXTENSION in declared and not client_renders_views(ctx.client_capabilities):
        return spec.shown_wire  # (MCP Apps' text-only fallback, as tools/list gives it)
    return spec.wire


def _pair(search: ToolSearch) -> list[Tool]:
    """The search tool and the call tool, as listed. Their descriptions are built from the
    settings (mode, result limit, each other's name) because the model learns how to use
    them from these words alone."""
    finds = "words" if search.mode == "bm25" else "a regular expression (case ignored)"
    return [
        Tool(
            name=search.search_tool_name,
            description=(
                f"Search this server's tools by {finds} matched against their names, "
                f"descriptions and arguments; returns up to {search.max_results} tools with "
                f"their input schemas. Call one with {search.call_tool_name}."
            ),
            input_schema={
                "type": "object",
                "properties": {"query": {"type": "string", "description": f"The {finds}."}},
                "required": ["query"],
            },
            output_schema=_SEARCH_OUTPUT,
        ),
        Tool(
            name=search.call_tool_name,
            description=(
                f"Call a tool found with {search.search_tool_name}, by its name, with its "
                "arguments as its input schema describes them."
            ),
            input_schema={
                "type": "object",
                "properties": {
                    "name": {"type": "string", "description": "The tool's name."},
                    "arguments": {"type": "object", "description": "The tool's arguments."},
                },
                "required": ["name"],
            },
        ),
    ]


def list_with_search(
    server: FeatureServer, ctx: Context, search: ToolSearch, params: PaginatedRequestParams
) -> ListToolsResult:
    """tools/list: the pinned tools the caller may see, then the search pair.

    The pair comes last and is paged with the rest, so the cursor works as in a plain
    tools/list; a pinned tool hidden from this caller is left out rather than shown."""
    pinned = [
        _wire(server, ctx, spec)
        for spec in findable_tools(server, ctx)
        if spec.name in search.pinned
    ]
    page, cursor = paginate([*pinned, *_pair(search)], params.cursor, server.page_size)
    return ListToolsResult(tools=page, next_cursor=cursor)


def _error(message: str) -> CallToolResult:
    """A tool execution error (server/tools, Error Handling: `isError`), which clients hand
    to the model so that it can correct its call, unlike a JSON-RPC error."""
    return CallToolResult(content=[TextContent(text=message)], is_error=True)


def _arguments(raw: object) -> dict[str, Any] | None:
    """The search pair's own arguments as an object; None when they are not one.

    tools/call leaves `arguments` undecoded (`msgspec.Raw`) for the tool's own validation
    to read; the pair has none, so they are decoded here. Absent arguments are an empty
    object, as for any tool."""
    if isinstance(raw, msgspec.Raw):
        try:
            raw = msgspec.json.decode(raw) if raw else {}
        except msgspec.DecodeError:
            return None
    if raw is None:
        return {}
    return cast("dict[str, Any]", raw) if isinstance(raw, dict) else None


async def call_search_tool(
    server: FeatureServer, ctx: Context, search: ToolSearch, params: CallToolRequestParams
) -> CallToolResult | CreateTaskResult | dict[str, Any]:
    """tools/call of the search tool or the call tool (`params.name` is one of them).

    Bad arguments are an error result the model can act on (SEP-1303), an unknown tool too:
    the model is told to search, as it would be told what to fix."""
    arguments = _arguments(params.arguments)
    if arguments is None:
        return _error(f"Invalid arguments for tool {params.name!r}: they must be a JSON object")
    if params.name == search.search_tool_name:
        return await _search(server, ctx, search, arguments)
    name = arguments.get("name")
    inner = arguments.get("arguments")
    if not isinstance(name, str):
        return _error(f"Invalid arguments for tool {params.name!r}: name must be a string")
    if inner is not None and not isinstance(inner, dict):
        return _error(
            f"Invalid arguments for tool {params.name!r}: arguments must be a JSON object"
        )
    # The pair may not call itself (a loop the model could start), and a tool this caller
    # cannot find is unknown whether it exists or is hidden, so the answer reveals nothing.
    if name in search.names or not any(spec.name == name for spec in findable_tools(server, ctx)):
        return _error(f"Unknown tool: {name!r}; find tools with {search.search_tool_name}")
    # The named tool's call, as the client would have sent it (its _meta, progress token and
    # task included), the whole way a tools/call goes: the server's middleware, the mounted
    # server that owns the tool, the handler (`handle_mounted` is that way, for a request
    # the server did not receive itself).
    direct = msgspec.structs.replace(
        params, name=name, arguments=msgspec.Raw(msgspec.json.encode(inner or {}))
    )
    answer: CallToolResult | CreateTaskResult | dict[str, Any] = await ctx.server.handle_mounted(
        ctx, direct
    )
    return answer


async def _search(
    server: FeatureServer, ctx: Context, search: ToolSearch, arguments: dict[str, Any]
) -> CallToolResult:
    """The search tool's answer: the tools matching `query` among those this caller could
    list, as a JSON text block and as `structuredContent`; a bad query (an invalid regular
    expression, one past the matching budget) is an error result, not a JSON-RPC error."""
    query = arguments.get("query")
    if not isinstance(query, str):
        return _error(
            f"Invalid arguments for tool {search.search_tool_name!r}: query must be a string"
        )
    # The finder searches the whole registry, whose index it keeps between searches, and
    # keeps only the names this caller may list: an index per caller would be read anew
    # for every request.
    shown = {spec.name for spec in findable_tools(server, ctx)}
    try:
        found = await search.answer(server.tools.items(), query, shown)
    except ValueError as exc:
        return _error(f"Invalid query: {exc}")
    tools = [msgspec.to_builtins(_wire(server, ctx, spec)) for spec in found]
    structured = {"tools": tools}
    return CallToolResult(
        content=[TextContent(text=to_json_text(structured))], structured_content=structured
    )
