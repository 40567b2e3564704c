"""What waits to be sent to the peer: one writer at a time, and a backlog bounded in bytes.

Messages leave in the order they were queued; whoever queues with no writer running
becomes the writer and hands each message to `channel.send`, which waits for the
transport's flow control, so the backlog builds up here, where it is counted, and not in
the transport. Bytes that answer the peer (responses, and what handlers send while
serving) are counted apart: the Connection stops reading while they are over high water.
A channel with `send_routed` gets each message's routing beside its bytes.

The water marks are in bytes of encoded messages. Past `high` a gate closes; it opens again
only once the count is down to `low`, a quarter of it, so a backlog that hovers at the mark
does not open and close the gate (and wake its waiters) on every message. The message being
written counts until `send` returns: one message larger than `high` (a 15 MB resource) closes
the gates by itself, rather than passing unseen while the reader takes more work.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable
from typing import Final

from mcpkit.errors import ConnectionClosed
from mcpkit.protocol.outbox import Outgoing
from mcpkit.runtime.background import BackgroundTasks
from mcpkit.runtime.channel import ChannelExtras

__all__ = ["DEFAULT_SEND_HIGH_WATER", "Gate", "Outbound"]

#: Bytes queued for the peer above which we stop reading (and our own requests wait);
#: both resume once the backlog is down to a quarter of it.
DEFAULT_SEND_HIGH_WATER: Final = 1024 * 1024


class Gate:
    """`asyncio.Event`'s set/clear/is_set/wait, holding a future only while someone waits:
    every idle connection has two, and an Event costs a deque of waiters from the start."""

    __slots__ = ("_open", "_waiter")

    def __init__(self) -> None:
        self._open = True
        self._waiter: asyncio.Future[None] | None = None

    def is_set(self) -> bool:
        """Whether the gate is open (`wait` returns at once)."""
        return self._open

    def set(self) -> None:
        """Open the gate and wake everyone waiting."""
        self._open = True
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def clear(self) -> None:
        """Close the gate: `wait` blocks until the next `set`."""
        self._open = False

    async def wait(self) -> None:
        """Return once the gate is open."""
        # A loop: the gate may close again between the `set` that woke us and our turn.
        while not self._open:
            if self._waiter is None:
                self._waiter = asyncio.get_running_loop().create_future()
            # shield: one waiter cancelled must not cancel the future the others share
            await asyncio.shield(self._waiter)


class Outbound:
    """The send side of one Connection. `on_closed` is told when `channel.send` fails.

    `queued` counts the bytes in `queue` and the message being written, and `answers` those
    of them that answer the peer. A message leaves both counts once `send` has returned:
    what the transport holds after that is the transport's to bound. At most one writer runs
    (`writing`), so messages reach the channel in the order they were queued.
    """

    def __init__(
        self,
        extras: ChannelExtras,
        high_water: int,
        on_closed: Callable[[ConnectionClosed], None],
        background: BackgroundTasks,
    ) -> None:
        if high_water < 1:
            raise ValueError("send_high_water must be at least 1 byte")
        self.channel = extras.channel
        #: The channel's `send_routed` (see `RoutedChannel`), or None: `send` takes the bytes.
        self.send_routed = extras.send_routed
        self.high = high_water
        self.low = high_water // 4
        # (message, answers the peer); made when first needed, dropped when drained: an idle
        # connection holds no deque (600 bytes even empty)
        self.queue: collections.deque[tuple[Outgoing, bool]] | None = None
        self.queued = 0  # bytes in the queue
        self.answers = 0  # bytes in the queue that answer the peer
        #: A writer is running (`send_alone`, `write_queued`): whoever queues now leaves the
        #: sending to it.
        self.writing = False
        self.closed = False
        self._on_closed = on_closed
        self._background = background
        self._idle: asyncio.Future[None] | None = None  # set when the writer empties the queue
        self.room = Gate()  # open while `queued` has come down to low water
        self.answer_room = Gate()  # the same for `answers`

    async def send_alone(self, item: Outgoing, answering: bool = True) -> None:
        """Write one message with nothing queued before it and no writer running (the
        common case, kept cheap); what others queue meanwhile is written after it."""
        self.writing = True
        size = len(item.data)
        # Counted while it is written (nothing else is: the counts were 0).
        self.queued += size
        if answering:
            self.answers += size
        if size > self.high:
            self._over_high(answering)
        routed = self.send_routed
        try:
            if routed is None:
                await self.channel.send(item.data)
            else:
                await routed(item.data, item.related, item.final)
        except ConnectionClosed as exc:
            self._on_closed(exc)
        finally:
            if self.queue or size > self.high:
                self._sent(size, answering)  # the gates may be closed: it opens them
            # fast path: mirrors `_sent` when the gates are open (docs/performance.md, fast paths)
            elif not self.closed:
                self.queued -= size
                if answering:
                    self.answers -= size
            if self.queue or self._idle is not None:
                self._writer_done()
            else:  # fast path: mirrors `_writer_done` (docs/performance.md, fast paths)
                self.writing = False
                self.queue = None

    def enqueue(self, items: list[Outgoing], answering: bool) -> None:
        """Queue messages behind those already queued (`answering`: they answer the peer).
        Past high water the gates close; waiting, or not, is the caller's choice."""
        if self.queue is None:
            self.queue = collections.deque()
        append = self.queue.append
        size = 0
        for item in items:
            append((item, answering))
            size += len(item.data)
        self.queued += size
        if answering:
            self.answers += size
        if self.queued > self.high:
            self._over_high(answering)

    def _over_high(self, answering: bool) -> None:
        self.room.clear()
        if answering and self.answers > self.high:
            self.answer_room.clear()

    def start_writer(self) -> None:
        """Drain the queue in a task of its own (for callers that must not block)."""
        # Set before the task starts, so nobody else becomes a writer in between.
        self.writing = True
        self._background.spawn(self.write_queued())

    async def write_queued(self) -> None:
        """Be the writer until the queue is empty."""
        self.writing = True
        # The deque is held for the whole run: `close` empties it in place, which ends the loop.
        queue: collections.deque[tuple[Outgoing, bool]] = self.queue or collections.deque()
        send = self.channel.send
        routed = self.send_routed
        try:
            while queue:
                item, answer = queue.popleft()
                try:
                    if routed is None:
                        await send(item.data)
                    else:
                        await routed(item.data, item.related, item.final)
                finally:
                    self._sent(len(item.data), answer)
        except ConnectionClosed as exc:
            self._on_closed(exc)
        finally:
            self._writer_done()

    def _writer_done(self) -> None:
        if self.queue and not self.closed:  # queued behind us, or we were cancelled
            self.start_writer()  # the writer's role passes on
            return
        self.writing = False
        self.queue = None
        idle, self._idle = self._idle, None
        if idle is not None and not idle.done():
            idle.set_result(None)

    def _sent(self, size: int, answer: bool) -> None:
        if self.closed:
            return  # `close` zeroed the counts, this message's with them
        self.queued -= size
        if self.queued <= self.low and not self.room.is_set():
            self.room.set()
        if answer:
            self.answers -= size
            if self.answers <= self.low and not self.answer_room.is_set():
                self.answer_room.set()

    async def wait_idle(self, timeout: float) -> None:
        """Wait (at most `timeout` seconds) until everything queued is handed to the channel."""
        if not self.writing or self.closed:
            return
        # Set by `_writer_done` when the last writer leaves an empty queue. One future for
        # every waiter: a second one must not replace (and so strand) the first's.
        idle = self._idle
        if idle is None or idle.done():
            self._idle = idle = asyncio.get_running_loop().create_future()
        await asyncio.wait([idle], timeout=timeout)

    def close(self) -> None:
        """Drop what is queued and wake whoever waits for room (they find us closed)."""
        self.closed = True
        if self.queue is not None:
            self.queue.clear()  # a writer running holds it: it finds nothing more to send
            self.queue = None
        self.queued = self.answers = 0
        self.room.set()
        self.answer_room.set()
