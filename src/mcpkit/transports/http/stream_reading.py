"""The reader of an SSE stream (`sse_stream.Stream`): the connection that waits on the stream for
its next message (`next_event`, `next`, `wait_ready`) and the keep-alive comments that go out
while it waits on a quiet stream. A part of its own, made the first time a connection waits,
because a call answered at once never waits on its stream: its answer goes out whole
(`Stream.whole`), and the stream holds no reader."""

from __future__ import annotations

import asyncio
from typing import Final, Protocol

__all__ = ["KEEPALIVE", "ReadQueue", "StreamReading", "wake"]

#: What `StreamReading.next_event` returns when a keep-alive comment is due: no message has
#: gone out for a whole `keepalive_interval`.
KEEPALIVE: Final = (-1, b"")


class ReadQueue(Protocol):
    """What a reader reads of its stream (`sse_stream.Stream`): the queue of its connection
    `generation`, which `attach` replaces."""

    @property
    def generation(self) -> int: ...

    @property
    def attached(self) -> bool: ...

    def ready(self, generation: int) -> bool: ...

    def over(self, generation: int) -> bool: ...

    def take(self) -> tuple[int, bytes]: ...


class StreamReading:
    """The reader of one stream (`stream`): `waiter`, the future the waiting connection awaits
    (woken by a message, the stream's end, or its connection replaced or let go: `wake`);
    the keep-alive timer, re-armed each interval while a connection reads the stream; `sent`,
    whether a message went out since the timer's last tick (the stream says so when one is
    taken); `due`, whether a keep-alive comment is to go out."""

    __slots__ = ("_keepalive", "due", "sent", "stream", "waiter")

    def __init__(self, stream: ReadQueue) -> None:
        self.stream = stream
        self.waiter: asyncio.Future[None] | None = None
        self._keepalive: asyncio.TimerHandle | None = None
        self.sent = False
        self.due = False

    def wake(self) -> None:
        """Wake the waiting connection, if any: something changed on the stream."""
        wake(self.waiter)

    async def next(self) -> bytes | None:
        """The next message for the current connection, or None once there is none to come
        (for a reader that wants messages, not events: a JSON answer)."""
        stream = self.stream
        while (item := await self.next_event(stream.generation)) is KEEPALIVE:
            pass
        return None if item is None else item[1]

    async def wait_ready(self, generation: int, timeout: float) -> None:
        """Return once `next_event(generation)` would return at once, or after `timeout`."""
        stream = self.stream
        if stream.ready(generation) or stream.over(generation):
            return
        loop = asyncio.get_running_loop()
        self.waiter = waiter = loop.create_future()
        timer = loop.call_later(timeout, wake, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            if self.waiter is waiter:
                self.waiter = None

    async def next_event(self, generation: int) -> tuple[int, bytes] | None:
        """The next (seq, message) for connection `generation`, KEEPALIVE when one is due, or
        None once there is nothing more for it: the stream ended, or the connection was
        detached, hung up or replaced."""
        stream = self.stream
        while not stream.ready(generation):
            if stream.over(generation):
                return None
            if self.due:
                self.due = False
                return KEEPALIVE
            self.waiter = waiter = asyncio.get_running_loop().create_future()
            try:
                await waiter
            finally:
                if self.waiter is waiter:  # a replaced connection's reader may wake late
                    self.waiter = None
        return stream.take()

    def start_keepalive(self, interval: float | None) -> None:
        """One timer for the stream, re-armed each `interval`: a comment goes out when no
        message did in the last one (proxies close connections idle for long). None while no
        connection reads the stream: it runs only while one does (`Stream.detach` and
        `Stream.hang_up` stop it)."""
        if interval is None or self._keepalive is not None or not self.stream.attached:
            return
        self.sent = False
        self._keepalive = asyncio.get_running_loop().call_later(interval, self._tick, interval)

    def _tick(self, interval: float) -> None:
        self._keepalive = asyncio.get_running_loop().call_later(interval, self._tick, interval)
        if not self.sent:
            self.due = True
            wake(self.waiter)
        self.sent = False

    def stop_keepalive(self) -> None:
        if self._keepalive is not None:
            self._keepalive.cancel()
            self._keepalive = None
        self.due = False


def wake(future: asyncio.Future[None] | None) -> None:
    """Resolve `future` if someone still waits on it."""
    if future is not None and not future.done():
        future.set_result(None)
