"""Prompts and resources offered as tools too, for clients that only have tools
(`server.add_prompts_as_tools()`, `server.add_resources_as_tools()`, docs/compose.md): each
tool answers as the request it stands for would, for the same caller. (Here, beside the
handlers, rather than in the catalog: the tools run requests, which the catalog below the
Context cannot name.)"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Final, TypeVar

import msgspec

from mcpkit.errors import McpError, ToolError
from mcpkit.protocol import codes
from mcpkit.protocol.answering import answered_code
from mcpkit.server.catalog.catalog import Catalog
from mcpkit.server.catalog.tools import ToolSpec, make_tool
from mcpkit.types import GetPromptRequestParams, PaginatedRequestParams, ReadResourceRequestParams

if TYPE_CHECKING:
    from mcpkit.protocol.terms import Terms
    from mcpkit.server.context import Context

__all__ = ["add_prompts_as_tools", "add_resources_as_tools", "prompt_tools", "resource_tools"]

T = TypeVar("T")
# What the request's caller got wrong (an unknown name or URI, bad arguments, a missing scope):
# a tool's error result the model can act on, as a tool's bad input is (SEP-1303).
_CALLERS_FAULT: Final = frozenset({codes.INVALID_PARAMS, codes.RESOURCE_NOT_FOUND})


#: The most pages a listing tool follows (a cursor that never ends is a bug upstream).
_MAX_PAGES: Final = 1_000


async def _as_tool_error(answer: Awaitable[T], terms: Terms[Any] | None) -> T:
    """`answer`, or a ToolError with the text of the error it raised for the caller's fault,
    with the code the request it stands for is answered with under `terms` (-32602, not
    -32002, for an unknown resource in 2026-07-28).

    Any other McpError (an internal error, a cancellation) stays a JSON-RPC error: the
    model can do nothing about it, and turning it into text would hide a server fault."""
    try:
        return await answer
    except McpError as exc:
        if exc.code in _CALLERS_FAULT:
            code = answered_code(exc.code, terms)
            raise ToolError(f"{exc.message} (code {code})") from None
        raise


def _builtins(result: object) -> Any:
    """A result as JSON-like data (a layer may have encoded it already).

    Read as data, a struct and the bytes a caching layer encoded look alike, with the
    wire's camelCase keys (`nextCursor`), which is how `_listed` reads them."""
    if isinstance(result, msgspec.Raw):
        return msgspec.json.decode(result)
    return msgspec.to_builtins(result)


async def _serve(ctx: Context, method: str, params: object) -> Any:
    """The answer to a `method` request of this caller, served as a client's would be (the
    middleware, the mounted server that owns the item, what the caller may see and use):
    `handle_mounted` is the server's way through its layers for a request it did not get."""
    # A copy of the tool call's Context (`derive`), so that setting the method does not
    # change the tool call's own; the caller, auth and session are the tool call's, which
    # is what makes the answer the one this caller would get.
    as_request = ctx.derive()
    as_request.method = method
    answer = ctx.server.handle_mounted(as_request, params)
    return _builtins(await _as_tool_error(answer, ctx.terms))


async def _listed(ctx: Context, method: str, field: str) -> list[Any]:
    """Every item of a `method` list, page after page.

    The tool has no cursor of its own to hand the model, so it follows the server's
    pages itself; `_MAX_PAGES` bounds a layer whose cursor never ends."""
    items: list[Any] = []
    cursor: str | None = None
    for _ in range(_MAX_PAGES):
        page = await _serve(ctx, method, PaginatedRequestParams(cursor=cursor))
        items.extend(page.get(field) or ())
        cursor = page.get("nextCursor")
        if cursor is None:
            break
    return items


def prompt_tools(list_name: str, get_name: str) -> list[ToolSpec]:
    """A tool listing the prompts the caller may see, and one rendering a prompt.

    Both go through prompts/list and prompts/get (`_serve`), never the registry, so a
    prompt hidden from the caller stays hidden and middleware sees the requests."""

    async def list_prompts(ctx: Context) -> dict[str, Any]:
        return {"prompts": await _listed(ctx, "prompts/list", "prompts")}

    async def get_prompt(
        name: str, ctx: Context, arguments: dict[str, str] | None = None
    ) -> dict[str, Any]:
        params = GetPromptRequestParams(name=name, arguments=arguments)
        found: dict[str, Any] = await _serve(ctx, "prompts/get", params)
        return found

    return [
        make_tool(
            list_prompts,
            name=list_name,
            description="List the prompts of this server: their names, descriptions and "
            f"arguments. Render one with {get_name}.",
            structured_output=False,
        ),
        make_tool(
            get_prompt,
            name=get_name,
            description="Render a prompt of this server by its name, with its arguments "
            "(strings): returns its messages.",
            structured_output=False,
        ),
    ]


def resource_tools(list_name: str, read_name: str) -> list[ToolSpec]:
    """A tool listing the resources and templates the caller may see, and one reading one.

    Both lists in one answer: a resource reachable only through a template is found by
    no other tool, and the template's URI pattern is what tells the model how to name it."""

    async def list_resources(ctx: Context) -> dict[str, Any]:
        return {
            "resources": await _listed(ctx, "resources/list", "resources"),
            "resourceTemplates": await _listed(
                ctx, "resources/templates/list", "resourceTemplates"
            ),
        }

    async def read_resource(uri: str, ctx: Context) -> dict[str, Any]:
        found: dict[str, Any] = await _serve(
            ctx, "resources/read", ReadResourceRequestParams(uri=uri)
        )
        return {"contents": found["contents"]}

    return [
        make_tool(
            list_resources,
            name=list_name,
            description="List the resources of this server (URIs, names, descriptions) and "
            f"its resource templates (URI templates). Read one with {read_name}.",
            structured_output=False,
        ),
        make_tool(
            read_resource,
            name=read_name,
            description="Read a resource of this server by its URI (or a URI that one of its "
            "templates matches): returns its contents, text or base64 blob.",
            structured_output=False,
        ),
    ]


def add_prompts_as_tools(
    catalog: Catalog, *, list_name: str = "list_prompts", get_name: str = "get_prompt"
) -> None:
    """Offer the prompts as two tools too, for clients that only have tools: `list_name`
    lists them, `get_name` renders one (docs/compose.md, "Prompts and resources as tools")."""
    _add_all(catalog, prompt_tools(list_name, get_name))


def add_resources_as_tools(
    catalog: Catalog, *, list_name: str = "list_resources", read_name: str = "read_resource"
) -> None:
    """Offer the resources as two tools too, for clients that only have tools: `list_name`
    lists resources and templates, `read_name` reads one by URI (docs/compose.md)."""
    _add_all(catalog, resource_tools(list_name, read_name))


def _add_all(catalog: Catalog, specs: list[ToolSpec]) -> None:
    """Register `specs` as tools, all or none; ValueError naming the first name taken.

    Adding half a pair would leave a listing tool that points the model at a tool that
    does not exist, or the application's own tool of that name silently replaced."""
    taken = [spec.name for spec in specs if spec.name in catalog.tools]
    if taken:  # checked first, so that a refused pair leaves nothing behind
        raise ValueError(f"a tool named {taken[0]!r} is already registered")
    for spec in specs:
        catalog.tools.add(spec.name, spec)
