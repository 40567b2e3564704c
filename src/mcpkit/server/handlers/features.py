"""Handlers for tools/*, resources/* and prompts/* (spec: server/tools, resources, prompts)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mcpkit.errors import McpError
from mcpkit.protocol import codes
from mcpkit.protocol.pagination import paginate
from mcpkit.server.prompts import render_prompt
from mcpkit.server.resources import not_found, read_spec
from mcpkit.server.tools import run_tool
from mcpkit.types import (
    CallToolRequestParams,
    CallToolResult,
    EmptyResult,
    GetPromptRequestParams,
    GetPromptResult,
    ListPromptsResult,
    ListResourcesResult,
    ListResourceTemplatesResult,
    ListToolsResult,
    PaginatedRequestParams,
    ReadResourceRequestParams,
    ReadResourceResult,
    SubscribeRequestParams,
    UnsubscribeRequestParams,
)

if TYPE_CHECKING:
    from mcpkit.server.context import Context
    from mcpkit.server.server import Server

__all__ = [
    "call_tool",
    "get_prompt",
    "list_prompts",
    "list_resource_templates",
    "list_resources",
    "list_tools",
    "read_resource",
    "subscribe",
    "unsubscribe",
]


async def list_tools(server: Server, ctx: Context, params: PaginatedRequestParams
                     ) -> ListToolsResult:
    page, cursor = paginate(server.tools.items(), params.cursor, server.page_size)
    return ListToolsResult(tools=[t.wire for t in page], next_cursor=cursor)


async def call_tool(server: Server, ctx: Context, params: CallToolRequestParams
                    ) -> CallToolResult:
    spec = server.tools.get(params.name)
    if spec is None:
        # server/tools, Error Handling: an unknown tool is a protocol error.
        raise McpError(codes.INVALID_PARAMS, f"Unknown tool: {params.name}")
    return await run_tool(spec, params.arguments, ctx, server.sync_in_thread)


async def list_resources(server: Server, ctx: Context, params: PaginatedRequestParams
                         ) -> ListResourcesResult:
    page, cursor = paginate(server.resources.items(), params.cursor, server.page_size)
    return ListResourcesResult(resources=[r.wire for r in page], next_cursor=cursor)


async def list_resource_templates(server: Server, ctx: Context, params: PaginatedRequestParams
                                  ) -> ListResourceTemplatesResult:
    page, cursor = paginate(server.templates.items(), params.cursor, server.page_size)
    return ListResourceTemplatesResult(resource_templates=[t.wire for t in page],
                                       next_cursor=cursor)


async def read_resource(server: Server, ctx: Context, params: ReadResourceRequestParams
                        ) -> ReadResourceResult:
    uri = params.uri
    spec = server.resources.get(uri)
    if spec is not None:
        return ReadResourceResult(contents=await read_spec(spec, uri, {}, ctx,
                                                           server.sync_in_thread))
    for template in server.templates:
        variables = template.template.match(uri)
        if variables is not None:
            contents = await read_spec(template, uri, variables, ctx, server.sync_in_thread)
            return ReadResourceResult(contents=contents)
    raise not_found(uri)


def _known(server: Server, uri: str) -> bool:
    return uri in server.resources or any(t.template.match(uri) is not None
                                          for t in server.templates)


async def subscribe(server: Server, ctx: Context, params: SubscribeRequestParams) -> EmptyResult:
    if not _known(server, params.uri):
        raise not_found(params.uri)
    ctx.session.subscriptions.add(params.uri)
    return EmptyResult()


async def unsubscribe(server: Server, ctx: Context, params: UnsubscribeRequestParams
                      ) -> EmptyResult:
    ctx.session.subscriptions.discard(params.uri)
    return EmptyResult()


async def list_prompts(server: Server, ctx: Context, params: PaginatedRequestParams
                       ) -> ListPromptsResult:
    page, cursor = paginate(server.prompts.items(), params.cursor, server.page_size)
    return ListPromptsResult(prompts=[p.wire for p in page], next_cursor=cursor)


async def get_prompt(server: Server, ctx: Context, params: GetPromptRequestParams
                     ) -> GetPromptResult:
    spec = server.prompts.get(params.name)
    if spec is None:
        raise McpError(codes.INVALID_PARAMS, f"Unknown prompt: {params.name}")
    arguments: dict[str, Any] | None = params.arguments
    return await render_prompt(spec, arguments, ctx, server.sync_in_thread)
