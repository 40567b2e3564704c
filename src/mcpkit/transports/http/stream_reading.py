"""The reading side of an SSE stream (`sse_stream.Stream`): what the response carrying it does
with it, taking it over (`attach`, a resumption), message by message (`next_event`, `take`,
`rest`, waiting with `wait_ready`), the keep-alive comments of a quiet stream, and the early
close that keeps the stream for a resumption (`hang_up`, SEP-1699). A room apart from the
stream's queue because a call answered at once never reads its stream this way: its answer
goes out whole (`Stream.whole`)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Final

from mcpkit.transports.http.stream_storing import StreamStoring

__all__ = ["KEEPALIVE", "StreamReading", "wake"]

#: What `Stream.next_event` returns when a keep-alive comment is due: no message has gone out for
#: a whole `keepalive_interval`.
KEEPALIVE: Final = (-1, b"")


class StreamReading(StreamStoring):
    """What the connection carrying a `Stream` reads of it (`sse_stream.Stream` holds the
    attributes; their meaning is said there)."""

    __slots__ = (
        "_due",
        "_hangup",
        "_keepalive",
        "_queued",
        "_room",
        "_sent",
        "_waiter",
        "attached",
        "ended",
        "generation",
        "held",
        "primed",
        "replay_held",
    )

    _items: list[tuple[int, bytes]] | None
    _queued: int
    _waiter: asyncio.Future[None] | None
    _room: asyncio.Future[None] | None
    _keepalive: asyncio.TimerHandle | None
    _sent: bool
    _due: bool
    _hangup: int | None
    generation: int
    attached: bool
    ended: bool
    primed: bool
    replay_held: int
    held: int

    def attach(self) -> int:
        """A new connection takes the stream over (a resumption); its generation. What was
        queued for the previous one is stored, so the new one replays it from the store."""
        self.generation += 1
        self._hangup = None
        if self.later is not None:  # the new connection replays it from the store
            self._store_held()
        self._items = None
        self._queued = 0
        if self.held and self.budget is not None:
            self.budget.release(self)
        self.attached = True
        wake(self._waiter)  # the previous connection, if any, learns it is replaced
        return self.generation

    def sent(self) -> None:
        """The connection has handed what it took (`next_event`, `next`) to the server: it is
        no longer this stream's to count (what the server buffers is the connection's)."""
        taken = self.held - self._queued  # (0 without a budget: nothing is charged)
        if taken and self.budget is not None:
            self.budget.credit(self, taken)

    def hang_up(self, retry_ms: int, *, force: bool = False) -> bool:
        """Close the connection early, keeping the stream (SEP-1699): what is queued goes out,
        then `retry: retry_ms`, then the response ends. Only for a primed, resumable stream
        that a connection reads (any such stream with `force`, at shutdown); False otherwise."""
        usable = force or (self.primed and self.resumable)
        if not (usable and self.attached) or self.ended:
            return False
        if self.later is not None:  # what comes from now on is stored at once: after these
            self._store_held()
        self._hangup = retry_ms
        self.attached = False
        self.stop_keepalive()
        wake(self._room)
        wake(self._waiter)
        return True

    def hung_up(self, generation: int) -> int | None:
        """The retry to send if connection `generation` was closed by `hang_up`, else None."""
        return self._hangup if generation == self.generation else None

    async def next(self) -> bytes | None:
        """The next message for the current connection, or None once there is none to come
        (for a reader that wants messages, not events: a JSON answer)."""
        while (item := await self.next_event(self.generation)) is KEEPALIVE:
            pass
        return None if item is None else item[1]

    def peek(self) -> bytes | None:
        """The first message queued for the current connection, left in place; None if none."""
        items = self._items
        return items[0][1] if items else None

    def ready(self, generation: int) -> bool:
        """Whether `next_event(generation)` has a message to return at once."""
        return bool(self._items) and generation == self.generation

    async def wait_ready(self, generation: int, timeout: float) -> None:
        """Return once `next_event(generation)` would return at once, or after `timeout`."""
        if self._items or self.ended or generation != self.generation or not self.attached:
            return
        loop = asyncio.get_running_loop()
        self._waiter = waiter = loop.create_future()
        timer = loop.call_later(timeout, wake, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            if self._waiter is waiter:
                self._waiter = None

    def over(self, generation: int) -> bool:
        """Whether `next_event(generation)` would return None at once: nothing more will come
        to connection `generation` (so what it has to send may end the response)."""
        if self._items and generation == self.generation:
            return False
        return self.ended or generation != self.generation or not self.attached

    async def next_event(self, generation: int) -> tuple[int, bytes] | None:
        """The next (seq, message) for connection `generation`, KEEPALIVE when one is due, or
        None once there is nothing more for it: the stream ended, or the connection was
        detached, hung up or replaced."""
        while not self._items:
            if self.ended or generation != self.generation or not self.attached:
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
        if generation != self.generation:
            return None
        return self.take()

    def take(self) -> tuple[int, bytes]:
        """The next (seq, message) when `ready`: `next_event` without a coroutine."""
        self._sent = True
        if self._room is not None:
            wake(self._room)
        assert self._items is not None
        item = self._items.pop(0)
        self._queued -= len(item[1])
        later = self.later
        if later is not None and item[0] > self.stored and self.id is not None:
            self._keep(later, self.id, item[0], item[1])  # (see `later`)
        return item

    def rest(self, generation: int) -> Sequence[tuple[int, bytes]] | None:
        """Every (seq, message) queued, in order, leaving none, when they are all connection
        `generation` will ever get (the stream ended, and the connection is the current one
        and attached: not hung up); else None, taking nothing."""
        if not self.ended or not self.attached or generation != self.generation:
            return None
        items = self._items
        if items is None:
            return ()
        self._items = None
        self._queued = 0
        if self.later is not None:  # (see `later`)
            if self.kept is None:
                self.kept = items
            else:
                self.kept = [*self.kept, *items]
            if self.budget is not None:
                self.budget.replay_is(self, self.replay_held + sum(len(d) for _, d in items))
        self._sent = True
        if self._room is not None:
            wake(self._room)
        return items

    # ------------------------------------------------------------- keep-alive

    def start_keepalive(self, interval: float | None) -> None:
        """One timer for the stream, re-armed each `interval`: a comment goes out when no
        message did in the last one (proxies close connections idle for long). None while no
        connection reads the stream: it runs only while one does (`detach` and `hang_up` stop
        it)."""
        if interval is None or self._keepalive is not None or not self.attached:
            return
        self._sent = False
        self._keepalive = asyncio.get_running_loop().call_later(interval, self._tick, interval)

    def _tick(self, interval: float) -> None:
        self._keepalive = asyncio.get_running_loop().call_later(interval, self._tick, interval)
        if not self._sent:
            self._due = True
            wake(self._waiter)
        self._sent = False

    def stop_keepalive(self) -> None:
        if self._keepalive is not None:
            self._keepalive.cancel()
            self._keepalive = None
        self._due = False


def wake(future: asyncio.Future[None] | None) -> None:
    """Resolve `future` if someone still waits on it."""
    if future is not None and not future.done():
        future.set_result(None)
