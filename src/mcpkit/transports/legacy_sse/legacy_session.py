"""One legacy HTTP+SSE session (protocol 2024-11-05, "HTTP with SSE"): the channel between its
POSTs, its protocol session and its one SSE stream, and the session that owns them."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from typing import Final

from mcpkit.errors import ConnectionClosed
from mcpkit.protocol.events import RequestInfo
from mcpkit.protocol.server_session import ServerSession
from mcpkit.stores.sessions import owner_key
from mcpkit.transports.http.live_sessions import HostServer, SessionHandle
from mcpkit.transports.http.stream_storing import QueuedBudget
from mcpkit.transports.http.streams import Stream
from mcpkit.types import RequestId

__all__ = ["MAX_WAITING_BODIES", "MAX_WAITING_BYTES", "LegacyChannel", "LegacySession"]

#: POST bodies of one session waiting to be read, past which more are refused (429): the
#: session reads no body while its client is not reading the stream, and each waiting POST
#: holds its body.
MAX_WAITING_BODIES: Final = 64
#: Bytes of those bodies past which more are refused the same way (one body is always taken
#: when none waits, up to the app's max_message_size).
MAX_WAITING_BYTES: Final = 1024 * 1024

# Request ids remembered as in flight before the finished ones are pruned: bounds the set a
# client that pipelines many quick requests between two idle checks makes us hold.
_PRUNE_ABOVE: Final = 64

#: A POST body waiting for the session: its bytes, the request's facts (headers, address,
#: token) for handlers, and the future its POST awaits (resolved by `body_read`).
_Body = tuple[bytes, RequestInfo, "asyncio.Future[list[bytes]]"]


class LegacyChannel:
    """A `MessageChannel` for one legacy session: no routing, since every message goes on the
    session's one SSE stream (`stream`, bounded: a slow reader makes the writer wait, and the
    runtime then stops reading bodies, so memory stays bounded). It implements
    `receive_with_info` (handlers see the POST's headers) and `body_read` (so a POST learns
    whether its body was refused as a whole: 400, with the JSON-RPC error in the answer).
    `budget`: the app's bytes for slow readers, which the stream is charged against."""

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, budget: QueuedBudget | None = None
    ) -> None:
        self.stream = Stream(budget=budget)
        # Requests received, maybe still being served: the session is not idle while one is.
        self.started: set[RequestId] = set()
        self._clock = clock
        # Unbounded as a queue, bounded by `full`: the endpoint refuses a POST before putting.
        # None is the end marker `close` puts, which ends `receive`.
        self._inbox: asyncio.Queue[_Body | None] = asyncio.Queue()
        # The future of the body being read; `body_read` resolves it once the runtime has
        # parsed the body and knows whether it was refused.
        self._current: asyncio.Future[list[bytes]] | None = None
        self._pending = 0  # bodies handed in and not yet read
        self._pending_bytes = 0  # their size
        #: When the session last took a body or sent a message (for its idle timeout).
        self.active_at = clock()
        self.closed = False

    @property
    def writable(self) -> bool:
        """The runtime sends while this is true; a closed stream takes nothing more."""
        return not self.closed

    @property
    def busy(self) -> bool:
        """Whether a body waits to be read (served requests are the session's to judge)."""
        return self._pending > 0

    @property
    def full(self) -> bool:
        """Whether no more bodies are taken for now: MAX_WAITING_BODIES or MAX_WAITING_BYTES
        wait to be read already, or answers wait for the client to read its stream (a POST
        taken then could only add one more answer that nobody reads)."""
        return (
            self._pending >= MAX_WAITING_BODIES
            or self._pending_bytes >= MAX_WAITING_BYTES
            or self.stream.backed_up
        )

    def touch(self) -> None:
        """Note activity now: a body came in, or a message went out."""
        self.active_at = self._clock()

    def submit(self, data: bytes, info: RequestInfo) -> asyncio.Future[list[bytes]]:
        """Hand a POST body to the session: the future resolves to the answers refusing the
        body as a whole (empty: accepted) once the session has read it."""
        if self.closed:
            raise ConnectionClosed("the session has ended")
        # Counted now, uncounted when the session reads it: `full` sees bodies still waiting.
        read: asyncio.Future[list[bytes]] = asyncio.get_running_loop().create_future()
        self._pending += 1
        self._pending_bytes += len(data)
        self.touch()
        self._inbox.put_nowait((data, info, read))
        return read

    # -------------------------------------------------------- MessageChannel

    async def receive(self) -> bytes:
        """The next POST body, for a runtime that does not want the request's facts."""
        return (await self.receive_with_info())[0]

    async def receive_with_info(self) -> tuple[bytes, RequestInfo | None]:
        """The next POST body with its request's facts, in the order the POSTs came;
        ConnectionClosed once the channel is closed. The runtime reads one body at a time and
        calls `body_read` after each, before the next receive."""
        item = await self._inbox.get()
        if item is None:
            raise ConnectionClosed("the session has ended")
        data, info, self._current = item
        self._pending -= 1
        self._pending_bytes -= len(data)
        return data, info

    def body_read(
        self, info: RequestInfo | None, started: Sequence[RequestId], refused: Sequence[bytes]
    ) -> None:
        """The runtime has read the last body: `started` are the requests it began, `refused`
        the answers refusing the body as a whole. Wakes the POST waiting on it."""
        read, self._current = self._current, None
        self.started.update(started)
        self.touch()
        if read is not None and not read.done():
            read.set_result(list(refused))

    async def send(self, data: bytes) -> None:
        """Queue a message on the SSE stream, waiting while the stream's queue is full: the
        session's writer slows to the client's reading, and `full` refuses new POSTs."""
        if self.closed:
            raise ConnectionClosed("the session's SSE stream has ended")
        if data:  # an empty message ends a cancelled request's answer: nothing to send
            await self.stream.put(data)
            self.touch()

    async def aclose(self) -> None:
        self.close()

    def close(self) -> None:
        """End the SSE stream, fail the bodies never read, and end `receive`."""
        if self.closed:
            return
        self.closed = True
        self.stream.end()
        # A POST still waiting on its body gets ConnectionClosed (its handler answers 404)
        # instead of waiting for a read that will never happen.
        while not self._inbox.empty():
            item = self._inbox.get_nowait()
            if item is not None and not item[2].done():
                item[2].set_exception(ConnectionClosed("the session has ended"))
        self._inbox.put_nowait(None)


class LegacySession:
    """A legacy client's session: its channel and the running protocol session. It lives as
    long as its SSE stream: the GET ending ends it."""

    __slots__ = ("channel", "handle", "server", "task")

    def __init__(self, server: HostServer, channel: LegacyChannel, handle: SessionHandle) -> None:
        self.server = server
        self.channel = channel
        self.handle = handle
        self.task = asyncio.get_running_loop().create_task(handle.run())
        # A session whose runtime ends on its own (a failure) ends its stream too.
        self.task.add_done_callback(lambda _: channel.close())

    @property
    def owner(self) -> str | None:
        """Who opened it, as `HttpSession.owner`."""
        return self.handle.record.owner

    @owner.setter
    def owner(self, identity: object) -> None:
        self.handle.record.owner = owner_key(identity)
        self.handle.dirty = True

    @property
    def idle_since(self) -> float | None:
        """When the session last had something to do; None while it has (a body to read, a
        request being served). Its open stream alone does not count: a legacy session always
        has one, and one that is never used would otherwise live forever."""
        channel = self.channel
        if channel.busy or self._serving():
            return None
        return channel.active_at

    def _serving(self) -> bool:
        """Whether a request of this session is still being served; forgets finished ones.
        A connection holding no ServerSession (none yet) serves nothing."""
        session = self.handle.connection.session
        started = self.channel.started
        if not isinstance(session, ServerSession):
            return False
        for request_id in [rid for rid in started if not session.is_inflight(rid)]:
            started.discard(request_id)
        return bool(started)

    def prune(self) -> None:
        """Forget finished requests once many are remembered (called per body)."""
        if len(self.channel.started) > _PRUNE_ABOVE:
            self._serving()

    async def end(self) -> None:
        """End the session and free what it holds: the stream ends, handlers are cancelled.

        Safe to call twice (the GET's end and a shutdown may both call it). It leaves the
        server's sessions first, so no notification is queued for a stream that is ending.
        """
        self.server.sessions.discard(self.handle)
        self.channel.close()
        await self.handle.connection.aclose()
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
