"""Handlers for tools/*, resources/* and prompts/* (spec: server/tools, resources, prompts).

Every handler finds what it serves through the catalog's visibility (`served`, `shown_to`),
never through a registry directly: what a request may not list it may not call, read or get
either, and it is refused exactly as a name that was never registered, so a hidden
component cannot be probed for. Lists are paged by `paginate` (server/utilities/pagination:
the page size is the server's, the cursor opaque to the client)."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING, Any

from mcpkit.protocol.pagination import paginate
from mcpkit.server.catalog.calling.result_budget import RESULT_SCHEME
from mcpkit.server.catalog.calling.result_store import read_result
from mcpkit.server.catalog.calling.tool_calls import run_as_set
from mcpkit.server.catalog.feature_server import FeatureServer
from mcpkit.server.catalog.prompts import render_prompt
from mcpkit.server.catalog.registry import Registry
from mcpkit.server.catalog.resources import ResourceSpec, TemplateSpec, read_spec
from mcpkit.server.catalog.tools import ToolSpec
from mcpkit.server.catalog.views import client_renders_views
from mcpkit.server.catalog.visibility.access import visible
from mcpkit.server.catalog.visibility.rules import Visibility
from mcpkit.server.catalog.visibility.shown_to import seen_by, served, shown_to
from mcpkit.server.handlers.mounted_lists import as_mounted_servers_list
from mcpkit.server.handlers.tool_search import call_search_tool, list_with_search
from mcpkit.server.session import ServerSessionHandle, session_of
from mcpkit.server.tasks.augmented import check_task_support, start_tool_task
from mcpkit.server.tasks.extension import call_tool_as_extension
from mcpkit.types import (
    CallToolRequestParams,
    CallToolResult,
    CreateTaskResult,
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
from mcpkit.types.apps_extension import UI_EXTENSION

if TYPE_CHECKING:
    from mcpkit.server.context import Context

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


async def _page(
    server: FeatureServer, ctx: Context, registry: Registry[Any], params: PaginatedRequestParams
) -> tuple[list[Any], str | None]:
    """One page of the wire objects of a registry's items the caller may see, and the
    cursor of the next page."""
    items = await _listed(server, ctx, registry)
    # Paged after filtering: a page never comes back short because of hidden items, and a
    # cursor counts only what this caller can see.
    page, cursor = paginate(items, params.cursor, server.page_size)
    return [spec.wire for spec in page], cursor


async def _listed(server: FeatureServer, ctx: Context, registry: Registry[Any]) -> Sequence[Any]:
    """A registry's items the caller may see, those of mounted servers as their middleware
    lists them.

    Mounted servers' items go through `as_mounted_servers_list` so that a mount's own
    middleware (which may leave items out or edit them) shapes what the parent lists, as it
    would shape a call of the item."""
    if seen_by(server, ctx) is not server:  # (a session shows again what the server hides)
        registry = registry.unfiltered()
    items = shown_to(server.visibility, ctx, registry, visible(registry.items(), ctx.auth))
    return await as_mounted_servers_list(ctx, registry, items) if ctx.server.mounts else items


async def list_tools(
    server: FeatureServer, ctx: Context, params: PaginatedRequestParams
) -> ListToolsResult:
    """tools/list (server/tools): one page of the tools the caller may see, as its client
    can use them.

    Three shapes: with tool search, the pinned tools and the search pair; for a client
    that renders MCP Apps views (or a server with none), the tools as registered; else the
    text-only fallback, where a tool meant for views alone would be a tool the model can
    never usefully call, so it is left out."""
    if (search := server.tool_search) is not None:  # docs/compose.md, "Large catalogs"
        return list_with_search(server, ctx, search, params)
    declared = server.capabilities().extensions  # (a server with views declares MCP Apps)
    if (
        not declared
        or UI_EXTENSION not in declared
        or client_renders_views(ctx.client_capabilities)
    ):
        tools, cursor = await _page(server, ctx, server.tools, params)
        return ListToolsResult(tools=tools, next_cursor=cursor)
    # MCP Apps' text-only fallback (docs/apps.md): no UI metadata, and no tool for views
    # alone, for a client that renders none.
    listed = await _listed(server, ctx, server.tools)
    shown = [spec for spec in listed if spec.ui is None or spec.ui.for_model]
    page, cursor = paginate(shown, params.cursor, server.page_size)
    return ListToolsResult(tools=[spec.shown_wire for spec in page], next_cursor=cursor)


async def call_tool(
    server: FeatureServer, ctx: Context, params: CallToolRequestParams
) -> CallToolResult | CreateTaskResult | dict[str, Any]:
    """tools/call (server/tools): run the tool `params.name` names for this caller.

    An unknown or hidden tool is a protocol error (`served` raises it; server/tools, Error
    Handling); bad arguments and failures inside the tool are a result with `isError`
    (`run_as_set`). Returns a `CreateTaskResult` when the call became a task (2025-11-25),
    or the tasks extension's answer as a plain dict (2026-07-28)."""
    # The tool: one of those no rule, view or scope can refuse (`unjudged_tools`, worked out
    # again after each change of the catalog or of its rules) to a request whose session has
    # no rules of its own; else as `served` judges it.
    name = params.name
    visibility = server.visibility
    count, unjudged = visibility.unjudged_tools
    if count != server.tools.counter.count:
        count, unjudged = visibility.unjudged_tools = _unjudged_tools(visibility, server.tools)
    spec: ToolSpec | None = unjudged.get(name)
    session = ctx.session
    if spec is None or (type(session) is ServerSessionHandle and session.record.components):
        try:
            spec = _judged_tool(server, ctx, name)
        except Exception:  # (a per-request rule is the application's code)
            # The tool search's pair is no tool (their names are refused to tools, and
            # theirs to tools): asked for only where no tool answers the name.
            if (search := server.tool_search) is not None and name in search.names:
                return await call_search_tool(server, ctx, search, params)  # (docs/compose.md)
            raise
    # Task talk is only looked at when either side brought it up: the common call pays
    # nothing for tasks support, and a server that serves no tasks behaves as before them.
    if params.task is None and spec.wire.execution is None:  # the usual call: no task talk
        return await run_as_set(server, spec, params.arguments, ctx)
    return await _call_tool_with_tasks(server, ctx, params, spec)


def _judged_tool(server: FeatureServer, ctx: Context, name: str) -> ToolSpec:
    """The tool `name` as `served` judges it for the request of `ctx`. server/tools, Error
    Handling: an unknown tool is a protocol error (so is a tool for views alone, to a client
    that renders none: it was never listed to it)."""
    found = served(server, ctx, "tool", name)
    assert found is not None  # (None is only for completion's templates)
    judged: ToolSpec = found.item
    return judged


def _unjudged_tools(
    visibility: Visibility, tools: Registry[ToolSpec]
) -> tuple[int, dict[str, ToolSpec]]:
    """The tools of `tools` a request calls as they are found (`Visibility.unjudged_tools`),
    and the count of changes that is true at: none while per-request rules may judge any."""
    count = tools.counter.count
    # A per-request rule here or in a mounted server may hide any tool from any request, so
    # no tool may be called unjudged; scopes and views-only tools depend on the caller too.
    if visibility.request_rules or visibility.rules_below:
        return count, {}
    return count, {
        name: spec
        for name, spec in tools.entries()
        if not spec.scopes and (spec.ui is None or spec.ui.for_model)
    }


async def _call_tool_with_tasks(
    server: FeatureServer, ctx: Context, params: CallToolRequestParams, spec: ToolSpec
) -> CallToolResult | CreateTaskResult | dict[str, Any]:
    """A call of a tool that may be a task, or that asks to be one.

    The two revisions do tasks differently: 2025-11-25 lets the client ask with `task` and
    checks it against the tool's declared `taskSupport`; 2026-07-28 moves tasks to an
    extension where the server alone decides, so `params.task` is not read there."""
    terms = ctx.terms
    if terms is not None and terms.modern:
        arguments = params.arguments

        def run(call_ctx: Context) -> Awaitable[CallToolResult]:
            return run_as_set(server, spec, arguments, call_ctx)

        # 2026-07-28: the tasks extension, where the server decides (SEP-2663).
        answer: CallToolResult | dict[str, Any] = await call_tool_as_extension(
            ctx, server.task_runner, spec, run
        )
        return answer
    return await _call_tool_as_declared(server, ctx, params, spec)


async def _call_tool_as_declared(
    server: FeatureServer, ctx: Context, params: CallToolRequestParams, spec: ToolSpec
) -> CallToolResult | CreateTaskResult:
    """A tool with `execution.taskSupport`, or a call with `task` (basic/utilities/tasks)."""
    task = params.task
    if task is not None and not server.serves_tasks:
        task = None  # not declared, so processed normally ("Task Support and Handling")
    # Raises -32601 for a tool that requires a task called without one, or one that
    # forbids tasks called with one, as "Tool-Level Negotiation" asks.
    check_task_support(spec, task)
    arguments = params.arguments
    if task is None:
        return await run_as_set(server, spec, arguments, ctx)

    def run(task_ctx: Context) -> Awaitable[CallToolResult]:
        return run_as_set(server, spec, arguments, task_ctx)

    # The call returns at once with the task; the tool runs on under the task runner and
    # its result is fetched with tasks/result (basic/utilities/tasks).
    return await start_tool_task(ctx, server.task_runner, task.ttl, run)


async def list_resources(
    server: FeatureServer, ctx: Context, params: PaginatedRequestParams
) -> ListResourcesResult:
    """resources/list (server/resources): one page of the concrete resources the caller may
    see. Templates are listed apart, by resources/templates/list."""
    resources, cursor = await _page(server, ctx, server.resources, params)
    return ListResourcesResult(resources=resources, next_cursor=cursor)


async def list_resource_templates(
    server: FeatureServer, ctx: Context, params: PaginatedRequestParams
) -> ListResourceTemplatesResult:
    """resources/templates/list (server/resources, Resource Templates): one page of the
    URI templates the caller may see."""
    templates, cursor = await _page(server, ctx, server.templates, params)
    return ListResourceTemplatesResult(resource_templates=templates, next_cursor=cursor)


async def read_resource(
    server: FeatureServer, ctx: Context, params: ReadResourceRequestParams
) -> ReadResourceResult:
    """resources/read (server/resources): the contents at `params.uri`, from a registered
    resource or the first template that matches it; -32002 when there is none.

    A URI in the result store's scheme is the rest of a tool result cut at its size budget:
    it is read from the store, which checks that this caller is the one it was made for."""
    if params.uri.startswith(RESULT_SCHEME):  # the overflow of a tool result past its budget
        return await read_result(ctx, params.uri)
    spec, variables = _find(server, ctx, params.uri)
    contents = await read_spec(spec, params.uri, variables, ctx, server.sync_in_thread)
    return ReadResourceResult(contents=contents)


def _find(
    server: FeatureServer, ctx: Context, uri: str
) -> tuple[ResourceSpec | TemplateSpec, dict[str, str]]:
    """The resource at `uri`, else the first template matching it (with its variables);
    -32002 if there is none, or if the request of `ctx` may not see it; a scope error if
    its token may not read it (`served`)."""
    found = served(server, ctx, "resource", uri)
    assert found is not None  # (None is only for completion's templates)
    return found.item, found.variables


async def subscribe(
    server: FeatureServer, ctx: Context, params: SubscribeRequestParams
) -> EmptyResult:
    """resources/subscribe (server/resources, Subscriptions): this session will hear
    notifications/resources/updated for `params.uri`.

    Subscriptions live on the session, since updates go to the sessions that asked:
    `session_of` refuses a 2026-07-28 request, whose client has no session."""
    # Only what exists, and what the caller may read, can be subscribed to: else a client
    # could learn of a hidden resource from the updates it would then be sent.
    _find(server, ctx, params.uri)
    session_of(ctx.session, "resources/subscribe").subscribe(params.uri)
    await server.sync_subscriptions()  # (a mounted proxy subscribes upstream before we answer)
    return EmptyResult()


async def unsubscribe(
    server: FeatureServer, ctx: Context, params: UnsubscribeRequestParams
) -> EmptyResult:
    """resources/unsubscribe: forget this session's subscription to `params.uri`. Not
    looked up: a URI removed or hidden since must still be one the client can let go of."""
    session_of(ctx.session, "resources/unsubscribe").unsubscribe(params.uri)
    await server.sync_subscriptions()
    return EmptyResult()


async def list_prompts(
    server: FeatureServer, ctx: Context, params: PaginatedRequestParams
) -> ListPromptsResult:
    """prompts/list (server/prompts): one page of the prompts the caller may see."""
    prompts, cursor = await _page(server, ctx, server.prompts, params)
    return ListPromptsResult(prompts=prompts, next_cursor=cursor)


async def get_prompt(
    server: FeatureServer, ctx: Context, params: GetPromptRequestParams
) -> GetPromptResult:
    """prompts/get (server/prompts): the prompt's messages for `params.arguments`. An
    unknown or hidden prompt is -32602, as the spec's Error Handling lists it; missing
    required arguments are refused by `render_prompt`."""
    found = served(server, ctx, "prompt", params.name)
    assert found is not None  # (None is only for completion's templates)
    arguments: dict[str, Any] | None = params.arguments
    return await render_prompt(found.item, arguments, ctx, server.sync_in_thread)
