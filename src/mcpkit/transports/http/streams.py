"""The SSE streams of one HTTP session: `Stream`, the messages of one stream in order, bounded,
numbered for resumption; `Exchange`, a POST's stream; and `StreamSettings`, what every stream
of an endpoint shares (spec: basic/transports, "Sending Messages to the Server", "Listening for
Messages from the Server", "Resumability and Redelivery"; SEP-1699).

A stream outlives the HTTP response that carries it: when the connection is cut (by the
client, or by the server under SEP-1699) its messages are still numbered and stored, and a
GET with `Last-Event-ID` attaches a new response that replays what was missed and goes on.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol

from mcpkit.errors import ConnectionClosed
from mcpkit.protocol.events import RequestInfo
from mcpkit.transports.http.events import EventStore, MemoryEventStore
from mcpkit.types import RequestId

__all__ = [
    "KEEPALIVE",
    "MAX_QUEUED",
    "MAX_RETAINED",
    "Exchange",
    "HasRevision",
    "HttpChannel",
    "Stream",
    "StreamSettings",
    "new_stream_id",
]

logger = logging.getLogger("mcpkit.http")

# Messages held for one response whose client reads slowly; past it the session's writer
# waits (and the runtime stops reading that session's bodies), so memory stays bounded.
MAX_QUEUED: Final = 64
#: Streams one session keeps resumable once no connection carries them (the oldest goes
#: first past it): a client that cuts every stream and never comes back costs a bounded sum.
MAX_RETAINED: Final = 32
#: What `Stream.next` returns when a keep-alive comment is due: no message has gone out for
#: a whole `keepalive_interval`.
KEEPALIVE: Final = (-1, b"")
#: The first revision whose clients expect a priming event (SEP-1699): older clients may
#: take its empty data for a broken message.
PRIMING_REVISION: Final = "2025-11-25"


def new_stream_id() -> str:
    """A fresh stream id: 96 random bits, so an id from another session names nothing here."""
    return secrets.token_urlsafe(12)


@dataclass(frozen=True, slots=True)
class StreamSettings:
    """What the streams of one endpoint share. `store` keeps their messages for replay
    (None: streams are not resumable and carry no ids); `retention` is how many seconds a
    stream cut before its end stays resumable once it has ended; `retry_ms` is the `retry`
    sent when the server closes a connection early; `keepalive_interval` is the idle time
    after which a comment goes out (None: never)."""

    store: EventStore | None = field(default_factory=MemoryEventStore)
    retention: float = 60.0
    retry_ms: int = 1000
    keepalive_interval: float | None = 15.0


class Stream:
    """The messages of one SSE stream, in order, numbered from 1, at most MAX_QUEUED waiting
    for the response that carries them (its "connection").

    `end()` says no more will come. `detach()` says the connection is gone: messages are
    then numbered and stored, but not queued, until `attach()` gives it a new connection.
    Each connection has a generation; a connection replaced by a newer one reads no more.
    """

    __slots__ = (
        "_due",
        "_generation",
        "_hangup",
        "_items",
        "_keepalive",
        "_room",
        "_sent",
        "_waiter",
        "attached",
        "ended",
        "id",
        "primed",
        "seq",
        "store",
    )

    def __init__(
        self, stream_id: str | None = None, store: EventStore | None = None, primed: bool = False
    ) -> None:
        self.id = stream_id
        self.store = store if stream_id is not None else None
        self.primed = primed  # the connection opens with a priming event (SEP-1699)
        self.seq = 0
        # The queue, and futures, made only when needed: an idle stream holds none.
        self._items: deque[tuple[int, bytes]] | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._room: asyncio.Future[None] | None = None
        self._keepalive: asyncio.TimerHandle | None = None
        self._sent = False  # something went out since the last keep-alive tick
        self._due = False  # a keep-alive comment is to go out
        self._hangup: int | None = None  # the retry (ms) to send before closing early
        self._generation = 0
        self.attached = True
        self.ended = False

    @property
    def resumable(self) -> bool:
        return self.store is not None

    @property
    def open(self) -> bool:
        """Whether a connection still reads this stream."""
        return self.attached

    async def put(self, data: bytes) -> None:
        """Number `data`, store it, and queue it for the connection, waiting while the queue is
        full; without a connection it is only stored (dropped if the stream is not resumable)."""
        while self.attached and self._items is not None and len(self._items) >= MAX_QUEUED:
            self._room = room = asyncio.get_running_loop().create_future()
            await room
        if self.ended or not (self.attached or self.resumable):
            return
        self.seq = seq = self.seq + 1
        if self.store is not None:
            await self.store.append(self.id, seq, data)  # type: ignore[arg-type]
        if self.attached:
            if self._items is None:
                self._items = deque()
            self._items.append((seq, data))
            _wake(self._waiter)

    def end(self) -> None:
        self.ended = True
        _wake(self._waiter)

    def detach(self, generation: int | None = None) -> None:
        """The connection `generation` (default: the current one) is gone; the request goes on
        (the spec: a disconnect is not a cancellation), its messages only stored from now."""
        if generation is not None and generation != self._generation:
            return
        self.attached = False
        self._items = None
        self.stop_keepalive()
        _wake(self._room)
        _wake(self._waiter)

    def close(self) -> None:
        """The client went away (the same as `detach()`)."""
        self.detach()

    def attach(self) -> int:
        """A new connection takes the stream over (a resumption); its generation. What was
        queued for the previous one is stored, so the new one replays it from the store."""
        self._generation += 1
        self._hangup = None
        self._items = None
        self.attached = True
        _wake(self._waiter)  # the previous connection, if any, learns it is replaced
        return self._generation

    @property
    def generation(self) -> int:
        return self._generation

    def hang_up(self, retry_ms: int, *, force: bool = False) -> bool:
        """Close the connection early, keeping the stream (SEP-1699): what is queued goes out,
        then `retry: retry_ms`, then the response ends. Only for a primed, resumable stream
        that a connection reads (any such stream with `force`, at shutdown); False otherwise."""
        usable = force or (self.primed and self.resumable)
        if not (usable and self.attached) or self.ended:
            return False
        self._hangup = retry_ms
        self.attached = False
        self.stop_keepalive()
        _wake(self._room)
        _wake(self._waiter)
        return True

    def hung_up(self, generation: int) -> int | None:
        """The retry to send if connection `generation` was closed by `hang_up`, else None."""
        return self._hangup if generation == self._generation else None

    async def next(self) -> bytes | None:
        """The next message for the current connection, or None once there is none to come
        (for a reader that wants messages, not events: a JSON answer)."""
        while (item := await self.next_event(self._generation)) is KEEPALIVE:
            pass
        return None if item is None else item[1]

    async def next_event(self, generation: int) -> tuple[int, bytes] | None:
        """The next (seq, message) for connection `generation`, KEEPALIVE when one is due, or
        None once there is nothing more for it: the stream ended, or the connection was
        detached, hung up or replaced."""
        while not self._items:
            if self.ended or generation != self._generation or not self.attached:
                return None
            if self._due:
                self._due = False
                return KEEPALIVE
            self._waiter = waiter = asyncio.get_running_loop().create_future()
            try:
                await waiter
            finally:
                if self._waiter is waiter:  # a replaced connection's reader may wake late
                    self._waiter = None
        if generation != self._generation:
            return None
        self._sent = True
        _wake(self._room)
        assert self._items is not None
        return self._items.popleft()

    # ------------------------------------------------------------- keep-alive

    def start_keepalive(self, interval: float | None) -> None:
        """One timer for the stream, re-armed each `interval`: a comment goes out when no
        message did in the last one (proxies close connections idle for long)."""
        if interval is None or self._keepalive is not None:
            return
        self._sent = False
        self._keepalive = asyncio.get_running_loop().call_later(interval, self._tick, interval)

    def _tick(self, interval: float) -> None:
        self._keepalive = asyncio.get_running_loop().call_later(interval, self._tick, interval)
        if not self._sent:
            self._due = True
            _wake(self._waiter)
        self._sent = False

    def stop_keepalive(self) -> None:
        if self._keepalive is not None:
            self._keepalive.cancel()
            self._keepalive = None
        self._due = False


def _wake(future: asyncio.Future[None] | None) -> None:
    if future is not None and not future.done():
        future.set_result(None)


class Exchange(Stream):
    """One POST: `read` resolves to (started, refused) once the session has read the body;
    its stream gets an id when the answer is an SSE stream (`HttpChannel.body_read`).
    `channel` is the session's channel, which frees the stream once it is delivered."""

    __slots__ = ("channel", "read")

    def __init__(self, channel: HttpChannel | None = None) -> None:
        super().__init__()
        self.channel = channel
        self.read: asyncio.Future[tuple[list[RequestId], list[bytes]]] = (
            asyncio.get_running_loop().create_future()
        )


_NO_RESUMPTION: Final = StreamSettings(store=None, keepalive_interval=None)


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
        "_idle_at",
        "_inbox",
        "_pending",
        "_receiver",
        "_retained",
        "_routes",
        "_streams",
        "_sweeper",
        "clock",
        "json_response",
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
        # Made on first use: an idle session holds no queue, no future, no stream table.
        self._inbox: deque[tuple[bytes, RequestInfo, Exchange]] | None = None
        self._receiver: asyncio.Future[None] | None = None
        self._current: Exchange | None = None
        self._routes: dict[RequestId, Exchange] = {}
        self._streams: dict[str, Stream] | None = None  # resumable streams by id
        # Those no connection carries, with when they stop being resumable, oldest first.
        self._retained: dict[Stream, float] | None = None
        self._sweeper: asyncio.TimerHandle | None = None
        self._pending = 0  # bodies handed in and not yet read
        self._idle_at = clock()
        self._closed = False

    @property
    def writable(self) -> bool:
        return not self._closed

    @property
    def idle_since(self) -> float | None:
        """None while a body waits, a request is served or the GET stream is connected."""
        if self._pending or self._routes or (self.stream is not None and self.stream.attached):
            return None
        return self._idle_at

    def touch(self) -> None:
        """Note activity now (the start of idleness, once nothing else is going on)."""
        self._idle_at = self.clock()

    async def submit(self, data: bytes, info: RequestInfo) -> Exchange:
        """Hand a POST body to the session; await the exchange's `read` for what it started."""
        if self._closed:
            raise ConnectionClosed("the session has ended")
        exchange = Exchange(self)
        self._pending += 1
        if self._inbox is None:
            self._inbox = deque()
        self._inbox.append((data, info, exchange))
        _wake(self._receiver)
        return exchange

    # ------------------------------------------------------------ RoutedChannel

    async def receive(self) -> bytes:
        return (await self.receive_with_info())[0]

    async def receive_with_info(self) -> tuple[bytes, RequestInfo | None]:
        while not self._inbox:
            if self._closed:
                raise ConnectionClosed("the session has ended")
            self._receiver = asyncio.get_running_loop().create_future()
            try:
                await self._receiver
            finally:
                self._receiver = None
        data, info, self._current = self._inbox.popleft()
        if not self._inbox:
            self._inbox = None
        self._pending -= 1
        return data, info

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
        elif not self.json_response:
            self._number(exchange)
        self.touch()
        exchange.read.set_result((list(started), list(refused)))

    async def send_routed(self, data: bytes, related: RequestId | None, final: bool) -> None:
        exchange = None if related is None else self._routes.get(related)
        if final and exchange is not None:
            for request_id in [r for r, e in self._routes.items() if e is exchange]:
                del self._routes[request_id]
            if data:
                await exchange.put(data)
            exchange.end()
            if not exchange.attached:
                self._retain(exchange)  # cut before its end: resumable for a while
            self.touch()
            return
        target: Stream | None = exchange
        if target is None or self.json_response:
            target = self.stream
        if target is None:
            logger.debug("no stream for a message related to %r: dropped", related)
            return
        await target.put(data)

    async def send(self, data: bytes) -> None:
        await self.send_routed(data, None, False)

    # ----------------------------------------------------------------- streams

    def _number(self, stream: Stream) -> None:
        """Give `stream` an id, so its events carry ids and it can be resumed."""
        store = self.settings.store
        if store is None:
            return
        stream.id = stream_id = new_stream_id()
        stream.store = store
        revision = None if self.protocol is None else self.protocol.revision
        stream.primed = revision is not None and revision >= PRIMING_REVISION
        if self._streams is None:
            self._streams = {}
        self._streams[stream_id] = stream

    def open_stream(self) -> Stream | None:
        """A new GET stream, replacing one no connection reads; None while one is connected."""
        if self.stream is not None:
            if self.stream.attached:
                return None
            self.forget(self.stream)
        stream = self.stream = Stream()
        self._number(stream)
        return stream

    def resume(self, stream: Stream) -> int:
        """A GET with Last-Event-ID takes `stream` over: its connection's generation."""
        if self._retained is not None:
            self._retained.pop(stream, None)
        return stream.attach()

    def find_stream(self, stream_id: str) -> Stream | None:
        """This session's resumable stream `stream_id` (None for another session's)."""
        return None if self._streams is None else self._streams.get(stream_id)

    def close_stream(self, request_id: RequestId, retry_ms: int | None = None) -> bool:
        """Close the connection of `request_id`'s stream early, keeping the stream (SEP-1699);
        False when there is none to close (JSON answers, a client before 2025-11-25...)."""
        exchange = self._routes.get(request_id)
        retry = self.settings.retry_ms if retry_ms is None else retry_ms
        return exchange is not None and exchange.hang_up(retry)

    def release(self, stream: Stream, delivered: bool) -> None:
        """A connection of `stream` ended. Unless a newer one carries it, the stream stays
        resumable for `retention` seconds after its request ends (the GET stream: after the
        cut), even when all was written: the client may have lost what was written last."""
        if delivered:
            stream.detach()
        if not stream.attached and (stream.ended or stream is self.stream):
            self._retain(stream)  # (a request still running is retained when it ends)

    def _retain(self, stream: Stream) -> None:
        if stream.id is None or self._closed:
            self.forget(stream)
            return
        loop = asyncio.get_running_loop()
        if self._retained is None:
            self._retained = {}
        self._retained.pop(stream, None)  # (re)inserted last: the dict stays in expiry order
        self._retained[stream] = loop.time() + self.settings.retention
        if len(self._retained) > MAX_RETAINED:
            self.forget(next(iter(self._retained)))
        if self._sweeper is None:
            self._sweeper = loop.call_at(self._retained[stream], self._sweep)

    def _sweep(self) -> None:
        """One timer per session, not per stream: forget the streams whose time is up."""
        self._sweeper = None
        now = asyncio.get_running_loop().time()
        while self._retained:
            stream, until = next(iter(self._retained.items()))
            if until > now:
                self._sweeper = asyncio.get_running_loop().call_at(until, self._sweep)
                return
            self.forget(stream)

    def forget(self, stream: Stream) -> None:
        """Free `stream`'s state and stored events; it can no longer be resumed."""
        if self._retained is not None:
            self._retained.pop(stream, None)
            if not self._retained:
                self._retained = None
        stream.stop_keepalive()
        if stream is self.stream:
            self.stream = None
        if stream.id is not None and self._streams is not None:
            if self._streams.pop(stream.id, None) is not None and stream.store is not None:
                stream.store.forget(stream.id)
                stream.store = None  # what its request still sends is dropped, not stored
            if not self._streams:
                self._streams = None

    # ------------------------------------------------------------------ ending

    async def aclose(self) -> None:
        self.close()

    def close(self) -> None:
        """End every stream of the session, free what they keep, and fail the bodies it never
        read."""
        if self._closed:
            return
        self._closed = True
        for exchange in set(self._routes.values()):
            exchange.end()
        self._routes.clear()
        for _, _, exchange in self._inbox or ():  # bodies never read: their POSTs get the news
            exchange.read.set_exception(ConnectionClosed("the session has ended"))
        self._inbox = None
        _wake(self._receiver)
        if self.stream is not None:
            self.stream.end()
        for stream in list(self._streams.values()) if self._streams else ():
            stream.end()
            self.forget(stream)
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None
