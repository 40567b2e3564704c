"""`KeepAlive`: a `ping` to the client of each 2025-era session that keeps a stream open and
has been quiet for a while, and the end of a session whose client stopped answering.

Spec: basic/utilities/ping ("Implementations SHOULD periodically issue pings to detect
connection health"; a ping unanswered within a reasonable timeout may end the
connection). A session is pinged only where the server has a stream to send on: over
Streamable HTTP a request cannot be sent without the GET stream, and a ping that cannot
be delivered would count as a miss the client never saw.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from mcpkit.errors import McpError, TransportError
from mcpkit.server.middleware.typed import InitializeNext, TypedMiddleware
from mcpkit.server.session import ServerSessionHandle

if TYPE_CHECKING:
    from mcpkit.runtime.layers import CallNext
    from mcpkit.server.context import Context
    from mcpkit.types import InitializeRequestParams, InitializeResult

__all__ = ["KeepAlive"]

logger = logging.getLogger("mcpkit.server")


class _Attachable(Protocol):
    """A stream the client may be attached to or not (it reconnects at will)."""

    @property
    def attached(self) -> bool: ...


@runtime_checkable
class _Listened(Protocol):
    """A channel with a stream the client opens apart (Streamable HTTP's GET stream)."""

    @property
    def stream(self) -> _Attachable | None: ...


@runtime_checkable
class _Ended(Protocol):
    """A channel that ends its session itself (an HTTP session: forgotten by its app)."""

    async def end(self) -> None: ...


class _Watch:
    """One session's keepalive: when it was last heard, and how many pings went unanswered."""

    __slots__ = ("heard", "missed", "task")

    def __init__(self, now: float) -> None:
        self.heard = now  # by `clock`: a request or an answered ping
        self.missed = 0
        # Held: a task nobody refers to may be collected before it ends.
        self.task: asyncio.Task[None] | None = None


class KeepAlive(TypedMiddleware):
    """Every `every` seconds, ping the client of each 2025-era session that has an open
    stream to send on (over Streamable HTTP, its GET stream; stdio's and the in-memory
    pair's always are) and from which no request came in that time. A ping unanswered within
    `timeout` seconds (default: `every`) is a miss; after `misses` misses in a row the
    session is ended, as idle expiry ends one (`misses=None`: never, the misses are only
    logged). A 2026-07-28 client has no session to keep: nothing runs for it."""

    def __init__(
        self,
        every: float = 30.0,
        *,
        timeout: float | None = None,
        misses: int | None = 3,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # Refused where written: zero would ping in a tight loop, a negative never wait.
        if every <= 0 or (timeout is not None and timeout <= 0):
            raise ValueError("every and timeout must be positive numbers of seconds")
        if misses is not None and misses < 1:
            raise ValueError(f"misses must be at least 1 (or None), not {misses}")
        self.every = every
        self.timeout = every if timeout is None else timeout
        self.misses = misses
        self.clock = clock
        #: Pings sent, and those answered in time (for a metric, or a test).
        self.sent = 0
        self.answered = 0
        # Session -> its watch; an entry goes when its session's task ends.
        self._watched: dict[object, _Watch] = {}

    @property
    def watched(self) -> int:
        """How many sessions are being kept."""
        return len(self._watched)

    async def on_initialize(
        self, ctx: Context, params: InitializeRequestParams, call_next: InitializeNext
    ) -> InitializeResult:
        """Start keeping the session this initialize opened (2025-11-25 only: a 2026-07-28
        request's peer is no `ServerSessionHandle`)."""
        result = await call_next()  # (a handshake refused inside has no session to keep)
        session = ctx.session
        # One watch per session, however many handshakes pass through it.
        if isinstance(session, ServerSessionHandle) and session not in self._watched:
            watch = self._watched[session] = _Watch(self.clock())
            watch.task = asyncio.get_running_loop().create_task(self._keep(session, watch))
        return result

    async def on_request(self, ctx: Context, method: str, params: Any, call_next: CallNext) -> Any:
        """A request from the client is proof of life: no ping is needed for a while."""
        watch = self._watched.get(ctx.session)
        if watch is not None:  # (a 2026-07-28 request's peer is never watched)
            watch.heard = self.clock()
        return await call_next(params)

    async def _keep(self, session: ServerSessionHandle, watch: _Watch) -> None:
        """The session's loop: wake every `every` seconds, ping if it was quiet, end it
        after too many misses; it stops with the session's connection."""
        try:
            while not session.connection.closed:
                await asyncio.sleep(self.every)
                if session.connection.closed:
                    return
                # Heard from lately, or no stream to ping on: nothing to learn by pinging.
                if self.clock() - watch.heard < self.every or not _listening(session):
                    continue
                if not await self._answered(session, watch):
                    await _end(session)
                    return
        finally:
            # Whichever way the loop ends (connection closed, session ended, task cancelled):
            # an ended session must not be held here for the life of the server.
            del self._watched[session]

    async def _answered(self, session: ServerSessionHandle, watch: _Watch) -> bool:
        """Ping once; False when the session has now missed too many to go on."""
        self.sent += 1
        try:
            await session.request("ping", timeout=self.timeout)
        # A timeout, an error answer or a broken stream: each is a miss (the spec: timeouts
        # SHOULD be treated as connection failures, and ping failures logged).
        except (McpError, TransportError) as exc:
            watch.missed += 1
            logger.info("session %s... missed ping %d: %s", session.id[:8], watch.missed, exc)
            return self.misses is None or watch.missed < self.misses
        self.answered += 1
        watch.missed = 0  # misses count in a row: one answer forgives the rest
        watch.heard = self.clock()
        return True


def _listening(session: ServerSessionHandle) -> bool:
    """Whether a ping could reach the client now (see the module docstring)."""
    channel: object = session.connection.channel
    if not isinstance(channel, _Listened):
        return True  # stdio, the in-memory pair: the one stream is always there
    stream = channel.stream
    return stream is not None and stream.attached


async def _end(session: ServerSessionHandle) -> None:
    """End a session whose client stopped answering, as idle expiry would: an HTTP
    session through its app (which forgets it), any other by closing its connection."""
    # Only the id's start in the log: the whole id is what a client presents to be served.
    logger.warning("session %s... stopped answering pings: ended", session.id[:8])
    channel: object = session.connection.channel
    if isinstance(channel, _Ended):
        await channel.end()
    else:
        await session.connection.aclose()
