"""An in-memory channel pair: two ends joined by queues, for tests and in-process clients."""

from __future__ import annotations

import asyncio

from mcpkit.errors import ConnectionClosed

__all__ = ["MemoryChannel", "memory_channel_pair"]


class _Closed:
    """Put on the peer's queue when one end closes; says why."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason


class MemoryChannel:
    """One end of an in-memory pair. Messages are bytes, as on any other transport."""

    def __init__(self, inbox: asyncio.Queue[bytes | _Closed],
                 outbox: asyncio.Queue[bytes | _Closed]) -> None:
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
            self._outbox.put_nowait(data)
            raise ConnectionClosed(data.reason)
        return data

    async def send(self, data: bytes) -> None:
        if self._closed is not None:
            raise ConnectionClosed(self._closed)
        self._outbox.put_nowait(data)

    async def aclose(self) -> None:
        self.close()

    def close(self, reason: str = "the peer closed the channel") -> None:
        """Close both directions; the other end's `receive` raises ConnectionClosed(reason)."""
        if self._closed is None:
            self._closed = "channel closed"
            self._outbox.put_nowait(_Closed(reason))
            self._inbox.put_nowait(_Closed("channel closed"))


def memory_channel_pair() -> tuple[MemoryChannel, MemoryChannel]:
    """Return (client_end, server_end): what one sends, the other receives."""
    a: asyncio.Queue[bytes | _Closed] = asyncio.Queue()
    b: asyncio.Queue[bytes | _Closed] = asyncio.Queue()
    return MemoryChannel(a, b), MemoryChannel(b, a)
