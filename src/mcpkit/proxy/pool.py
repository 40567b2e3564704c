"""The upstream sessions that serve a proxy's 2026-07-28 requests (docs/proxy.md, "Clients of
2026-07-28").

A 2026 request has no session of its own: no `initialize` opened one, and over Streamable HTTP
each POST is served alone (`mcpkit.server.request_peer`) and forgotten with its answer. So 2026
requests share a small pool of upstream sessions (`LinkPool`), opened lazily as the proxy
itself. A call that can ask its client something (tools/call, prompts/get, resources/read)
holds a link of its own from its first round to its last, so an upstream request arriving on
that link is surely that call's (a stdio upstream says no more); that link declares upstream
what the call's client declares in its `_meta` (sampling, elicitation, roots: what the proxy
can pass questions on to), so the upstream tool asks only what the client can answer
(`ctx.client_supports` reads the same through the proxy as without it). Links are reused by
calls of clients that declare the same; when the pool is full, the idle link opened first for
other capabilities makes room. Other requests take any link, an idle one first, and new links
for them declare every capability a 2026 client can answer through the proxy. Only the first
live link (`primary`) feeds `subscriptions/listen`: its change notifications are the proxy's,
and it holds the upstream resource subscriptions that listens ask for."""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar, Final

import msgspec

from mcpkit.errors import LocalProtocolError, McpError, TransportError
from mcpkit.protocol import codes
from mcpkit.protocol.jsonrpc import field_of
from mcpkit.proxy.owned_links import Closings, open_link
from mcpkit.proxy.upstream_link import LIST_CHANGES, Asker, Link, LinkSettings
from mcpkit.runtime.background import BackgroundTasks, close_all
from mcpkit.stores.broker import Change
from mcpkit.types import (
    ClientCapabilities,
    ClientCapabilitiesRoots,
    InitializeRequestParams,
    InitializeResult,
)

if TYPE_CHECKING:
    from mcpkit.server.catalog.listeners import Listeners

__all__ = ["LinkPool", "askable"]

logger = logging.getLogger("mcpkit.proxy")

#: Upstream notifications that `subscriptions/listen` carries to 2026 clients.
_CHANGES: Final = LIST_CHANGES | {"notifications/resources/updated"}


class LinkPool:
    """At most `capacity` upstream sessions for 2026 requests (see the module's docstring);
    the owner of each (`mcpkit.proxy.upstream_link.LinkOwner`)."""

    after_end: ClassVar[str] = "the proxy opens a new upstream session for the next request"

    def __init__(
        self,
        settings: LinkSettings,
        hello: InitializeRequestParams,
        capacity: int,
        listeners: Listeners,
        *,
        one_server: bool = True,
    ) -> None:
        self.settings = settings
        #: Whether every link reaches the same server (its changes heard on every link), or
        #: each its own process (a command: each link's changes are news of their own).
        self.one_server = one_server
        self.hello = hello
        self.capacity = capacity
        self.listeners = listeners
        self.links: list[Link] = []
        #: The client capabilities each link declared upstream (their JSON, as a key).
        self.declared: dict[Link, bytes] = {}
        self._opening = 0
        #: The upstream's answer to the latest initialize: its info and capabilities.
        self.upstream: InitializeResult | None = None
        #: URI -> open listens following it, subscribed upstream on `_subscribed_on`.
        self._followed: collections.Counter[str] = collections.Counter()
        self._subscribed_on: Link | None = None
        self._tasks = BackgroundTasks()
        #: Idle links closed to make room, in a task of their own: `aclose` waits for them.
        self._ending = Closings()
        self._first = asyncio.Lock()
        self._closed = False
        #: Told of each change the listens are told of (a mounted proxy renews its entries).
        self.on_change: Callable[[Change], None] | None = None
        #: Told when the link holding the upstream subscriptions ended (a mounted proxy
        #: makes them again on another).
        self.on_subscriptions_lost: Callable[[], None] | None = None

    @property
    def subscribed_on(self) -> Link | None:
        """The link holding the upstream resource subscriptions (`follow`), if one does."""
        return self._subscribed_on

    @property
    def primary(self) -> Link | None:
        """The link whose change notifications reach the listens."""
        return self.links[0] if self.links else None

    async def facts(self, capabilities: ClientCapabilities | None = None) -> InitializeResult:
        """The upstream's info and capabilities (opening a first link when none is open:
        one, however many requests come at once; it declares what the client of the request
        that opens it declares, so the calls of clients like it share it)."""
        if self.upstream is None or not self.links:
            async with self._first:
                if self.upstream is None or not self.links:
                    caps = None if capabilities is None else askable(capabilities)
                    await self._open(None, caps)
        assert self.upstream is not None
        return self.upstream

    async def acquire(
        self, holder: Asker | None, capabilities: ClientCapabilities | None = None
    ) -> Link:
        """A link for one request: with a `holder`, one no other call holds (then held by
        it) that declared `capabilities` upstream (what its client can be asked); without,
        an idle one first, else a new one, else any."""
        caps = self.hello.capabilities if capabilities is None else askable(capabilities)
        declared = msgspec.json.encode(caps)
        idle = [link for link in self.links if link.holder is None]
        alike = (link for link in idle if holder is None or self.declared[link] == declared)
        found = next(alike, None)
        if found is not None:
            found.holder = holder
            return found
        if holder is None and self.links and self._full():
            return self.links[-1]
        if self._full():
            self._make_room(idle)
        return await self._open(holder, caps, declared)

    def _make_room(self, idle: list[Link]) -> None:
        """Close the idle link opened first (not the one the listens hear changes on, nor
        the one holding their subscriptions): a call of other capabilities needs its place."""
        spare = next(
            (link for link in idle if link is not self.primary and link is not self._subscribed_on),
            None,
        )
        if spare is not None:
            self.links.remove(spare)
            self.declared.pop(spare, None)
            self._tasks.spawn(self._ending.close(spare))

    def release(self, link: Link, holder: Asker) -> None:
        if link.holder is holder:
            link.holder = None

    def _full(self) -> bool:
        return len(self.links) + self._opening >= self.capacity

    async def _open(
        self,
        holder: Asker | None,
        capabilities: ClientCapabilities | None = None,
        declared: bytes | None = None,
    ) -> Link:
        if self._closed:
            raise McpError(codes.INTERNAL_ERROR, "this proxy is shutting down")
        if self._full():
            raise McpError(
                codes.INTERNAL_ERROR,
                f"this proxy's {self.capacity} upstream sessions for 2026-07-28 requests are "
                "all held by calls waiting for their clients (max_modern_upstreams): "
                "retry once one has ended, or raise max_modern_upstreams",
            )
        hello = self.hello
        if capabilities is not None and capabilities != hello.capabilities:
            hello = msgspec.structs.replace(hello, capabilities=capabilities)
        self._opening += 1
        try:
            link, upstream = await open_link(self.settings, self, holder, hello)
        finally:
            self._opening -= 1
        self.upstream = upstream
        self.links.append(link)
        self.declared[link] = declared or msgspec.json.encode(hello.capabilities)
        return link

    def notified(self, link: Link, method: str, params: Any) -> None:
        """An upstream change notification: the listens' when it came on the primary link
        (every link to one server hears of a list change; the listens hear of it once), or
        on any link when each is a server process of its own. (A log message no request
        takes, notifications/elicitation/complete and tasks/status have no 2026
        counterpart.)"""
        if method in _CHANGES and (link is self.primary or not self.one_server):
            uri = field_of(params, "uri")
            change = Change(method, uri if isinstance(uri, str) else None)
            self.listeners.deliver(change)
            if self.on_change is not None:
                self.on_change(change)

    def ended(self, link: Link) -> None:
        """A link's upstream session ended: it serves no more requests. When it held the
        resource subscriptions, the listens end (gracefully, so their clients listen
        again, on a new primary link)."""
        if not link.closing:
            logger.warning("an upstream session serving 2026-07-28 requests ended")
        self.declared.pop(link, None)
        if link in self.links:
            self.links.remove(link)
        if link is self._subscribed_on:
            self._subscribed_on = None
            self._followed.clear()
            self.listeners.close_all()
            if self.on_subscriptions_lost is not None:
                self.on_subscriptions_lost()

    async def follow(self, uris: list[str]) -> None:
        """Subscribe upstream to the URIs a listen follows (once per URI for all listens)."""
        if not uris:
            return
        link = self.primary or await self.acquire(None)
        if self._subscribed_on is not link:
            self._subscribed_on, self._followed = link, collections.Counter()
        for uri in uris:
            self._followed[uri] += 1
            if self._followed[uri] == 1:
                await _request(link, "resources/subscribe", uri)

    def unfollow_later(self, uris: list[str]) -> None:
        """`unfollow`, from a task of its own (a listen ends as its request is cancelled)."""
        if uris:
            self._tasks.spawn(self.unfollow(uris))

    async def unfollow(self, uris: list[str]) -> None:
        link = self._subscribed_on
        if link is None:
            return
        for uri in uris:
            self._followed[uri] -= 1
            if self._followed[uri] <= 0:
                del self._followed[uri]
                await _request(link, "resources/unsubscribe", uri)

    async def aclose(self) -> None:
        """Close every link (the proxy stops serving)."""
        self._closed = True
        self._tasks.cancel_all()
        self._subscribed_on, self._followed = None, collections.Counter()
        links, self.links = self.links, []
        ending = self._ending.take()  # (with those of tasks cancelled unstarted)
        self.declared.clear()
        # All at once, each to its end even when this is cancelled: a stdio upstream is then
        # killed and reaped, never left running because a link closed before it was cancelled.
        # (A link closing to make room, its task cancelled above, is waited for: `Link.aclose`
        # called again waits for its first close to end.)
        await close_all(link.aclose() for link in [*links, *ending])
        self.upstream = None
        self._closed = False


def askable(capabilities: ClientCapabilities) -> ClientCapabilities:
    """What of a 2026 client's capabilities an upstream session is told: what the proxy can
    pass the upstream's questions on to (sampling, elicitation, roots; a roots list change is
    not a 2026 notification)."""
    roots = None if capabilities.roots is None else ClientCapabilitiesRoots()
    return ClientCapabilities(
        sampling=capabilities.sampling, elicitation=capabilities.elicitation, roots=roots
    )


async def _request(link: Link, method: str, uri: str) -> None:
    if link.connection is None or link.ended is not None:
        return
    try:
        await link.send(method, {"uri": uri}, timeout=link.settings.upstream_timeout)
    except (McpError, TransportError, TimeoutError, LocalProtocolError) as exc:
        logger.warning("%s %s on the upstream server failed: %s", method, uri, exc)
