"""What the clients of one HTTP server hold unread, all together: `QueuedBytes`, one budget of
bytes queued for readers slower than their answers, counted in every SSE stream of both eras
(Streamable HTTP session streams, stateless and 2026-07-28 answers, legacy `/sse`) and in the
connections' write buffers. Past it, the reader holding the most is ended, so many slow readers
cost a bounded amount, and a newcomer is served (docs/http.md, "Limits and exposure").

What streams keep in this process for a resumption (an answer kept for its stream's
`replay_retention`, the events of the app's own event store) counts against the same budget:
it is memory a client's absence holds as surely. Past the budget, the oldest kept replays are
dropped first (the stream can no longer be resumed: a replay is what the spec lets a server
offer, not what it must), and only then is a reader ended.

A reader is charged when bytes are queued for it and credited when it hands them on (a stream)
or its peer reads them (a connection's write buffer): an int add each, the budget's only cost
while under it.
"""

from __future__ import annotations

import logging
from typing import Final, Protocol

__all__ = ["DEFAULT_MAX_QUEUED_BYTES", "QueuedBytes", "Reader", "Replay", "ReplayingReader"]

logger = logging.getLogger("mcpkit.http")

#: Bytes queued for slow readers across the app. A quarter of a GiB: sixteen answers of the
#: default 16 MiB max_message_size, while ordinary traffic (answers read as fast as they are
#: written) holds next to nothing here; a server with more memory and many clients streaming
#: large answers at once may raise it.
DEFAULT_MAX_QUEUED_BYTES: Final = 256 * 1024 * 1024


class Reader(Protocol):
    """One reader of the budget: a stream's connection, or a connection's write buffer."""

    #: Bytes charged to the budget now (the budget keeps it: `QueuedBytes.charge`/`credit`).
    held: int

    def recount(self) -> int:
        """The bytes it holds now, where `held` may be stale (a write buffer drains unseen)."""
        ...

    def end_slow(self) -> None:
        """End this reader's stream or connection now: its client reads too slowly. What it
        holds is freed (or soon is: a connection aborted)."""
        ...


class Replay(Protocol):
    """What one stream keeps in this process for a resumption (its `Last-Event-ID`)."""

    #: Bytes kept for replay charged to the budget now (`QueuedBytes.replay_is`).
    replay_held: int

    def drop_replay(self) -> None:
        """Drop what is kept for replay: the budget needs the room. The stream can no longer
        be resumed (`replay_held` is already 0: the budget has credited it)."""
        ...


class ReplayingReader(Reader, Replay, Protocol):
    """A reader that also keeps bytes for replay: an SSE stream (`sse_stream.Stream`)."""


class QueuedBytes:
    """At most `max_bytes` queued for all readers together (`max_queued_bytes`). `total` is the
    sum of the readers' `held`, and `holding` the readers holding some, in the order they
    began to (a dict: ordered, O(1) removal); `ended` counts the readers ended for going past
    `max_bytes`. Each event of a reader is one call here: `charge`, `credit`, `release`, and
    for a stream that keeps what its connection took for replay, `let_go`.

    `replays` are the streams keeping bytes for replay (their `replay_held`, in `total` too),
    in the order they began to; `dropped` counts the replays dropped for going past
    `max_bytes`."""

    __slots__ = ("dropped", "ended", "holding", "max_bytes", "replays", "total")

    def __init__(self, max_bytes: int = DEFAULT_MAX_QUEUED_BYTES) -> None:
        if max_bytes < 1:
            raise ValueError("max_queued_bytes must be a positive number of bytes")
        self.max_bytes = max_bytes
        self.total = 0
        self.ended = 0
        self.dropped = 0
        self.holding: dict[Reader, None] = {}
        self.replays: dict[Replay, None] = {}

    def charge(self, reader: Reader, size: int) -> None:
        """`reader` holds `size` bytes more; past `max_bytes`, the slowest reader is ended."""
        if not reader.held:
            self.holding[reader] = None
        reader.held += size
        self.total += size
        if self.total > self.max_bytes:
            self.over(reader, size)

    def credit(self, reader: Reader, size: int) -> None:
        """`reader` holds `size` bytes fewer (handed on, or read by its peer)."""
        reader.held -= size
        self.total -= size
        if not reader.held:
            self.holding.pop(reader, None)

    def release(self, reader: Reader) -> None:
        """`reader` holds nothing any more (its stream or connection is over)."""
        if reader.held:
            self.total -= reader.held
            reader.held = 0
            self.holding.pop(reader, None)

    def let_go(self, stream: ReplayingReader, kept: int) -> None:
        """`stream`'s connection let go of it: what it held is released (`release`), and
        `kept` bytes more are kept for replay (`replay_is` of `replay_held + kept`): what the
        connection took whole, which the stream keeps until its store needs it."""
        held = stream.held
        if held:
            stream.held = 0
            self.holding.pop(stream, None)
        if not kept:
            self.total -= held
            return
        stream.replay_held += kept
        self.replays[stream] = None  # (where it was if it kept some already)
        self.total += kept - held
        if self.total > self.max_bytes:
            self._shed(None)

    def replay_is(self, replay: Replay, size: int) -> None:
        """`replay` keeps `size` bytes for replay now; past `max_bytes`, the oldest replays
        are dropped (this one too, if it is the oldest), then the slowest reader ended."""
        grown = size - replay.replay_held
        if not grown:
            return
        replay.replay_held = size
        self.total += grown
        if not size:
            self.replays.pop(replay, None)
            return
        self.replays[replay] = None  # (where it was if it kept some already)
        if grown > 0 and self.total > self.max_bytes:
            self._shed(None)

    def release_replay(self, replay: Replay) -> None:
        """`replay` keeps nothing any more (its stream was forgotten)."""
        if replay.replay_held:
            self.total -= replay.replay_held
            replay.replay_held = 0
            self.replays.pop(replay, None)

    def _drop_replays(self) -> None:
        """Drop the oldest replays until the total is within `max_bytes`, or none is left."""
        replays = self.replays
        while self.total > self.max_bytes and replays:
            oldest = next(iter(replays))
            del replays[oldest]
            held = oldest.replay_held
            self.total -= held
            oldest.replay_held = 0
            self.dropped += 1
            logger.info(
                "dropped %d bytes kept to replay a stream (it can no longer be resumed): "
                "past max_queued_bytes %d",
                held,
                self.max_bytes,
            )
            oldest.drop_replay()

    def over(self, charged: Reader, size: int) -> None:
        """The total passed `max_bytes` when `charged` was charged `size` bytes: drop the
        oldest replays; while still past it, end the readers holding the most until it is
        back within, oldest first among equals. A
        newcomer (`charged` held nothing before those bytes) is spared: it has had no time to
        read them, and the readers already holding are the slow ones; unless it alone holds
        more than `max_bytes`."""
        fresh = charged.held == size and size <= self.max_bytes
        self._shed(charged if fresh else None)

    def _shed(self, newcomer: Reader | None) -> None:
        for reader in list(self.holding):  # a write buffer may have drained unseen
            now = reader.recount()
            if now != reader.held:
                self.credit(reader, reader.held - now)
        if self.replays and self.total > self.max_bytes:
            self._drop_replays()
        while self.total > self.max_bytes and self.holding:
            # max() keeps the first of equals: the dict is in the order readers began to hold.
            slowest = max(
                (r for r in self.holding if r is not newcomer),
                key=lambda r: r.held,
                default=newcomer,
            )
            if slowest is None:
                return
            held = slowest.held
            self.release(slowest)  # before ending it: ending may call back into release
            self.ended += 1
            logger.warning(
                "ended a stream whose client reads too slowly: it held %d bytes unread, all "
                "readers %d, past max_queued_bytes %d",
                held,
                self.total + held,
                self.max_bytes,
            )
            slowest.end_slow()
