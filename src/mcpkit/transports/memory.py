"""An in-memory channel pair: two ends joined by byte-bounded queues, for tests and
in-process clients.

It behaves as a real transport would where a test could tell: messages are bytes (so
what is sent is encoded and decoded as on the wire), a sender waits once the receiver
is `max_buffered` bytes behind, as a pipe's writer does, and closing one end makes the
other's `receive` raise ConnectionClosed with the reason.
"""

from __future__ import annotations

import asyncio
import collections
from typing import Final

from mcpkit.errors import ConnectionClosed

__all__ = ["DEFAULT_MAX_BUFFERED", "MemoryChannel", "memory_channel_pair"]

#: Bytes one end may send that the other has not received before `send` waits, as a pipe's
#: writer would; sending resumes once the backlog is down to a quarter of it.
DEFAULT_MAX_BUFFERED: Final = 1024 * 1024


class _Closed:
    """Put on the peer's queue when one end closes; says why."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


class _Pipe:
    """One direction: messages in order, their size in bytes, and room for the sender."""

    def __init__(self, max_buffered: int) -> None:
        self.items: collections.deque[bytes | _Closed] = collections.deque()
        self.size = 0
        # Two marks, not one: a sender woken as soon as one byte drains would wake and
        # wait again for every message.
        self.high = max_buffered
        self.low = max_buffered // 4
        self.room = asyncio.Event()
        self.room.set()
        self.closed: str | None = None  # why, once either end has closed
        # The one receiver waiting, if any: a channel has one reader (its session).
        self._getter: asyncio.Future[None] | None = None

    # A message is queued whatever the backlog: the bound makes the sender wait after
    # its message, so one larger than the bound still goes through.

    def put(self, item: bytes | _Closed) -> None:
        """Queue a message, or the close marker, and wake the receiver."""
        self.items.append(item)
        if isinstance(item, bytes):
            self.size += len(item)
            if self.size > self.high:
                self.room.clear()
        else:
            self.closed = self.closed or item.reason
            self.room.set()  # a closed pipe never drains: let the sender see it closed
        getter = self._getter
        if getter is not None and not getter.done():
            getter.set_result(None)

    async def get(self) -> bytes | _Closed:
        """The next message, or the close marker; waits while there is none."""
        while not self.items:
            if self._getter is not None:
                raise RuntimeError("another task is already waiting to receive")
            self._getter = asyncio.get_running_loop().create_future()
            try:
                await self._getter
            finally:
                self._getter = None
        item = self.items.popleft()
        if isinstance(item, bytes):
            self.size -= len(item)
            if self.size <= self.low:
                self.room.set()
        return item


class MemoryChannel:
    """One end of an in-memory pair. Messages are bytes, as on any other transport, so
    what a test sends is encoded and decoded as it would be on the wire."""

    def __init__(self, inbox: _Pipe, outbox: _Pipe) -> None:
        self._inbox = inbox
        self._outbox = outbox
        self._closed: str | None = None  # why this end is closed, once it is

    @property
    def writable(self) -> bool:
        """False once either end has closed: both directions end together in memory."""
        return self._closed is None

    async def receive(self) -> bytes:
        """The next message from the peer; ConnectionClosed, with the peer's reason, once
        it has closed (or this end has)."""
        if self._closed is not None:
            raise ConnectionClosed(self._closed)
        data = await self._inbox.get()
        if isinstance(data, _Closed):
            self._closed = data.reason
            # Passed back, so a send of ours waiting for room wakes and sees the close.
            self._outbox.put(data)
            raise ConnectionClosed(data.reason)
        return data

    async def send(self, data: bytes) -> None:
        """Queue `data` for the peer; wait while the peer has too much unreceived."""
        if self._closed is not None:
            raise ConnectionClosed(self._closed)
        outbox = self._outbox
        outbox.put(data)
        if not outbox.room.is_set():
            await outbox.room.wait()
            # Woken by a close as well as by room: the peer may be gone.
            if outbox.closed is not None:
                raise ConnectionClosed(self._closed or outbox.closed)

    async def aclose(self) -> None:
        """`close`, as the async interface every channel has."""
        self.close()

    def close(self, reason: str = "the peer closed the channel") -> None:
        """Close both directions; the other end's `receive` raises ConnectionClosed(reason)."""
        if self._closed is None:
            self._closed = "channel closed"
            self._outbox.put(_Closed(reason))
            # Our own inbox too: a receive of ours already waiting must end as well.
            self._inbox.put(_Closed("channel closed"))


def memory_channel_pair(
    max_buffered: int = DEFAULT_MAX_BUFFERED,
) -> tuple[MemoryChannel, MemoryChannel]:
    """Return (client_end, server_end): what one sends, the other receives. Each end's
    `send` waits while more than `max_buffered` bytes it sent are not yet received."""
    # 0 would make every send wait for a receive that may never come.
    if max_buffered < 1:
        raise ValueError("max_buffered must be at least 1 byte")
    a = _Pipe(max_buffered)
    b = _Pipe(max_buffered)
    return MemoryChannel(a, b), MemoryChannel(b, a)
