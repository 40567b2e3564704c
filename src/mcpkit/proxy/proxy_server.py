"""`ProxyServer`: a `Server` whose every request is another MCP server's to answer, served over
any of our transports (stdio, Streamable HTTP and its authorization, in memory)."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import msgspec

from mcpkit.errors import McpError, ToolError, shown_when_masked
from mcpkit.protocol import codes
from mcpkit.protocol.events import Event, NotificationReceived, RequestReceived
from mcpkit.protocol.modern import ROUND_TRIP_METHODS
from mcpkit.protocol.server_session import ServerSession
from mcpkit.proxy.client_links import ClientLinks, MountedLinks
from mcpkit.proxy.downstream import Down, LinkedClient, ProxiedConnection
from mcpkit.proxy.handshake import ProxiedSession
from mcpkit.proxy.mounted import MountedUpstream
from mcpkit.proxy.mounted_calls import read_upstream
from mcpkit.proxy.own_answers import discover, listen, modern_error
from mcpkit.proxy.pool import LinkPool
from mcpkit.proxy.proxy_settings import (
    DEFAULT_MAX_MODERN_UPSTREAMS,
    DEFAULT_MAX_UPSTREAMS,
    MODERN_CLIENT,
    check_upstream_settings,
    refuse_shared_store,
)
from mcpkit.proxy.round_trips import DEFAULT_INPUT_TIMEOUT, RoundTrips, upstream_params
from mcpkit.proxy.task_owners import TaskOwners
from mcpkit.proxy.upstream_channel import (
    UpstreamTarget,
    one_server,
    open_upstream,
)
from mcpkit.proxy.upstream_link import Link, LinkSettings
from mcpkit.runtime.background import close_all
from mcpkit.runtime.channel import MessageChannel
from mcpkit.runtime.connection import Connection
from mcpkit.runtime.layers import call_through
from mcpkit.server.context import Context
from mcpkit.server.handlers import Handler
from mcpkit.server.handlers.dispatch import session_request
from mcpkit.server.handlers.tasks import polled
from mcpkit.server.server import Server
from mcpkit.server.session import Peer, ServerSessionHandle
from mcpkit.stores.url import Stores
from mcpkit.types import (
    ClientCapabilities,
    InitializeRequestParams,
    InitializeResult,
    ReadResourceResult,
    ServerCapabilities,
)

if TYPE_CHECKING:
    from typing import Unpack

    import httpx

    from mcpkit.transports.deployment.app import HttpSettings, McpHttpApp

__all__ = ["ProxyServer"]

logger = logging.getLogger("mcpkit.proxy")

#: Client notifications the upstream server is told of (the rest are the proxy's own).
_PASSED_UP = frozenset({"notifications/roots/list_changed", "notifications/tasks/status"})
#: Polls answered as plain JSON over Streamable HTTP, as a plain server answers them.
_POLLS = frozenset({"tasks/get", "tasks/list", "tasks/cancel"})


class ProxyServer(Server):
    """A server that serves another MCP server, `target`, over any transport (`run()`,
    `run(transport="http")`, `http_app()`; docs/proxy.md), with one upstream session per
    client session. `target` is a `Server` (in process), a command list or string, a `.py`
    path, `StdioParameters`, or an http(s) URL. `options` are `Server`'s (`auth=` protects
    the HTTP endpoint) beside the proxy's own: `headers` and `upstream_auth` for a URL, and
    `upstream_transport="sse"` for a URL that is an HTTP+SSE endpoint whatever its path
    (by default Streamable HTTP, falling back to HTTP+SSE when refused or at a `/sse` path),
    `stderr` for a command, `connect_timeout`, `upstream_timeout` (seconds a forwarded
    request may take) and `max_upstreams`; for 2026-07-28 clients, `max_modern_upstreams`
    (upstream sessions shared by their requests) and `input_timeout` (seconds an upstream
    call waits for a client's retry with the answers it was asked for)."""

    composable: ClassVar[bool] = False  # its upstream answers every request: it mounts nothing

    def __init__(
        self,
        target: UpstreamTarget,
        *,
        name: str = "mcpkit-proxy",
        headers: Mapping[str, str] | None = None,
        upstream_auth: httpx.Auth | None = None,
        upstream_transport: Literal["auto", "sse"] = "auto",
        stderr: Any = "inherit",
        connect_timeout: float = 30.0,
        upstream_timeout: float | None = 300.0,
        max_upstreams: int = DEFAULT_MAX_UPSTREAMS,
        max_modern_upstreams: int = DEFAULT_MAX_MODERN_UPSTREAMS,
        input_timeout: float = DEFAULT_INPUT_TIMEOUT,
        **options: Any,
    ) -> None:
        if "features" in options or "task_store" in options:
            raise TypeError("a proxy declares what its upstream server declares: no features=")
        if options.get("store") is not None:
            refuse_shared_store(options["store"])
        super().__init__(name, **options)
        legacy_sse = check_upstream_settings(
            target, upstream_transport, max_upstreams, max_modern_upstreams
        )
        self.target = target
        self.max_upstreams = max_upstreams
        #: Who made which task (`auth=` only: without it every requestor is one owner).
        self.task_owners = TaskOwners() if self.auth is not None else None
        #: Each client session's upstream session, which it holds for its whole life.
        self.links: dict[ServerSessionHandle, Link] = {}
        opener = functools.partial(
            open_upstream,
            target,
            headers=headers,
            auth=upstream_auth,
            stderr=stderr,
            max_message_size=self.max_message_size,
            legacy_sse=legacy_sse,
        )
        self._settings = LinkSettings(
            open_channel=opener,
            connect_timeout=connect_timeout,
            upstream_timeout=upstream_timeout,
            max_message_size=self.max_message_size,
            max_json_depth=self.max_json_depth,
            send_high_water=self.send_high_water,
        )
        hello = InitializeRequestParams(
            protocol_version="2025-11-25", capabilities=MODERN_CLIENT, client_info=self.info
        )
        #: The upstream sessions of 2026-07-28 requests; results are decoded (they are
        #: reshaped for the 2026 client).
        self.pool = LinkPool(
            self._settings,
            hello,
            max_modern_upstreams,
            self.listeners,
            one_server=one_server(target),
        )
        #: Mounted: the upstream session of each 2025 client session of the parent.
        self.client_links = ClientLinks(
            self._settings, hello, max_upstreams, self.request_timeout, self.pool.notified
        )
        self.mounted_links = MountedLinks(self.pool, self.client_links)
        #: Mounted: its entries, and the subscriptions its parent's clients call for.
        self.mounted_upstream = MountedUpstream(self, self.mounted_links, self._tasks.spawn)
        #: 2026 calls waiting for their clients' answers (`mcpkit.proxy.round_trips`).
        self.round_trips = RoundTrips(self.pool, self.state_seal, input_timeout)

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncGenerator[ProxyServer, None]:
        """`Server.running`, closing the 2026 requests' upstream sessions after the last
        session served (the HTTP app's lifespan, or the last stdio or in-memory session).
        Mounted in another server, it first registers the upstream's tools, prompts and
        resources, which its parent then shows (`mcpkit.proxy.mounted`)."""
        async with super().running():
            try:
                if self.mounted_in is not None and self._span.users == 1:
                    await self.mounted_upstream.start()
                yield self
            finally:
                if self._span.users == 1:
                    self.round_trips.aclose()
                    # Both to their end, whatever the other does (`close_all`): an upstream
                    # process is never left running because the other close failed first.
                    await close_all((self.client_links.aclose(), self.pool.aclose()))

    # ------------------------------------------------------------ mounted

    def _mounted_handler(self, ctx: Context) -> Handler:
        """Mounted: a read (a template's match too) and a completion are the upstream's to
        answer by its own URI and names; the rest are served by the forwarding entries."""
        return self.mounted_upstream.handlers.get(ctx.method) or super()._mounted_handler(ctx)

    async def read_resource(self, ctx: Context, uri: str) -> ReadResourceResult:
        """`Server.read_resource`; mounted, a match of one of the upstream's templates is
        read upstream by its URI, as it is."""
        if self.mounted_in is None or uri in self.resources:
            return await super().read_resource(ctx, uri)
        return await read_upstream(self.mounted_links, ctx, uri)

    def session_roots_changed(self, handle: ServerSessionHandle) -> None:
        """Mounted: a client session of the parent changed its roots, which its upstream
        session, if it has one, is told."""
        link = self.client_links.links.get(handle)
        if link is not None:
            self._tasks.spawn(link.notify_upstream("notifications/roots/list_changed", None))

    def session_ended(self, handle: ServerSessionHandle) -> None:
        """Mounted: a client session of the parent ended, and with it its upstream session."""
        if self.client_links.holds(handle):
            self._tasks.spawn(self.client_links.drop(handle))

    async def sync_subscriptions(self) -> None:
        """Mounted: subscribe upstream to what the parent's clients follow of its resources,
        and unsubscribe from what nobody follows any more (`MountedUpstream`)."""
        if self.mounted_in is not None:
            await self.mounted_upstream.sync()

    def completable(self) -> bool:
        """Mounted: whether the upstream declares completions (its entries are its own)."""
        upstream = self.pool.upstream
        declared = upstream is not None and upstream.capabilities.completions is not None
        return declared and self.mounted_in is not None

    @property
    def link_settings(self) -> LinkSettings:
        """How upstream sessions are opened: results pass down undecoded unless middleware
        (which may read or change them) is installed."""
        return dataclasses.replace(self._settings, raw_results=not self.middleware)

    def use_store(self, store: str | Stores) -> Stores:
        """`Server.use_store`, refusing a store other processes share (`refuse_shared_store`)."""
        refuse_shared_store(store)
        return super().use_store(store)

    def http_app(
        self,
        path: str = "/mcp",
        *,
        store: str | Stores | None = None,
        **settings: Unpack[HttpSettings],
    ) -> McpHttpApp:
        """`Server.http_app`, but never stateless: a proxy session is an upstream session,
        which a fresh session per POST would open and close on every request."""
        if settings.get("stateless"):
            raise ValueError(
                "a proxy cannot serve stateless HTTP (each POST would start its own upstream "
                "session); leave stateless off"
            )
        # The app's session cap is the upstream cap, so a full proxy ends its longest-idle
        # session or answers 503 with Retry-After before an initialize starts an upstream.
        cap = settings.get("max_sessions", self.max_upstreams)
        settings["max_sessions"] = min(cap, self.max_upstreams)
        return super().http_app(path, store=store, **settings)

    def capabilities(self) -> ServerCapabilities:
        """None of its own: each session declares its upstream server's (at initialize)."""
        return ServerCapabilities()

    _session_type = ProxiedSession

    def _connect(
        self, handle: ServerSessionHandle, *, protocol: ServerSession, channel: MessageChannel
    ) -> Connection:
        return ProxiedConnection(
            self.drop_link,
            handle,
            protocol,
            channel,
            on_request=session_request,
            peer=handle,
            on_event=handle.on_event,
            send_high_water=self.send_high_water,
        )

    async def handle_request(self, handle: Peer, ev: RequestReceived) -> Any:
        if ev.method == "initialize":
            assert isinstance(handle, ServerSessionHandle)  # (only a session initializes)
            return await self._initialize(handle, ev.params)
        terms = ev.terms
        forward: Callable[[Any], Awaitable[Any]]
        if terms is not None and terms.modern:
            if ev.method in ("server/discover", "subscriptions/listen"):
                return await self._answer_modern(handle, ev)
            forward = functools.partial(self._modern_forward, handle, ev)
        else:
            link = self.links.get(handle) if isinstance(handle, ServerSessionHandle) else None
            if link is None:  # initialize failed; the client went on regardless
                raise McpError(codes.INTERNAL_ERROR, "this proxy session has no upstream session")
            if ev.method in _POLLS:
                polled(handle, ev.request_id)
            down = Down.of(handle, ev, in_session=True)
            forward = functools.partial(self._forward, link, down, ev)
        if not self.middleware:
            return await forward(ev.params)
        ctx = Context(self, handle, ev)
        try:
            return await call_through(self.middleware, ctx, ev.params, forward)
        except (McpError, ToolError):
            raise
        except Exception as exc:
            if not self.mask_error_details or shown_when_masked(exc):
                raise
            raise McpError(codes.INTERNAL_ERROR, "Internal error") from None

    async def _answer_modern(self, handle: Peer, ev: RequestReceived) -> Any:
        """`server/discover` and `subscriptions/listen` (2026-07-28): the proxy's to answer,
        with what the upstream declares."""
        facts = await self.pool.facts(_capabilities(ev))
        handle.server_info = facts.server_info  # (in every 2026 result's _meta)
        if ev.method == "server/discover":
            return discover(facts, handle.all_revisions)
        return await listen(self.pool, Down.of(handle, ev), ev.params)

    async def _modern_forward(self, handle: Peer, ev: RequestReceived, params: Any) -> Any:
        """A 2026-07-28 request, served by the pool's upstream sessions
        (`mcpkit.proxy.pool`), answered in the upstream server's name."""
        try:
            facts = await self.pool.facts(_capabilities(ev))
            handle.server_info = facts.server_info
            down = Down.of(handle, ev)
            if ev.method in ROUND_TRIP_METHODS:
                return await self.round_trips.serve(down, ev, params)
            link = await self.pool.acquire(None)
            return await link.forward(down, ev, upstream_params(params))
        except McpError as exc:
            raise modern_error(exc) from None

    async def _forward(self, link: Link, down: Down, ev: RequestReceived, params: Any) -> Any:
        """`link.forward`, keeping each identity to its own tasks (`mcpkit.proxy.task_owners`)."""
        owners = self.task_owners
        if owners is None:
            return await link.forward(down, ev, params)
        return await owners.forward(link, down, ev, params)

    def _declared(self, upstream: InitializeResult) -> InitializeResult:
        """The upstream's capabilities, but `tasks.list` without `auth=`: every requestor is
        then one owner, so a list would show each client the others' tasks (as a plain
        server, which offers it only with `auth=`)."""
        tasks = upstream.capabilities.tasks
        if tasks is None or tasks.list is None or self.task_owners is not None:
            return upstream
        caps = msgspec.structs.replace(
            upstream.capabilities, tasks=msgspec.structs.replace(tasks, list=None)
        )
        return msgspec.structs.replace(upstream, capabilities=caps)

    async def _initialize(self, handle: ServerSessionHandle, params: Any) -> Any:
        assert isinstance(params, InitializeRequestParams)
        if len(self.links) >= self.max_upstreams:
            # Over HTTP the app's cap (max_sessions, at most max_upstreams) makes room first;
            # this is for the transports whose sessions the proxy alone counts.
            raise McpError(
                codes.INTERNAL_ERROR,
                f"this proxy already serves {self.max_upstreams} sessions (max_upstreams): "
                "try again once one has ended, or raise max_upstreams",
            )
        holder = LinkedClient(handle, self.request_timeout)
        link = self.links[handle] = Link(self.link_settings, holder)
        link.holder = holder
        try:
            upstream = await link.open(params)
        except BaseException as exc:
            await self.drop_link(handle)
            if isinstance(exc, McpError):
                raise
            if isinstance(exc, Exception):
                raise McpError(
                    codes.INTERNAL_ERROR, f"could not reach the upstream server: {exc}"
                ) from exc
            raise
        protocol = handle.protocol
        assert isinstance(protocol, ProxiedSession)
        return protocol.initialize_result(self._declared(upstream))

    def handle_event(self, handle: ServerSessionHandle, ev: Event) -> None:
        if isinstance(ev, NotificationReceived) and ev.method in _PASSED_UP:
            link = self.links.get(handle)
            if link is not None:
                self._tasks.spawn(link.notify_upstream(ev.method, ev.params))
        else:
            super().handle_event(handle, ev)

    async def drop_link(self, handle: ServerSessionHandle) -> None:
        """End the upstream session of `handle` (its client session ended)."""
        link = self.links.pop(handle, None)
        if link is not None:
            await link.aclose()


def _capabilities(ev: RequestReceived) -> ClientCapabilities | None:
    """What a 2026 request's client declares in its `_meta`."""
    return None if ev.terms is None else ev.terms.peer_capabilities
