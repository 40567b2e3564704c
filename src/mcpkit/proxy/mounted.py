"""A `ProxyServer` mounted in another server (`server.mount(proxy, "ns")`): the upstream's tools,
prompts, resources and resource templates become the proxy's own entries when the parent
starts, each forwarding its request on the upstream session of its client session (a 2025
one's own, `mcpkit.proxy.client_links`) or on one of the proxy's pooled ones, with the
upstream's progress, log messages and questions going to the request being served, through its
Context (`mcpkit.proxy.mounted_calls`). A read of a template's match and a completion go up as
they are (`MountedUpstream`): the upstream answers them by its own URIs and names. What the
parent's clients follow of its resources is followed upstream, and the updates passed on
(`MountedUpstream`).

The Context asks the way its request does (`mcpkit.server.asking.client_asks`), so one path serves
both eras: a 2025-11-25 client is sent the upstream's question on its session; under
2026-07-28 the question ends the round, the upstream call is cancelled, and the retry runs the
call again with the answer given (as a tool of the parent's own is run again: docs/server.md,
"Tools that ask"). Cancelling the request cancels the upstream call.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar, cast

import msgspec

from mcpkit.errors import McpError
from mcpkit.protocol import codes
from mcpkit.proxy.mounted_calls import Upstreams, forward
from mcpkit.proxy.upstream_link import LIST_CHANGES
from mcpkit.server.catalog.feature_server import FeatureServer
from mcpkit.server.catalog.prompts import PromptSpec, make_prompt
from mcpkit.server.catalog.registry import Registry
from mcpkit.server.catalog.resources import ResourceSpec, TemplateSpec, make_resource, make_template
from mcpkit.server.catalog.tools import ToolSpec, check_tool_name, make_tool
from mcpkit.server.catalog.visibility.tags import labelled_as_sent
from mcpkit.server.context import Context
from mcpkit.server.handlers import Handler
from mcpkit.server.mount import followed_uris
from mcpkit.stores.broker import Change
from mcpkit.types import (
    CallToolRequestParams,
    CallToolResult,
    CompleteRequestParams,
    CompleteResult,
    GetPromptRequestParams,
    GetPromptResult,
    Prompt,
    ReadResourceRequestParams,
    ReadResourceResult,
    Resource,
    ResourceTemplate,
    TextResourceContents,
    Tool,
)

if TYPE_CHECKING:
    from mcpkit.proxy.upstream_link import Link
    from mcpkit.server.server import Server

__all__ = ["MountedUpstream", "load_catalog"]

T = TypeVar("T")

logger = logging.getLogger("mcpkit.proxy")


async def load_catalog(proxy: Server, links: Upstreams) -> None:
    """Register the upstream's tools, prompts, resources and resource templates (listed on
    one of the pool's links) in `proxy` (mounted, so its parent shows them), each forwarding
    to the upstream on the link of its request (`links`)."""
    pool = links.pool
    facts = await pool.facts()
    link = await pool.acquire(None)
    declared = facts.capabilities
    if declared.tools is not None:
        tools = await _listed(link, "tools/list", "tools")
        shown = (t for t in tools if _valid(t.name) and _callable(t))
        _renew(proxy.tools, {t.name: _tool_spec(links, t) for t in shown})
    if declared.prompts is not None:
        prompts = await _listed(link, "prompts/list", "prompts")
        _renew(proxy.prompts, {p.name: _prompt_spec(links, p) for p in prompts})
    if declared.resources is not None:
        resources = await _listed(link, "resources/list", "resources")
        _renew(proxy.resources, {r.uri: _resource_spec(links, r) for r in resources})
        found = await _listed(link, "resources/templates/list", "resource_templates")
        templates = (_template_spec(t) for t in found)
        _renew(proxy.templates, {t.wire.uri_template: t for t in templates if t is not None})


def _renew(registry: Registry[T], entries: dict[str, T]) -> None:
    """`registry` holding `entries` alone (each change is announced as a registration is)."""
    for key in registry.own_keys():  # hidden ones too (a proxy's `disable()`)
        if key not in entries:
            registry.remove(key)
    for key, item in entries.items():
        registry.add(key, item, replace=True)


async def _listed(link: Link, method: str, field: str) -> list[Any]:
    """Every page of an upstream list."""
    items: list[Any] = []
    cursor: str | None = None
    while True:
        params = {} if cursor is None else {"cursor": cursor}
        page = await link.send(method, params, timeout=link.settings.upstream_timeout)
        items.extend(getattr(page, field))
        cursor = page.next_cursor
        if not cursor:
            return items


def _valid(tool_name: str) -> bool:
    """Whether an upstream tool's name is one a tool may have; one that is not is left out,
    and said so, rather than keep the parent from starting."""
    try:
        check_tool_name(tool_name)
    except ValueError as exc:
        logger.warning("the upstream's tool is not shown: %s", exc)
        return False
    return True


def _task_support(tool: Tool) -> str | None:
    return None if tool.execution is None else tool.execution.task_support


def _callable(tool: Tool) -> bool:
    """Whether the parent can call an upstream tool: one that must be called as a task is
    left out, and said so, since every call goes upstream as a plain request."""
    if _task_support(tool) != "required":
        return True
    logger.warning(
        "the upstream's tool %r is not shown: it must be called as a task upstream, and a "
        "mounted proxy calls its upstream's tools as plain requests",
        tool.name,
    )
    return False


def _tool_spec(links: Upstreams, tool: Tool) -> ToolSpec:
    async def call(ctx: Context, **arguments: Any) -> CallToolResult:
        params = CallToolRequestParams(name=tool.name, arguments=arguments)
        return cast(CallToolResult, await forward(links, ctx, "tools/call", params))

    # Shown as the upstream describes it, and called upstream as a plain request. One that
    # may be a task is one here too: the parent runs it as a task of its own (its task
    # store, its polling), whose work is the plain call upstream.
    execution = tool.execution if _task_support(tool) == "optional" else None
    wire = msgspec.structs.replace(tool, execution=execution)
    return labelled_as_sent(dataclasses.replace(make_tool(call, name=tool.name), wire=wire))


def _prompt_spec(links: Upstreams, prompt: Prompt) -> PromptSpec:
    async def get(ctx: Context, **arguments: str) -> GetPromptResult:
        params = GetPromptRequestParams(name=prompt.name, arguments=arguments or None)
        return cast(GetPromptResult, await forward(links, ctx, "prompts/get", params))

    return labelled_as_sent(dataclasses.replace(make_prompt(get, name=prompt.name), wire=prompt))


def _resource_spec(links: Upstreams, resource: Resource) -> ResourceSpec:
    async def read(ctx: Context) -> list[Any]:
        params = ReadResourceRequestParams(uri=resource.uri)
        result = cast(ReadResourceResult, await forward(links, ctx, "resources/read", params))
        return list(result.contents)

    spec = make_resource(read, resource.uri, mime_type=resource.mime_type)
    return labelled_as_sent(dataclasses.replace(spec, wire=resource))


def _template_spec(template: ResourceTemplate) -> TemplateSpec | None:
    """The upstream's template, shown as it describes it; one the parent could not route
    reads by is left out, and said so (as a tool's invalid name is)."""
    try:
        spec = make_template(_read_by_uri, template.uri_template, mime_type=template.mime_type)
    except ValueError as exc:
        logger.warning("the upstream's resource template is not shown: %s", exc)
        return None
    return labelled_as_sent(dataclasses.replace(spec, wire=template))


def _read_by_uri(ctx: Context) -> list[TextResourceContents]:
    """A proxied template's function, which a read never reaches: its matches are read
    upstream by their URI (`ProxyServer.read_resource`: `mounted_calls.read_upstream`), since
    a template's function is given the variables alone, and the upstream may match them
    differently."""
    raise McpError(
        codes.INTERNAL_ERROR,
        "a resource template of a mounted proxy is read by its URI (ProxyServer.read_resource)",
    )


# -------------------------------------------------------- changes, subscriptions


class MountedUpstream:
    """What a mounted proxy keeps up with of its upstream (reached by `pool`): its entries,
    listed when the parent starts and again on each list change; the resource subscriptions
    its parent's clients call for (2025 subscriptions, 2026 listens), one per upstream URI,
    held on the pool's link that hears the upstream's changes and dropped when nobody follows
    the URI any more; and the updates of those resources, passed to the parent's followers.
    It also serves what the parent routes to the proxy and no entry's function can
    (`handlers`: a read of a template's match, a completion, by the upstream's own URI)."""

    def __init__(
        self,
        proxy: Server,
        links: Upstreams,
        spawn: Callable[[Coroutine[Any, Any, Any]], object],
    ) -> None:
        self.proxy = proxy
        self.links = links
        self.pool = links.pool
        self._spawn = spawn  # (the proxy's background tasks)
        #: The upstream URIs subscribed to.
        self.held: set[str] = set()
        self._lock = asyncio.Lock()
        #: What serves a request routed to the proxy (`ProxyServer._mounted_handler`).
        self.handlers: dict[str, Handler] = {
            "resources/read": self._read,
            "completion/complete": self._complete,
        }

    async def start(self) -> None:
        """The parent starts: list the upstream's entries, and hear of its changes."""
        self.pool.on_change = self._changed
        self.pool.on_subscriptions_lost = self._resubscribe
        await load_catalog(self.proxy, self.links)

    def _changed(self, change: Change) -> None:
        if change.method in LIST_CHANGES:  # listed again (its clients told as of a registration)
            self._spawn(self._renew_catalog())
        elif change.method == "notifications/resources/updated" and change.uri is not None:
            # Told to the parent's followers by the URI they know it by (`forward_update`).
            self._spawn(self.proxy.notify_resource_updated(change.uri))

    async def _renew_catalog(self) -> None:
        try:
            await load_catalog(self.proxy, self.links)
        except Exception:
            logger.warning("could not list the upstream server's entries again", exc_info=True)

    async def _read(self, server: FeatureServer, ctx: Context, params: Any) -> Any:
        """resources/read: `ProxyServer.read_resource`, which reads a template's match
        upstream."""
        return await ctx.server.read_resource(ctx, params.uri)

    async def _complete(
        self, server: FeatureServer, ctx: Context, params: CompleteRequestParams
    ) -> CompleteResult:
        """completion/complete for one of the upstream's prompts or templates (`params.ref`
        names it as the upstream does), forwarded: the upstream's values, total and
        hasMore. Only what it asks goes up: its `_meta` holds the terms of the front's
        request."""
        asked = CompleteRequestParams(
            ref=params.ref, argument=params.argument, context=params.context
        )
        return cast(CompleteResult, await forward(self.links, ctx, "completion/complete", asked))

    def _resubscribe(self) -> None:
        """The upstream session holding the subscriptions ended: make them on another."""
        self._spawn(self._sync_quietly())

    async def _sync_quietly(self) -> None:
        try:
            await self.sync()
        except Exception:  # (from a task: nobody else would hear of it)
            logger.warning("could not subscribe upstream again", exc_info=True)

    async def sync(self) -> None:
        """Subscribe upstream to what is followed now, and unsubscribe from the rest (one
        sync at a time, each reading what is followed once it runs, so the last one wins)."""
        pool = self.pool
        resources = None if pool.upstream is None else pool.upstream.capabilities.resources
        if resources is None or not resources.subscribe:
            return  # nothing to subscribe to upstream (its updates, if any, still pass)
        async with self._lock:
            if pool.subscribed_on is None:
                self.held = set()  # the link holding them ended, or the proxy stopped
            wanted = followed_uris(self.proxy)
            new, gone = sorted(wanted - self.held), sorted(self.held - wanted)
            await pool.follow(new)
            self.held |= set(new)
            await pool.unfollow(gone)
            self.held -= set(gone)
