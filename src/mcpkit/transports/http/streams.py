"""The channel between one HTTP session's protocol session and its HTTP responses: each POST
body goes in with an `Exchange`, the stream its answers come out on, and messages related to
no request go to the GET stream (spec: basic/transports, "Sending Messages to the Server",
"Listening for Messages from the Server"). The channel also keeps the session's resumable
streams (`mcpkit.transports.http.sse_stream.Stream`) until their time is up ("Resumability and
Redelivery"): a GET with `Last-Event-ID` finds its stream here, never another session's.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import Final, Protocol

from mcpkit.errors import ConnectionClosed
from mcpkit.protocol.events import RequestInfo
from mcpkit.protocol.sse import parse_event_id
from mcpkit.runtime.channel import Feeder
from mcpkit.transports.http._headers import quote_header
from mcpkit.transports.http.checks import Refusal, refuse
from mcpkit.transports.http.sse_stream import (
    MAX_QUEUED,
    PRIMING_REVISION,
    Stream,
    StreamSettings,
    new_stream_id,
    new_stream_prefix,
)
from mcpkit.types import RequestId

__all__ = [
    "MAX_QUEUED",
    "MAX_RETAINED",
    "Exchange",
    "HasRevision",
    "HttpChannel",
    "Stream",
    "StreamSettings",
    "expired",
]

logger = logging.getLogger("mcpkit.http")

#: Streams one session keeps resumable once no connection carries them (the oldest goes
#: first past it): a client that cuts every stream and never comes back costs a bounded sum.
MAX_RETAINED: Final = 32


class Exchange(Stream):
    """One POST: `read` is (started, refused) once the session has read the body; its
    stream gets an id when the answer is an SSE stream (`HttpChannel.body_read`).
    `channel` is the session's channel, which frees the stream once it is delivered.
    `json`: answered with one JSON object, as with `json_response` (a poll of a task, see
    `HttpChannel.answer_as_json`)."""

    __slots__ = ("channel", "json", "read")

    def __init__(self, channel: HttpChannel | None = None) -> None:
        super().__init__()
        self.channel = channel
        self.json = False
        self.read: tuple[list[RequestId], list[bytes]] = ([], [])


_NO_RESUMPTION: Final = StreamSettings(store=None, keepalive_interval=None)


def expired(last: bytes) -> Refusal:
    """410 for a Last-Event-ID whose stream cannot be resumed. Not 404: a client must take a
    404 for the end of its session (basic/transports, "Session Management")."""
    return refuse(
        410,
        f"the stream of Last-Event-ID {quote_header(last)} cannot be resumed: it belongs to "
        "no stream of this session, or its events are past the replay window "
        "(replay_window, replay_retention); open a new stream with GET without Last-Event-ID",
    )


class HasRevision(Protocol):
    """What a channel reads of its protocol session: the revision initialize negotiated."""

    @property
    def revision(self) -> str | None: ...


class HttpChannel:
    """A `RoutedChannel` for one HTTP session (see mcpkit.runtime.channel).

    With `json_response`, a POST is answered with its final message alone: the messages sent
    while serving it (progress, requests to the client) go to the GET stream when one is open,
    as the only place left to send them, else they are dropped. `protocol` is set by the app
    once the session is built: it tells which streams open with a priming event.
    """

    __slots__ = (
        "_closed",
        "_current",
        "_current_resumable",
        "_feeder",
        "_idle_at",
        "_numbered",
        "_pending",
        "_prefix",
        "_retained",
        "_routes",
        "_streams",
        "_sweeper",
        "clock",
        "json_response",
        "on_close",
        "protocol",
        "settings",
        "stream",
    )

    def __init__(
        self,
        *,
        json_response: bool = False,
        clock: Callable[[], float] = time.monotonic,
        settings: StreamSettings = _NO_RESUMPTION,
    ) -> None:
        self.json_response = json_response
        self.settings = settings
        self.protocol: HasRevision | None = None
        self.stream: Stream | None = None  # the GET stream
        self.clock = clock
        # The connection bodies go to (`PushingChannel`): an idle session has no reader
        # task; made on first use: no stream table.
        self._feeder: Feeder | None = None
        self._current: Exchange | None = None
        self._current_resumable = True
        #: Called once when the channel closes (the app forgets the session then).
        self.on_close: Callable[[], None] | None = None
        self._routes: dict[RequestId, Exchange] = {}
        self._streams: dict[str, Stream] | None = None  # resumable streams by id
        self._prefix: str | None = None  # of this session's stream ids
        self._numbered = 0  # streams given an id
        # Those no connection carries, with when they stop being resumable, oldest first.
        self._retained: dict[Stream, float] | None = None
        self._sweeper: asyncio.TimerHandle | None = None
        self._pending = 0  # bodies waiting for room to be read
        self._idle_at = clock()
        self._closed = False

    @property
    def writable(self) -> bool:
        return not self._closed

    @property
    def idle_since(self) -> float | None:
        """None while a body waits, the GET stream is connected, or a request is served whose
        client still holds its answer's connection. A call whose client went away (and has
        not resumed its stream) goes on, but no longer keeps the session alive: 50 slow calls
        behind dropped POSTs would otherwise hold a session place forever."""
        if self._pending or (self.stream is not None and self.stream.attached):
            return None
        for exchange in self._routes.values():
            if exchange.attached:
                return None
        return self._idle_at

    def touch(self) -> None:
        """Note activity now (the start of idleness, once nothing else is going on)."""
        self._idle_at = self.clock()

    async def submit(self, data: bytes, info: RequestInfo, *, resumable: bool = True) -> Exchange:
        """Hand a POST body to the session, which reads it before this returns: the
        exchange's `read` says what it started. ConnectionClosed once the session ended.

        Without `resumable` its SSE answer has no event ids and is not kept for a GET with
        Last-Event-ID (the initialize: a client that lost its answer starts again)."""
        feeder = self._feeder
        if self._closed or feeder is None:
            raise ConnectionClosed("the session has ended")
        self._pending += 1
        try:
            await feeder.room_to_read()  # at once, unless answers pile up unread
        finally:
            self._pending -= 1
        if self._closed:
            raise ConnectionClosed("the session has ended")
        exchange = self._current = Exchange(self)
        self._current_resumable = resumable
        try:
            feeder.feed(data, info)  # calls body_read, which takes `_current`
        except ConnectionClosed:
            self.close()  # the connection failed: the session is over
            raise
        finally:
            self._current = None
        return exchange

    # ------------------------------------------------------------ RoutedChannel

    def deliver_to(self, feeder: Feeder) -> None:
        self._feeder = feeder

    async def receive(self) -> bytes:
        raise RuntimeError("an HttpChannel delivers its bodies with submit(), not receive()")

    def body_read(
        self, info: RequestInfo | None, started: Sequence[RequestId], refused: Sequence[bytes]
    ) -> None:
        exchange, self._current = self._current, None
        if exchange is None:
            return
        for request_id in started:
            # A reused id whose answer is still due takes the new stream; the old POST's
            # stream then ends at the newer answer (architecture.md, "Seams").
            self._routes[request_id] = exchange
        if not started:
            exchange.end()
        elif not self.json_response and self._current_resumable:
            self._number(exchange)
        self.touch()
        exchange.read = (list(started), list(refused))

    async def send_routed(self, data: bytes, related: RequestId | None, final: bool) -> None:
        exchange = None if related is None else self._routes.get(related)
        if final and exchange is not None:
            for request_id in [r for r, e in self._routes.items() if e is exchange]:
                del self._routes[request_id]
            if data:
                await exchange.put(data)
            exchange.end()
            if not exchange.attached:  # cut before its end: resumable for a while
                gone = self._retain(exchange)
                if gone is not None:
                    await self.forget(gone)
            self.touch()
            return
        target: Stream | None = exchange
        if exchange is None or self.json_response or exchange.json:
            target = self.stream
        if target is None:
            logger.debug("no stream for a message related to %r: dropped", related)
            return
        await target.put(data)

    async def send(self, data: bytes) -> None:
        await self.send_routed(data, None, False)

    def answer_as_json(self, request_id: RequestId) -> None:
        """Answer `request_id` with one JSON object rather than an SSE stream, if its response
        has not begun (the app waits FIRST_WAIT for a call's first message before choosing);
        what else it causes goes to the GET stream. The handlers of tasks/get, tasks/list and
        tasks/cancel call it: "servers SHOULD NOT upgrade to an SSE stream in response to a
        tasks/get request, as the client has indicated it wishes to poll" (basic/utilities/
        tasks, "Input Required Status"). The choice costs other requests nothing."""
        exchange = self._routes.get(request_id)
        if exchange is not None:
            exchange.json = True

    # ----------------------------------------------------------------- streams

    def _number(self, stream: Stream) -> None:
        """Give `stream` an id, so its events carry ids and it can be resumed."""
        store = self.settings.store
        if store is None:
            return
        if self._prefix is None:
            self._prefix = new_stream_prefix()  # one random draw per session, not per stream
        self._numbered += 1
        stream.id = stream_id = new_stream_id(self._prefix, self._numbered)
        stream.store = store
        revision = None if self.protocol is None else self.protocol.revision
        stream.primed = revision is not None and revision >= PRIMING_REVISION
        if self._streams is None:
            self._streams = {}
        self._streams[stream_id] = stream

    async def open_stream(self) -> Stream | None:
        """A new GET stream, replacing one no connection reads; None while one is connected."""
        if self.stream is not None:
            if self.stream.attached:
                return None
            await self.forget(self.stream)
        stream = self.stream = Stream()
        self._number(stream)
        return stream

    def resume(self, stream: Stream) -> int:
        """A GET with Last-Event-ID takes `stream` over: its connection's generation."""
        if self._retained is not None:
            self._retained.pop(stream, None)
        return stream.attach()

    def resumable(self, last: list[bytes]) -> tuple[Stream, int] | Refusal:
        """The stream of this session that the Last-Event-ID values `last` name, and the
        last event the client has; or the refusal to send."""
        parsed = parse_event_id(last[0].decode("latin-1")) if len(last) == 1 else None
        if parsed is None:
            got = quote_header(last[0]) if len(last) == 1 else f"{len(last)} headers"
            return refuse(
                400,
                f"Last-Event-ID {got} is not an event id this server sent: send the id of the "
                "last event received, once, or open a new stream without it",
            )
        stream = None if self._streams is None else self._streams.get(parsed[0])
        if stream is None or stream.store is None or parsed[1] > stream.seq:
            return expired(last[0])  # another session's stream is as good as unknown
        return stream, parsed[1]

    def close_stream(self, request_id: RequestId, retry_ms: int | None = None) -> bool:
        """Close the connection of `request_id`'s stream early, keeping the stream (SEP-1699);
        False when there is none to close (JSON answers, a client before 2025-11-25...)."""
        exchange = self._routes.get(request_id)
        retry = self.settings.retry_ms if retry_ms is None else retry_ms
        return exchange is not None and exchange.hang_up(retry)

    async def release(self, stream: Stream, delivered: bool) -> None:
        """A connection of `stream` ended. Unless a newer one carries it, the stream stays
        resumable for `retention` seconds after its request ends (the GET stream: after the
        cut), even when all was written: the client may have lost what was written last."""
        if not stream.attached and (delivered or stream.ended or stream is self.stream):
            # (a request still running is retained when it ends)
            gone = self._retain(stream)
            if gone is not None:
                await self.forget(gone)

    def _retain(self, stream: Stream) -> Stream | None:
        """Keep `stream` resumable for `retention` seconds; the stream to forget now, if any:
        `stream` itself when it cannot be resumed, else the oldest past MAX_RETAINED. (The
        caller awaits the forgetting: this stays a plain call, since an answer's every
        stream passes here.)"""
        if stream.id is None or self._closed:
            return stream
        loop = asyncio.get_running_loop()
        if self._retained is None:
            self._retained = {}
        self._retained.pop(stream, None)  # (re)inserted last: the dict stays in expiry order
        self._retained[stream] = loop.time() + self.settings.retention
        if self._sweeper is None:
            self._sweeper = loop.call_at(self._retained[stream], self._sweep)
        if len(self._retained) > MAX_RETAINED:
            return next(iter(self._retained))
        return None

    def _sweep(self) -> None:
        """One timer per session, not per stream: forget the streams whose time is up. A
        timer callback cannot await, so the store's part goes to a task (`forget_later`)."""
        self._sweeper = None
        now = asyncio.get_running_loop().time()
        gone: list[str] = []
        while self._retained:
            stream, until = next(iter(self._retained.items()))
            if until > now:
                self._sweeper = asyncio.get_running_loop().call_at(until, self._sweep)
                break
            self._drop(stream, gone)
        self.settings.forget_later(gone)

    async def forget(self, stream: Stream) -> None:
        """Free `stream`'s state and stored events; it can no longer be resumed."""
        gone: list[str] = []
        self._drop(stream, gone)
        store = self.settings.store
        if gone and store is not None:
            await store.forget(gone[0])

    def _drop(self, stream: Stream, gone: list[str]) -> None:
        """Free `stream`'s state here at once (a GET with its Last-Event-ID finds nothing
        from now on, and what its request still sends is no longer stored); add its id to
        `gone` when the store holds events of it, for the caller to have them forgotten."""
        if self._retained is not None:
            self._retained.pop(stream, None)
            if not self._retained:
                self._retained = None
        stream.stop_keepalive()
        if stream is self.stream:
            self.stream = None
        if stream.id is not None and self._streams is not None:
            if self._streams.pop(stream.id, None) is not None and stream.store is not None:
                gone.append(stream.id)
                stream.store = None  # what its request still sends is dropped, not stored
            if not self._streams:
                self._streams = None

    # ------------------------------------------------------------------ ending

    async def aclose(self) -> None:
        """`close()`, waiting for the store to forget the session's streams."""
        gone = self._end()
        store = self.settings.store
        if store is not None:
            for stream_id in gone:
                await store.forget(stream_id)

    def close(self) -> None:
        """End every stream of the session, free what they keep, and fail the bodies it never
        read. The runtime calls it from plain callbacks (the connection's end, `on_close`),
        which cannot await: the store forgets the session's streams in a task
        (`StreamSettings.forget_later`); `aclose()` waits for it instead."""
        self.settings.forget_later(self._end())

    def _end(self) -> list[str]:
        """`close()` but for the store: the ids of the streams it is to forget."""
        gone: list[str] = []
        if self._closed:
            return gone
        self._closed = True
        for exchange in set(self._routes.values()):
            exchange.end()
        self._routes.clear()
        if self._feeder is not None:
            self._feeder.input_closed()
            self._feeder = None
        if self.on_close is not None:
            on_close, self.on_close = self.on_close, None
            on_close()
        if self.stream is not None:
            self.stream.end()
        for stream in list(self._streams.values()) if self._streams else ():
            stream.end()
            self._drop(stream, gone)
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
        return gone
