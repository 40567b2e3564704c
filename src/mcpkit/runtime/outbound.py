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

    __slots__ = ("_waiter", "open")

    def __init__(self) -> None:
        #: Whether the gate is open (`is_set`), read as an attribute where a call would cost.
        self.open = True
        self._waiter: asyncio.Future[None] | None = None

    def is_set(self) -> bool:
        """Whether the gate is open (`wait` returns at once)."""
        return self.open

    def set(self) -> None:
        """Open the gate and wake everyone waiting."""
        self.open = True
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def clear(self) -> None:
        """Close the gate: `wait` blocks until the next `set`."""
        self.open = False

    async def wait(self) -> None:
        """Return once the gate is open."""
        # A loop: the gate may close again between the `set` that woke us and our turn.
        while not self.open:
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

    # Slots: every open connection holds one, idle ones too (docs/performance.md, idle session).
    __slots__ = (
        "_background",
        "_idle",
        "_on_closed",
        "answer_room",
        "answers",
        "channel",
        "closed",
        "high",
        "low",
        "queue",
        "queued",
        "room",
        "send_routed",
        "writing",
    )

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
        #: A writer is running (`send`): whoever queues now leaves the sending to it.
        self.writing = False
        self.closed = False
        self._on_closed = on_closed
        self._background = background
        self._idle: asyncio.Future[None] | None = None  # set when the writer empties the queue
        self.room = Gate()  # open while `queued` has come down to low water
        self.answer_room = Gate()  # the same for `answers`

    async def send(self, items: list[Outgoing] | None, answering: bool = True) -> None:
        """Send `items` after everything queued before them (`answering`: they answer the
        peer); once closed, they are dropped. One message with nothing queued and no writer
        running (the common case) is written by this task at once, and what others queue
        meanwhile goes to a writer task of its own. Else they are queued (`_queue`), and this
        task becomes the writer if none runs. None: be the writer of what is queued, until
        the queue is empty (`start_writer`)."""
        item: Outgoing | None = None
        if (
            items is not None
            and len(items) == 1
            and not self.writing
            and not self.queue
            and not self.closed
        ):
            item = items[0]
            self._count(len(item.data), answering)
        elif not await self._queue(items, answering):
            return  # (another task writes them)
        self.writing = True
        # The deque is held for the whole run: `close` empties it in place, which ends the loop.
        queue = self.queue if item is None else None
        routed = self.send_routed
        answer = answering
        try:
            while item is not None or queue:
                if item is None:
                    item, answer = queue.popleft()  # type: ignore[union-attr]
                data = item.data
                try:
                    await (
                        self.channel.send(data)
                        if routed is None
                        else routed(data, item.related, item.final)
                    )
                finally:
                    item = None
                    if not self.closed:  # (else `close` zeroed the counts, this message's too)
                        self.queued -= len(data)
                        self.answers -= len(data) if answer else 0
                        if not (self.room.open and self.answer_room.open):
                            self._open_gates()
        except ConnectionClosed as exc:
            self._on_closed(exc)
        finally:
            # The writer stops: what was queued behind it (or meanwhile, when it was
            # cancelled) goes to a writer task of its own; else `wait_idle` returns.
            if self.queue and not self.closed:
                self.start_writer()  # the writer's role passes on
            else:
                self.writing = False
                self.queue = None
                if self._idle is not None:
                    self._wake_idle()

    async def _queue(self, items: list[Outgoing] | None, answering: bool) -> bool:
        """`send` of what is not one message alone: queued (if anything, and not closed);
        True when this task is to write them (no writer runs), or drain the queue (None).
        Where another writes and answers are over high water, returns once there is room
        again: a handler that answers faster than the peer reads goes at the peer's pace."""
        if items is None:
            return True
        if not items or self.closed:
            return False
        self.enqueue(items, answering)
        if not self.writing:
            return True
        if answering and self.answers > self.high:
            await self.answer_room.wait()
        return False

    def _wake_idle(self) -> None:
        """Nobody writes any more: whoever waits in `wait_idle` returns."""
        idle, self._idle = self._idle, None
        if idle is not None and not idle.done():
            idle.set_result(None)

    def _open_gates(self) -> None:
        """Open each closed gate whose count is down to low water."""
        if self.queued <= self.low and not self.room.open:
            self.room.set()
        if self.answers <= self.low and not self.answer_room.open:
            self.answer_room.set()

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
        self._count(size, answering)

    def _count(self, size: int, answering: bool) -> None:
        """`size` more bytes wait for the peer; past high water the gates close."""
        self.queued += size
        if answering:
            self.answers += size
        if self.queued > self.high:
            self.room.clear()
            if answering and self.answers > self.high:
                self.answer_room.clear()

    def start_writer(self) -> None:
        """Drain the queue in a task of its own (for callers that must not block)."""
        # Set before the task starts, so nobody else becomes a writer in between.
        self.writing = True
        self._background.spawn(self.send(None))

    async def wait_idle(self, timeout: float) -> None:
        """Wait (at most `timeout` seconds) until everything queued is handed to the channel."""
        if not self.writing or self.closed:
            return
        # Set by `send` when the last writer leaves an empty queue. One future for
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
