"""The channel between one HTTP session's protocol session and its HTTP responses: each POST
body goes in with an `Exchange` that its answers come out on, and messages related to no
request go to the GET stream (spec: basic/transports, "Sending Messages to the Server" and
"Listening for Messages from the Server")."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Final

from mcpkit.errors import ConnectionClosed
from mcpkit.protocol.events import RequestInfo
from mcpkit.types import RequestId

__all__ = ["Exchange", "HttpChannel", "Stream"]

logger = logging.getLogger("mcpkit.http")

# Messages held for one response whose client reads slowly; past it the session's writer
# waits (and the runtime stops reading that session's bodies), so memory stays bounded.
MAX_QUEUED: Final = 64


class Stream:
    """The messages for one HTTP response, in order, at most MAX_QUEUED held. `end()` says no
    more will come; `close()` says the client went away, and whatever comes is dropped."""

    __slots__ = ("_items", "_ready", "_room", "ended", "open")

    def __init__(self) -> None:
        self._items: deque[bytes] = deque()
        self._ready = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self.ended = False
        self.open = True

    async def put(self, data: bytes) -> None:
        """Queue `data`, waiting while the stream is full; dropped once closed or ended."""
        while self.open and len(self._items) >= MAX_QUEUED:
            self._room.clear()
            await self._room.wait()
        if self.open and not self.ended:
            self._items.append(data)
            self._ready.set()

    def end(self) -> None:
        self.ended = True
        self._ready.set()

    def close(self) -> None:
        # The spec: a disconnect is not a cancellation; the request goes on, unheard.
        self.open = False
        self._items.clear()
        self._room.set()
        self._ready.set()

    async def next(self) -> bytes | None:
        """The next message, or None once the stream has ended (or closed) and is empty."""
        while not self._items:
            if self.ended or not self.open:
                return None
            self._ready.clear()
            await self._ready.wait()
        self._room.set()
        return self._items.popleft()


class Exchange(Stream):
    """One POST: `read` resolves to (started, refused) once the session has read the body."""

    __slots__ = ("read",)

    def __init__(self) -> None:
        super().__init__()
        self.read: asyncio.Future[tuple[list[RequestId], list[bytes]]] = (
            asyncio.get_running_loop().create_future()
        )


class HttpChannel:
    """A `RoutedChannel` for one HTTP session (see mcpkit.runtime.channel).

    With `json_response`, a POST is answered with its final message alone: the messages sent
    while serving it (progress, requests to the client) go to the GET stream when one is open,
    as the only place left to send them, else they are dropped.
    """

    def __init__(
        self, *, json_response: bool = False, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.json_response = json_response
        self.stream: Stream | None = None  # the GET stream
        self._clock = clock
        self._inbox: asyncio.Queue[tuple[bytes, RequestInfo, Exchange]] = asyncio.Queue()
        self._current: Exchange | None = None
        self._routes: dict[RequestId, Exchange] = {}
        self._pending = 0  # bodies handed in and not yet read
        self._idle_at = clock()
        self._closed = False

    @property
    def writable(self) -> bool:
        return not self._closed

    @property
    def idle_since(self) -> float | None:
        """None while a body waits, a request is served or the GET stream is open."""
        if self._pending or self._routes or self.stream is not None:
            return None
        return self._idle_at

    def touch(self) -> None:
        """Note activity now (the start of idleness, once nothing else is going on)."""
        self._idle_at = self._clock()

    async def submit(self, data: bytes, info: RequestInfo) -> Exchange:
        """Hand a POST body to the session; await the exchange's `read` for what it started."""
        if self._closed:
            raise ConnectionClosed("the session has ended")
        exchange = Exchange()
        self._pending += 1
        self._inbox.put_nowait((data, info, exchange))
        return exchange

    # ------------------------------------------------------------ RoutedChannel

    async def receive(self) -> bytes:
        return (await self.receive_with_info())[0]

    async def receive_with_info(self) -> tuple[bytes, RequestInfo | None]:
        data, info, self._current = await self._inbox.get()
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

    async def aclose(self) -> None:
        self.close()

    def close(self) -> None:
        """End every stream of the session, and fail the bodies it never read."""
        if self._closed:
            return
        self._closed = True
        for exchange in set(self._routes.values()):
            exchange.end()
        self._routes.clear()
        while not self._inbox.empty():  # bodies never read: their POSTs get the news
            _, _, exchange = self._inbox.get_nowait()
            exchange.read.set_exception(ConnectionClosed("the session has ended"))
        if self.stream is not None:
            self.stream.end()
