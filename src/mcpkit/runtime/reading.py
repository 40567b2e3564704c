"""The reading half of a connection: the loop that takes the peer's messages off the channel
(or, for a channel that pushes bodies, `feed`), hands them to the session, and dispatches
what happened.

Reading is where backpressure bites: while the answers we owe the peer are over
`send_high_water` bytes, no new message is read, so a peer that stops reading stops being
served rather than growing us. Two loops, chosen once: `_read_plain` for channels that only
`receive` (stdio, memory: the fast path, with nothing to look up per message) and
`_read_routed` for channels that hand in what the transport knew of each body, or want to
learn which requests a body started (Streamable HTTP).

Each body goes through the same steps, in this order: the session reads it; the channel
learns which requests it started (`body_read`); the events are dispatched (a handler becomes
a task, which first runs when the reader next yields); and what the session answered itself
is queued (`_flush_from_reader`). Nothing is sent before the channel knows where it goes.

`Reader` is the part of a `Connection` that reads: it holds its connection (the session, the
channel, the handlers, the outbound side and the dispatch it hands events to) and owns what
only reading uses: the channel's reading methods and the future `room_to_read` returns.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Final, Protocol

from mcpkit.errors import ConnectionClosed
from mcpkit.protocol.events import Event, RequestInfo, RequestReceived
from mcpkit.protocol.session import Session
from mcpkit.runtime.channel import ChannelExtras, MessageChannel
from mcpkit.runtime.outbound import Outbound
from mcpkit.runtime.reply import Reply
from mcpkit.types import RequestId

__all__ = ["Reader", "ReadsFor"]

logger = logging.getLogger("mcpkit")

# Running handlers above which the reader lets them run before it reads on: a threshold, not
# a limit (that is `max_inflight`), so that a pipelining peer is not refused past the limit.
_YIELD_ABOVE: Final = 16


class ReadsFor(Reply, Protocol):
    """What a `Reader` reads for (a `Connection`): where each body goes, how it ends, and
    where the answers of the requests it starts go (`Reply`)."""

    session: Session
    channel: MessageChannel
    out: Outbound
    handlers: dict[RequestId, asyncio.Task[None]]
    ended: ConnectionClosed | None

    def dispatch(self, events: list[Event]) -> None: ...
    def flush_from_reader(self) -> None: ...
    def shutdown(self, exc: ConnectionClosed) -> None: ...
    async def drain(self, exc: ConnectionClosed) -> None: ...


class Reader:
    """Taking the peer's messages in, for the `Connection` it holds: from the channel (`run`),
    or as the `Feeder` a channel that hands bodies over itself is given (`feed`,
    `room_to_read`, `input_closed`)."""

    __slots__ = ("_body_read", "_receive_with_info", "_room", "connection")

    def __init__(self, connection: ReadsFor, extras: ChannelExtras) -> None:
        self.connection = connection
        # The channel's optional reading methods (`RoutedChannel`), looked up once.
        self._receive_with_info: (
            Callable[[], Awaitable[tuple[bytes, RequestInfo | None]]] | None
        ) = extras.receive_with_info
        self._body_read: Callable[[RequestInfo | None, list[RequestId], list[bytes]], None] | None
        self._body_read = extras.body_read
        self._room: asyncio.Future[None] | None = None  # (`room_to_read`, made at the first)

    async def run(self) -> None:
        """Read and dispatch messages until the channel ends."""
        conn = self.connection
        try:
            if self._receive_with_info is None and self._body_read is None:
                await self._read_plain()
            else:
                await self._read_routed()
        except ConnectionClosed as exc:
            # The peer stopped sending, but may still read: its requests get their answers
            # (for at most drain_timeout), then the connection ends.
            await conn.drain(exc)
            conn.shutdown(exc)
        except asyncio.CancelledError:
            conn.shutdown(ConnectionClosed("the connection was closed"))
            raise
        except Exception as exc:  # a bug of ours: end this connection, not the process
            logger.exception("mcpkit connection failed")
            conn.shutdown(ConnectionClosed(f"the connection failed: {exc!r}"))

    async def _read_plain(self) -> None:
        conn = self.connection
        receive = conn.channel.receive
        out = conn.out
        # (the session's part, not its method that calls it: `Session.receive_data`)
        receiving = conn.session.receiving
        while True:
            # Before each read: whatever is read gets served, so not reading is the only
            # way not to grow while the peer leaves our answers unread.
            if out.answers > out.high:
                await self._wait_for_peer_to_read()
            data = await receive()
            conn.dispatch(receiving.receive_data(data))
            conn.flush_from_reader()
            if len(conn.handlers) > _YIELD_ABOVE:
                # A channel with messages already buffered returns them without ever
                # suspending: give the handlers a turn before taking more, or a peer
                # that pipelines requests has them all refused past max_inflight.
                await asyncio.sleep(0)

    async def _read_routed(self) -> None:
        """The same loop for a channel with `receive_with_info` or `body_read`."""
        conn = self.connection
        receive_with_info = self._receive_with_info
        receive = conn.channel.receive
        body_read = self._body_read
        receiving = conn.session.receiving
        out = conn.out
        while True:
            if out.answers > out.high:
                await self._wait_for_peer_to_read()
            if receive_with_info is not None:
                data, info = await receive_with_info()
            else:
                data, info = await receive(), None
            if body_read is None:
                conn.dispatch(receiving.receive_data(data, info))
            else:
                read = receiving.receive_body(data, info)
                # Before the handlers run or anything is sent: the channel learns where
                # the answers go before the first of them comes. Before dispatch too, so
                # this does not rest on dispatch never sending: an answer reaching the
                # channel first would name a request it has not placed (over HTTP, it
                # would not know which POST's stream the answer ends).
                body_read(info, read.started, read.refused)
                conn.dispatch(read.events)
                del read
            del data, info  # an idle session must not keep its last body and headers alive
            conn.flush_from_reader()
            if len(conn.handlers) > _YIELD_ABOVE:
                await asyncio.sleep(0)

    def room_to_read(self) -> Awaitable[None]:
        """Done once another body may be fed (see `runtime.channel.Feeder`)."""
        conn = self.connection
        out = conn.out
        if out.answers > out.high or conn.ended is not None:
            return self._room_later()
        # The common case, every body: a future already done, which awaiting returns at
        # once without the coroutine a call of an `async def` makes.
        room = self._room
        if room is None:
            room = self._room = asyncio.get_running_loop().create_future()
            room.set_result(None)
        return room

    async def _room_later(self) -> None:
        conn = self.connection
        if conn.out.answers > conn.out.high:
            await self._wait_for_peer_to_read()
        if conn.ended is not None:
            raise ConnectionClosed(str(conn.ended))

    def feed(
        self, data: bytes, info: RequestInfo | None, *, hold: bool = False
    ) -> RequestReceived | None:
        """Read one body now, in the caller's task: what `run()` does after each receive.
        With `hold`, a body that started one request hands it back instead of to a task of
        its own, an exchange for the caller to serve in its task (`runtime.connection.serve`);
        None otherwise."""
        conn = self.connection
        if conn.ended is not None:
            raise ConnectionClosed(str(conn.ended))
        try:
            if self._body_read is None:
                conn.dispatch(conn.session.receiving.receive_data(data, info))
            else:
                read = conn.session.receiving.receive_body(data, info)
                self._body_read(info, read.started, read.refused)  # first, as in `run()`
                events = read.events
                if hold and len(events) == 1 and type(events[0]) is RequestReceived:
                    # The common case: one request, and nothing else. The session answered
                    # nothing itself, and what others queued is sent by whoever queued it.
                    return events[0]
                conn.dispatch(events)
            conn.flush_from_reader()
            return None
        except Exception as exc:  # a bug: the reader task would have ended the same way
            logger.exception("mcpkit connection failed")
            closed = ConnectionClosed(f"the connection failed: {exc!r}")
            conn.shutdown(closed)
            raise closed from exc

    def input_closed(self) -> None:
        """No body will come any more: end now. Unlike `run()` when `receive` ends, there is
        no drain: requests still being served are cancelled."""
        self.connection.shutdown(ConnectionClosed("the connection was closed"))

    async def _wait_for_peer_to_read(self) -> None:
        conn = self.connection
        logger.debug(
            "%d bytes of answers wait for the peer to read them: reading paused", conn.out.answers
        )
        await conn.out.answer_room.wait()
        if conn.ended is not None:  # woken by the end, not by the peer reading
            raise ConnectionClosed(str(conn.ended))
        logger.debug("the peer is reading again: reading resumed")
