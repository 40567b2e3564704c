"""An in-memory channel pair: two ends joined by queues, for tests and in-process clients."""

from __future__ import annotations

import asyncio

from mcpkit.errors import ConnectionClosed

__all__ = ["MemoryChannel", "memory_channel_pair"]

_CLOSED = b""


class MemoryChannel:
    """One end of an in-memory pair. Messages are bytes, as on any other transport."""

    def __init__(self, inbox: asyncio.Queue[bytes], outbox: asyncio.Queue[bytes]) -> None:
        self._inbox = inbox
        self._outbox = outbox
        self._closed = False

    @property
    def writable(self) -> bool:
        """False once either end has closed: both directions end together in memory."""
        return not self._closed

    async def receive(self) -> bytes:
        if self._closed:
            raise ConnectionClosed("channel closed")
        data = await self._inbox.get()
        if data is _CLOSED:
            self._closed = True
            self._outbox.put_nowait(_CLOSED)
            raise ConnectionClosed("peer closed the channel")
        return data

    async def send(self, data: bytes) -> None:
        if self._closed:
            raise ConnectionClosed("channel closed")
        self._outbox.put_nowait(data)

    async def aclose(self) -> None:
        if not self._closed:
            self._closed = True
            self._outbox.put_nowait(_CLOSED)
            self._inbox.put_nowait(_CLOSED)


def memory_channel_pair() -> tuple[MemoryChannel, MemoryChannel]:
    """Return (client_end, server_end): what one sends, the other receives."""
    a: asyncio.Queue[bytes] = asyncio.Queue()
    b: asyncio.Queue[bytes] = asyncio.Queue()
    return MemoryChannel(a, b), MemoryChannel(b, a)
