"""The upstream sessions of a mounted proxy's parent's 2025 client sessions: one per session,
as the standalone proxy has (docs/proxy.md, "Mounting a proxy").

A 2025-11-25 client session of the parent holds an upstream session of its own (`ClientLinks`),
opened at its first request forwarded to the upstream and closed when the session ends (the
parent's `Server.session_ended`), so what the upstream keeps per session (a counter, the
client's roots) is that client's alone; the client's roots changes are passed up to it
(`Server.session_roots_changed`). The upstream's questions go to the request being
forwarded, through its Context (`mcpkit.proxy.mounted_calls`), or when none is, to the
session's client as a request; its log messages that no request takes, and its
`notifications/elicitation/complete`, go to the session. `max_upstreams` bounds them: a session
past it takes the place of the session idle the longest (its next request opens a new one),
and is refused, naming the setting, when every one has a request in flight.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from typing import TYPE_CHECKING, Any, ClassVar, Final

import msgspec

from mcpkit.errors import McpError
from mcpkit.protocol import codes
from mcpkit.proxy.downstream import LinkedClient
from mcpkit.proxy.mounted_calls import MountedCall
from mcpkit.proxy.owned_links import Closings, open_link
from mcpkit.proxy.upstream_link import Link, LinkSettings
from mcpkit.runtime.background import BackgroundTasks, close_all
from mcpkit.server.session import ServerSessionHandle
from mcpkit.types import ClientCapabilities, LoggingMessageNotificationParams

if TYPE_CHECKING:
    from collections.abc import Callable

    from mcpkit.protocol.events import RequestReceived
    from mcpkit.proxy.pool import LinkPool
    from mcpkit.proxy.upstream_link import Asker, Downstream
    from mcpkit.runtime.connection import ProgressCallback
    from mcpkit.server.context import Context
    from mcpkit.types import InitializeRequestParams

__all__ = ["ClientLinks", "MountedLinks"]

logger = logging.getLogger("mcpkit.proxy")

#: The upstream's questions a session's client can be asked (what the link declares).
_QUESTIONS: Final = frozenset({"elicitation/create", "sampling/createMessage", "roots/list"})
#: Upstream notifications passed down to the session as they are.
_PASSED: Final = frozenset({"notifications/message", "notifications/elicitation/complete"})


class _DownstreamAsker(LinkedClient):
    """The holder of one session's link: the upstream's question goes to the forwarded
    request it most likely belongs to (a mounted entry's call, which asks through its
    Context), else to the session's client as a request of its own."""

    async def ask(
        self, ev: RequestReceived, related: Downstream | None, on_progress: ProgressCallback | None
    ) -> Any:
        if isinstance(related, MountedCall):
            return await related.ask(ev, related, on_progress)
        if ev.method not in _QUESTIONS:
            raise McpError(
                codes.METHOD_NOT_FOUND,
                f"{ev.method} cannot reach the client through a mounted proxy",
            )
        return await super().ask(ev, related, on_progress)


class ClientLinks:
    """The upstream link of each of a parent's 2025 clients, one per client session (see the
    module's docstring); the owner (`mcpkit.proxy.upstream_link.LinkOwner`) of each."""

    after_end: ClassVar[str] = "this session's next request opens a new upstream session"

    def __init__(
        self,
        settings: LinkSettings,
        hello: InitializeRequestParams,
        capacity: int,
        request_timeout: float | None,
        on_notified: Callable[[Link, str, Any], None],
    ) -> None:
        self.settings = settings
        self.hello = hello
        self.capacity = capacity
        #: How long the session's client may take to answer the upstream's question.
        self.request_timeout = request_timeout
        #: Told of the upstream's other notifications (list changes: the proxy's entries).
        self._on_notified = on_notified
        self.links: dict[ServerSessionHandle, Link] = {}
        #: When each link last finished a request (the one idle longest makes room).
        self._last_used: dict[Link, float] = {}
        #: The requests each link serves (from `acquire` to `release`: none, it is idle).
        self._busy: collections.Counter[Link] = collections.Counter()
        self._locks: dict[ServerSessionHandle, asyncio.Lock] = {}
        self._sessions: dict[Link, ServerSessionHandle] = {}
        self._opening = 0
        self._closing = False
        #: Links being closed in a task of their own (their upstream session ended on its
        #: own, or their client session did): `aclose` waits for those closes too.
        self._ending = Closings()
        self._tasks = BackgroundTasks()

    async def acquire(self, handle: ServerSessionHandle, ctx: Context) -> Link:
        """The upstream session of `handle`, opened now if it has none (one, however many of
        its requests come at once)."""
        link = self.links.get(handle)
        if link is None or link.ended is not None:
            async with self._locks.setdefault(handle, asyncio.Lock()):
                link = self.links.get(handle)
                if link is None or link.ended is not None:
                    link = await self._open(handle, ctx)
        self._busy[link] += 1
        return link

    def release(self, link: Link) -> None:
        """A request forwarded on `link` ended."""
        self._busy[link] -= 1
        if self._busy[link] <= 0:
            del self._busy[link]
        if link in self._last_used:
            self._last_used[link] = time.monotonic()

    def holds(self, handle: ServerSessionHandle) -> bool:
        """Whether session `handle` has an upstream session, or is opening one."""
        return handle in self.links or handle in self._locks

    async def _open(self, handle: ServerSessionHandle, ctx: Context) -> Link:
        if self._closing or handle.connection.closed:
            raise McpError(codes.INTERNAL_ERROR, "this session has ended")
        if len(self.links) + self._opening >= self.capacity:
            await self._make_room()
        self._opening += 1
        try:
            holder = _DownstreamAsker(handle, self.request_timeout)
            link, _ = await open_link(self.settings, self, holder, self._hello_of(ctx))
        finally:
            self._opening -= 1
        ended = handle.connection.closed or handle not in self._locks  # (`drop` took it)
        if self._closing or ended or link.ended is not None:
            await link.aclose()  # the session (or the proxy, or the upstream) ended meanwhile
            raise McpError(codes.INTERNAL_ERROR, "this session has ended")
        existing = self.links.get(handle)
        if existing is not None and existing.ended is None:
            await link.aclose()  # one was opened meanwhile (by a request its end let in)
            return existing
        self.links[handle] = link
        self._sessions[link] = handle
        self._last_used[link] = time.monotonic()
        return link

    def _hello_of(self, ctx: Context) -> InitializeRequestParams:
        """The upstream session opened as the session's client: its name, and what the
        proxy can pass on of its capabilities (sampling, elicitation, roots, their list
        changes too)."""
        declared = ctx.client_capabilities
        caps = ClientCapabilities(
            sampling=declared.sampling, elicitation=declared.elicitation, roots=declared.roots
        )
        info = ctx.client_info or self.hello.client_info
        return msgspec.structs.replace(self.hello, capabilities=caps, client_info=info)

    async def _make_room(self) -> None:
        """End the upstream session idle the longest (no request in flight on it); refuse,
        naming the setting, when every one is busy."""
        idle = [link for link in self.links.values() if link.opened and not self._busy[link]]
        if not idle:
            raise McpError(
                codes.INTERNAL_ERROR,
                f"this proxy's {self.capacity} upstream sessions are all serving requests "
                "(max_upstreams): retry once one has ended, or raise max_upstreams",
            )
        oldest = min(idle, key=lambda link: self._last_used.get(link, 0.0))
        await self.drop(self._sessions[oldest])

    async def drop(self, handle: ServerSessionHandle) -> None:
        """End the upstream session of `handle` (its client session ended)."""
        self._locks.pop(handle, None)
        link = self.links.pop(handle, None)
        if link is not None:
            self._forget(link)
            await self._ending.close(link)

    def _forget(self, link: Link) -> None:
        self._last_used.pop(link, None)
        self._sessions.pop(link, None)

    async def aclose(self) -> None:
        """End every session's upstream session (the proxy stops serving)."""
        self._closing = True
        try:
            # All at once, each to its end even when this is cancelled, the first error raised
            # after: an upstream process is then killed and reaped, never left running
            # because another session's close failed or was cancelled first.
            drops = [self.drop(handle) for handle in list(self.links)]
            await close_all([*drops, *(link.aclose() for link in self._ending.take())])
        finally:
            self._closing = False

    # ------------------------------------------------------------ LinkOwner

    def notified(self, link: Link, method: str, params: Any) -> None:
        """An upstream notification no forwarded request took: a log message or an
        elicitation's completion to the session; the rest to the proxy."""
        handle = self._sessions.get(link)
        if method in _PASSED:
            if handle is not None and handle.notifiable:
                link.pass_on(_pass_down(handle, method, params))
            return
        self._on_notified(link, method, params)

    def ended(self, link: Link) -> None:
        """An upstream session ended (its process died, say): the requests in flight fail
        saying so, and the session's next request opens a new one."""
        if not link.closing and link.opened:
            logger.warning("the upstream session of a client session of a mounted proxy ended")
        handle = self._sessions.get(link)
        if handle is not None and self.links.get(handle) is link:
            del self.links[handle]
        self._forget(link)
        if not link.closing:  # what it opened (a process, a connection) is released
            self._tasks.spawn(self._ending.close(link))


async def _pass_down(handle: ServerSessionHandle, method: str, params: Any) -> None:
    """An upstream notification to the session; a log message only at or above the level
    its client set (`logging/setLevel`, served by the parent)."""
    if isinstance(params, LoggingMessageNotificationParams):
        await handle.log(params.level, params.data, logger=params.logger)
    elif method != "notifications/message":
        await handle.notify(method, params)


class MountedLinks:
    """Where a mounted proxy forwards a request: on the upstream session of its 2025 client
    session (`ClientLinks`), or, for a 2026-07-28 request, which names no session, on one of
    the pool's (`mcpkit.proxy.pool`)."""

    def __init__(self, pool: LinkPool, sessions: ClientLinks) -> None:
        self.pool = pool
        self.sessions = sessions

    async def acquire(self, caller: Asker, ctx: Context) -> Link:
        """The link for the request of `ctx` (`caller` holds a pooled one to its end)."""
        handle = _session_of(ctx)
        if handle is None:
            return await self.pool.acquire(caller, ctx.client_capabilities)
        return await self.sessions.acquire(handle, ctx)

    def release(self, link: Link, caller: Asker) -> None:
        if link.owner is self.sessions:
            self.sessions.release(link)
        else:
            self.pool.release(link, caller)


def _session_of(ctx: Context) -> ServerSessionHandle | None:
    """The 2025 client session of the request of `ctx`, if it has one (a 2026-07-28 request
    has none, whatever carries it)."""
    terms = ctx.terms
    if terms is not None and terms.modern:
        return None
    session = ctx.session
    return session if isinstance(session, ServerSessionHandle) else None
