"""An in-memory channel pair: two ends joined by byte-bounded queues, for tests and
in-process clients."""

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
        self.high = max_buffered
        self.low = max_buffered // 4
        self.room = asyncio.Event()
        self.room.set()
        self.closed: str | None = None  # why, once either end has closed
        self._getter: asyncio.Future[None] | None = None

    def put(self, item: bytes | _Closed) -> None:
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
    """One end of an in-memory pair. Messages are bytes, as on any other transport."""

    def __init__(self, inbox: _Pipe, outbox: _Pipe) -> None:
        self._inbox = inbox
        self._outbox = outbox
        self._closed: str | None = None

    @property
    def writable(self) -> bool:
        """False once either end has closed: both directions end together in memory."""
        return self._closed is None

    async def receive(self) -> bytes:
        if self._closed is not None:
            raise ConnectionClosed(self._closed)
        data = await self._inbox.get()
        if isinstance(data, _Closed):
            self._closed = data.reason
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
            if outbox.closed is not None:
                raise ConnectionClosed(self._closed or outbox.closed)

    async def aclose(self) -> None:
        self.close()

    def close(self, reason: str = "the peer closed the channel") -> None:
        """Close both directions; the other end's `receive` raises ConnectionClosed(reason)."""
        if self._closed is None:
            self._closed = "channel closed"
            self._outbox.put(_Closed(reason))
            self._inbox.put(_Closed("channel closed"))


def memory_channel_pair(
    max_buffered: int = DEFAULT_MAX_BUFFERED,
) -> tuple[MemoryChannel, MemoryChannel]:
    """Return (client_end, server_end): what one sends, the other receives. Each end's
    `send` waits while more than `max_buffered` bytes it sent are not yet received."""
    if max_buffered < 1:
        raise ValueError("max_buffered must be at least 1 byte")
    a = _Pipe(max_buffered)
    b = _Pipe(max_buffered)
    return MemoryChannel(a, b), MemoryChannel(b, a)
