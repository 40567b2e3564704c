"""An SSE stream of the Streamable HTTP transport: `Stream`, the messages of one stream in
order, numbered and bounded, which outlives the HTTP response carrying it, and the id each
stream is numbered with (spec: basic/transports, "Resumability and Redelivery"; SEP-1699). It
holds two parts: its reader, the connection that waits on it (`stream_reading`), and, while it
is resumable, where its events are stored (`stream_storing`, which also holds `StreamSettings`,
what the streams of an endpoint share, and what resumption reads in a stream's id).

A stream numbers its events 1, 2, 3... (0 is the priming event, which carries no message and
is never stored); its SSE ids are `make_event_id(stream_id, seq)`, so a `Last-Event-ID` names
the one stream it resumes.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
from collections.abc import Callable, Sequence
from typing import Final

import msgspec

from mcpkit.stores.event_log import EventStore, MemoryEventStore
from mcpkit.transports.http.stream_reading import KEEPALIVE, StreamReading, wake
from mcpkit.transports.http.stream_storing import QueuedBudget, StreamSettings, StreamStoring
from mcpkit.transports.sse import MAX_STREAM_ID_LENGTH, encode_stream
from mcpkit.types import RequestId

__all__ = [
    "KEEPALIVE",
    "MAX_QUEUED",
    "MAX_QUEUED_BYTES",
    "PRIMING_REVISION",
    "Stream",
    "StreamSettings",
    "new_stream_id",
    "next_stream_number",
    "wake",
]

#: Messages held for one response whose client reads slowly; past it the session's writer
#: waits (and the runtime stops reading that session's bodies), so memory stays bounded.
MAX_QUEUED: Final = 64
#: Bytes held for one response whose client reads slowly, past which the writer waits the
#: same way: 64 messages of any size could be a gigabyte. A message is always taken when
#: nothing is queued, so one bigger than this still goes out.
MAX_QUEUED_BYTES: Final = 1024 * 1024
#: The first revision whose clients expect a priming event (SEP-1699): older clients may
#: take its empty data for a broken message.
PRIMING_REVISION: Final = "2025-11-25"


def new_stream_id(prefix: str, n: int, request_id: RequestId | None = None) -> str:
    """The id of stream `n` of a session: its `prefix` (from `new_stream_prefix`), `n`, and,
    for the stream answering one request, that request's id as base64url JSON after a '_'
    (left out when it would make the id longer than MAX_STREAM_ID_LENGTH). So an id from
    another session names nothing here, and a process that relays the stream after its
    producer stopped can still answer the request it carried (the deployment's
    `relay.request_of`)."""
    stream_id = prefix + str(n)
    if request_id is None:
        return stream_id
    encoded = base64.urlsafe_b64encode(_ids.encode(request_id)).rstrip(b"=").decode()
    full = f"{stream_id}_{encoded}"
    return full if len(full) <= MAX_STREAM_ID_LENGTH else stream_id


#: A stream number this process has not given before, at each call. (The counter's own
#: method: a stream is numbered for every call, and no Python function runs for it.)
next_stream_number: Final[Callable[[], int]] = itertools.count(1).__next__


_ids: Final = msgspec.json.Encoder()


class Stream:
    """The messages of one SSE stream, in order, numbered from 1, at most MAX_QUEUED waiting
    for the response that carries them (its "connection").

    `end()` says no more will come. `detach()` says the connection is gone: messages are
    then numbered and stored, but not queued, until `attach()` gives it a new connection.
    Each connection has a generation; a connection replaced by a newer one reads no more.

    Its parts: `storing` (`stream_storing.StreamStoring`), where its events are kept for a
    resumption, while it is resumable (None otherwise); `reader` (`stream_reading.
    StreamReading`), the connection waiting on it and its keep-alive, made the first time
    one waits (`reading()`).

    With a `budget` (the app's `QueuedBytes`) the stream is one of its readers: `held` bytes,
    those queued and those its connection took and has not yet handed on (`sent`), are
    charged to it, and the budget may end the stream's connection (`end_slow`). It is also
    one of its replays (the budget's `Replay`): `replay_held` bytes kept in this process for a
    resumption, which the budget may drop, the oldest first (`drop_replay`).
    """

    __slots__ = (
        "_hangup",
        "_items",
        "_queued",
        "_room",
        "attached",
        "budget",
        "ended",
        "generation",
        "held",
        "id",
        "primed",
        "reader",
        "replay_held",
        "seq",
        "storing",
    )

    def __init__(
        self,
        stream_id: str | None = None,
        store: EventStore | None = None,
        primed: bool = False,
        budget: QueuedBudget | None = None,
    ) -> None:
        self.id = stream_id
        self.budget = budget
        self.held = 0  # bytes charged to `budget`
        self.storing: StreamStoring | None = (
            None if store is None or stream_id is None else StreamStoring(stream_id, store)
        )
        # Bytes kept for replay in this process (`storing.kept`, and what an in-process store
        # keeps of this stream), charged to `budget` (as the budget's `Replay`).
        self.replay_held = 0
        self.primed = primed  # the connection opens with a priming event (SEP-1699)
        self.seq = 0
        # The queue made only when needed: an idle stream holds none. (A list: it holds one
        # message mostly, at most MAX_QUEUED; a deque costs 600 bytes even empty, and an
        # answer's queue is what `storing.kept` holds for a minute.)
        self._items: list[tuple[int, bytes]] | None = None
        self._queued = 0  # bytes in _items
        self._room: asyncio.Future[None] | None = None  # a writer waiting for the queue
        self.reader: StreamReading | None = None
        self._hangup: int | None = None  # the retry (ms) to send before closing early
        # The current connection's: one replaced by a newer one reads no more. (Read by
        # those that carry the stream; only `attach` changes it.)
        self.generation = 0
        self.attached = True
        self.ended = False

    @property
    def backed_up(self) -> bool:
        """Whether a writer waits for the connection to read (the queue is full)."""
        room = self._room
        return room is not None and not room.done()

    def reading(self) -> StreamReading:
        """The stream's reader (`reader`), made the first time a connection waits on it."""
        reader = self.reader
        if reader is None:
            reader = self.reader = StreamReading(self)
        return reader

    async def put(self, data: bytes) -> None:
        """Number `data`, store it, and queue it for the connection, waiting while the queue is
        full; without a connection it is only stored (dropped if the stream is not resumable)."""
        if self._items and (len(self._items) >= MAX_QUEUED or self._queued >= MAX_QUEUED_BYTES):
            await self._room_to_queue()
        storing = self.storing
        if self.ended or not (self.attached or storing is not None):
            return
        self.seq = seq = self.seq + 1
        # (A message for a connection is stored later when the stream says so:
        # `StreamStoring.later`.)
        if storing is not None and (storing.later is None or not self.attached):
            store = storing.store
            if type(store) is MemoryEventStore:  # it never waits: no coroutine
                self._keep(storing, store, seq, data)
            elif not await storing.append(seq, data):
                self.storing = None
        if self.attached:
            self._queue(seq, data)

    def offer(self, data: bytes, last: bool = False) -> bool:
        """`put` when it has nothing to wait for: no message queued before this one, and none
        to store now (no store, or one told later: `StreamStoring.later`); the message
        numbered and queued for the connection at once, with no coroutine (a call's answer on
        its own stream, the usual case), and the stream ended after it when it is the `last`
        (`end`, with no call); an empty `last` only ends the stream. False, doing nothing,
        otherwise: `put` it then."""
        if not data:  # (a cancelled request's end: nothing to send)
            if last:
                self.end()
            return last
        if self._items is not None or self.ended or not self.attached:
            return False
        storing = self.storing
        if storing is not None and storing.later is None:
            return False
        self.seq = seq = self.seq + 1
        if last:
            self.ended = True
        self._queue(seq, data)
        return True

    def _queue(self, seq: int, data: bytes) -> None:
        """Queue event `seq` for the connection, charged to the budget, and wake its reader."""
        items = self._items
        if items is None:
            self._items = [(seq, data)]
        else:
            items.append((seq, data))
        size = len(data)
        self._queued += size
        if self.budget is not None:
            self.budget.charge(self, size)
        if self.reader is not None:
            self.reader.wake()

    async def _room_to_queue(self) -> None:
        """Wait while the connection's queue is full (it reads slowly)."""
        while (
            self.attached
            and self._items
            and (len(self._items) >= MAX_QUEUED or self._queued >= MAX_QUEUED_BYTES)
        ):
            self._room = room = asyncio.get_running_loop().create_future()
            await room

    def _keep(self, storing: StreamStoring, store: MemoryEventStore, seq: int, data: bytes) -> None:
        """Have `store`, in this process, keep event `seq` now (`StreamStoring.keep`); what it
        keeps of this stream counts in the budget."""
        kept = storing.keep(store, seq, data)
        if self.budget is not None:
            self.budget.replay_is(self, kept)

    def _store_held(self) -> None:
        """Tell the store what it has not been told yet (`StreamStoring.store_held`): what a
        connection took whole, then what is queued; what it keeps counts in the budget."""
        storing = self.storing
        kept = None if storing is None else storing.store_held(self._items)
        if kept is not None and self.budget is not None:
            self.budget.replay_is(self, kept)

    def drop_replay(self) -> None:
        """The budget's `Replay.drop_replay`: what is kept for replay goes, here and in an
        in-process store, and so does the store: what comes next is not stored, and a
        resumption is answered 410 (`checks.expired`)."""
        if self.storing is not None:
            self.storing.drop()
            self.storing = None

    def relay(self, seq: int, data: bytes) -> bool:
        """Queue event `seq`, numbered and stored by the process that produced it, for the
        connection (a stream resumed in another process than its own: `relay_stream`);
        False when the queue is full, to be offered again."""
        items = self._items
        if items is not None and (len(items) >= MAX_QUEUED or self._queued >= MAX_QUEUED_BYTES):
            return False
        self.seq = seq
        self._queue(seq, data)
        return True

    def end(self) -> None:
        self.ended = True
        if self.reader is not None:
            self.reader.wake()

    def detach(self, generation: int | None = None) -> None:
        """The connection `generation` (default: the current one) is gone; the request goes on
        (the spec: a disconnect is not a cancellation), its messages only stored from now."""
        if generation is not None and generation != self.generation:
            return
        items = self._items
        if items is not None:  # (None: `_queued` is 0, as after `rest`, every answer's)
            if items and self.storing is not None:  # what the connection leaves is stored
                self._store_held()
            self._items = None
            self._queued = 0
        self.attached = False
        if self.held and self.budget is not None:  # what its queue held of the budget
            self.budget.release(self)
        self._connection_gone()

    def _connection_gone(self) -> None:
        """The connection no longer reads the stream (`detach`, `whole`, `hang_up`): its
        keep-alive stopped, anything waiting on it woken."""
        reader = self.reader
        if reader is not None:
            reader.stop_keepalive()
        if self._room is not None:
            wake(self._room)
        if reader is not None:
            reader.wake()

    def close(self) -> None:
        """The client went away (the same as `detach()`)."""
        self.detach()

    def recount(self) -> int:
        """`Reader.recount`: `held` is exact."""
        return self.held

    def end_slow(self) -> None:
        """`Reader.end_slow`: detach the connection (the client reads too slowly for the
        budget), which ends its response; a resumable stream can be taken up again."""
        self.detach()

    # ---------------------------------------------- what the connection takes of it

    def attach(self) -> int:
        """A new connection takes the stream over (a resumption); its generation. What was
        queued for the previous one is stored, so the new one replays it from the store."""
        self.generation += 1
        self._hangup = None
        if self.storing is not None:  # the new connection replays it from the store
            self._store_held()
        self._items = None
        self._queued = 0
        if self.held and self.budget is not None:
            self.budget.release(self)
        self.attached = True
        if self.reader is not None:  # the previous connection, if any, learns it is replaced
            self.reader.wake()
        return self.generation

    def sent(self) -> None:
        """The connection has handed what it took (`take`, `StreamReading.next_event`) to the
        server: it is no longer this stream's to count (what the server buffers is the
        connection's)."""
        taken = self.held - self._queued  # (0 without a budget: nothing is charged)
        if taken and self.budget is not None:
            self.budget.credit(self, taken)

    def hang_up(self, retry_ms: int, *, force: bool = False) -> bool:
        """Close the connection early, keeping the stream (SEP-1699): what is queued goes out,
        then `retry: retry_ms`, then the response ends. Only for a primed, resumable stream
        that a connection reads (any such stream with `force`, at shutdown); False otherwise."""
        usable = force or (self.primed and self.storing is not None)
        if not (usable and self.attached) or self.ended:
            return False
        if self.storing is not None:  # what comes from now on is stored at once: after these
            self._store_held()
        self._hangup = retry_ms
        self.attached = False
        self._connection_gone()
        return True

    def hung_up(self, generation: int) -> int | None:
        """The retry to send if connection `generation` was closed by `hang_up`, else None."""
        return self._hangup if generation == self.generation else None

    def ready(self, generation: int) -> bool:
        """Whether connection `generation` has a message to take at once (`take`)."""
        return bool(self._items) and generation == self.generation

    def over(self, generation: int) -> bool:
        """Whether nothing more will come to connection `generation` (so what it has to send
        may end the response): none queued for it, and the stream ended, or the connection
        was detached, hung up or replaced."""
        if self._items and generation == self.generation:
            return False
        return self.ended or generation != self.generation or not self.attached

    def take(self) -> tuple[int, bytes]:
        """The next (seq, message) when `ready`."""
        if self.reader is not None:
            self.reader.sent = True
        if self._room is not None:
            wake(self._room)
        assert self._items is not None
        item = self._items.pop(0)
        self._queued -= len(item[1])
        storing = self.storing
        if storing is not None and storing.later is not None and item[0] > storing.stored:
            self._keep(storing, storing.later, item[0], item[1])  # (see `StreamStoring`)
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
        storing = self.storing
        if storing is not None and storing.later is not None:  # kept until the store needs it
            storing.kept = items if storing.kept is None else [*storing.kept, *items]
            if self.budget is not None:
                self.budget.replay_is(self, self.replay_held + sum(len(d) for _, d in items))
        if self.reader is not None:
            self.reader.sent = True
        if self._room is not None:
            wake(self._room)
        return items

    def whole(self) -> bytes | None:
        """The SSE body that ends the current connection's response with all it will ever
        get, opened by the priming event when the stream is primed, once the stream has
        ended while that connection reads it (not hung up): the usual answer to a call,
        written at once. The connection is over then: `rest` and `detach` in one, with no
        call to either (every such answer is here). None otherwise, taking nothing."""
        if not self.ended or not self.attached:
            return None
        items = self._items
        kept = 0
        self._items = None
        storing = self.storing
        if items is None:
            items = []
        elif storing is not None and storing.later is not None:  # kept until the store needs it
            storing.kept = items if storing.kept is None else [*storing.kept, *items]
            kept = self._queued
        self._queued = 0
        # The connection lets go of it, and of what it held of the budget, less what it keeps
        # for replay: one budget call. (Nothing to stop or wake, the usual case: no call.)
        self.attached = False
        budget = self.budget
        if budget is not None and (kept or self.held):
            budget.let_go(self, kept)
        if self.reader is not None or self._room is not None:
            self._connection_gone()
        stream_id = self.id
        if stream_id is not None and len(items) == 1:
            seq, data = items[0]
            if seq == 1 and self.primed and data and 10 not in data and 13 not in data:
                # `encode_stream` of a call's one answer, with none of its checks: the id is
                # one `new_stream_id` made or `parse_event_id` read, all [A-Za-z0-9_-].
                sid = stream_id.encode()
                return b"".join(
                    (b"id: ", sid, b".0\ndata:\n\nid: ", sid, b".1\ndata: ", data, b"\n\n")
                )
        return encode_stream(stream_id, items, priming=self.primed)
