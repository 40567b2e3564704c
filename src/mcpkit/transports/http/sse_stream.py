"""An SSE stream of the Streamable HTTP transport: `Stream`, the messages of one stream in
order, numbered and bounded, which outlives the HTTP response carrying it, and the ids of
streams (spec: basic/transports, "Resumability and Redelivery"; SEP-1699). What a stream's
connection reads of it is `stream_reading`'s; how its events are stored for a resumption, and
`StreamSettings`, what the streams of an endpoint share, `stream_storing`'s.

A stream numbers its events 1, 2, 3... (0 is the priming event, which carries no message and
is never stored); its SSE ids are `make_event_id(stream_id, seq)`, so a `Last-Event-ID` names
the one stream it resumes.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import logging
import secrets
from collections.abc import Callable, Sequence
from typing import Final

import msgspec

from mcpkit.protocol.sse import MAX_STREAM_ID_LENGTH, encode_stream
from mcpkit.stores.event_log import EventStore, MemoryEventStore
from mcpkit.stores.liveness import TAG_LENGTH, process_tag
from mcpkit.transports.http.stream_reading import KEEPALIVE, StreamReading, wake
from mcpkit.transports.http.stream_storing import QueuedBudget, StreamSettings
from mcpkit.types import RequestId

__all__ = [
    "KEEPALIVE",
    "MAX_QUEUED",
    "MAX_QUEUED_BYTES",
    "PRIMING_REVISION",
    "Stream",
    "StreamSettings",
    "new_stream_id",
    "new_stream_prefix",
    "next_stream_number",
    "producer_of",
    "request_of",
    "session_tag",
    "wake",
]

logger = logging.getLogger("mcpkit.http")

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
    producer stopped can still answer the request it carried (`request_of`)."""
    stream_id = prefix + str(n)
    if request_id is None:
        return stream_id
    encoded = base64.urlsafe_b64encode(_ids.encode(request_id)).rstrip(b"=").decode()
    full = f"{stream_id}_{encoded}"
    return full if len(full) <= MAX_STREAM_ID_LENGTH else stream_id


def session_tag(session_id: str) -> str:
    """What every stream id of session `session_id` starts with, in every process serving
    it: 48 bits of the id's SHA-256, URL-safe. A Last-Event-ID is resumed only in the session
    its tag names, so a stream another process numbered is still known to be this
    session's, and another session's never is."""
    digest = hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).digest()
    return base64.urlsafe_b64encode(digest[:6]).decode()


_TAG: Final = TAG_LENGTH  # characters of a session tag, and of a process tag


def new_stream_prefix(session_id: str | None = None) -> str:
    """The stream id prefix of one process's copy of a session: the session's tag
    (`session_tag`) and the process's (`process_tag`), ending in '_' (ids are
    `[A-Za-z0-9_-]`, see `mcpkit.protocol.sse.make_event_id`); 64 random bits for a session
    with no id. Numbers after it come from `next_stream_number`, which no copy of a
    session in this process repeats."""
    if session_id is None:
        return secrets.token_urlsafe(8) + "_"
    return session_tag(session_id) + process_tag() + "_"


#: A stream number this process has not given before, at each call. (The counter's own
#: method: a stream is numbered for every call, and no Python function runs for it.)
next_stream_number: Final[Callable[[], int]] = itertools.count(1).__next__


def producer_of(stream_id: str) -> str | None:
    """The tag of the process that numbered `stream_id`, a stream of a session
    (`new_stream_prefix`); None for an id of another shape."""
    if len(stream_id) <= 2 * _TAG or stream_id[2 * _TAG] != "_":
        return None
    return stream_id[_TAG : 2 * _TAG]


def request_of(stream_id: str) -> RequestId | None:
    """The id of the request whose answer stream `stream_id` is (`new_stream_id`), or None:
    a GET stream, an id too long to carry it, or an id of another shape. The id comes back
    from a client's Last-Event-ID, so anything is possible here and nothing raises."""
    if producer_of(stream_id) is None:
        return None
    _, _, encoded = stream_id[2 * _TAG + 1 :].partition("_")
    if not encoded:
        return None
    try:
        raw = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4))
        return _ids_decoder.decode(raw)
    except (ValueError, msgspec.DecodeError):
        return None


_ids: Final = msgspec.json.Encoder()
_ids_decoder: Final[msgspec.json.Decoder[str | int]] = msgspec.json.Decoder(str | int)


class Stream(StreamReading):
    """The messages of one SSE stream, in order, numbered from 1, at most MAX_QUEUED waiting
    for the response that carries them (its "connection").

    `end()` says no more will come. `detach()` says the connection is gone: messages are
    then numbered and stored, but not queued, until `attach()` gives it a new connection.
    Each connection has a generation; a connection replaced by a newer one reads no more.

    With a `budget` (the app's `QueuedBytes`) the stream is one of its readers: `held` bytes,
    those queued and those its connection took and has not yet handed on (`sent`), are
    charged to it, and the budget may end the stream's connection (`end_slow`). It is also
    one of its replays (the budget's `Replay`): `replay_held` bytes kept in this process for a
    resumption, which the budget may drop, the oldest first (`drop_replay`).
    """

    # (The attributes the reading and storing sides use are their classes' slots.)
    __slots__ = ("seq",)

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
        self.store = store if stream_id is not None else None
        # With `later` (the store itself, an app's own `MemoryEventStore`), a message queued
        # for a connection is told to the store only once it is needed there: when the
        # connection takes it alone (`take`), or leaves it (`detach`, `hang_up`), or a
        # resumption takes the stream over (`attach`). What a connection took whole, the
        # stream ended (`rest`), stays in `kept` meanwhile: a call answered at once, its
        # stream delivered and never resumed, costs the store nothing. `stored` is the last
        # message the store was told.
        self.later: MemoryEventStore | None = None
        self.kept: Sequence[tuple[int, bytes]] | None = None
        self.stored = 0
        # Bytes kept for replay in this process (`kept`, and what an in-process store keeps
        # of this stream), charged to `budget` (as the budget's `Replay`).
        self.replay_held = 0
        self.primed = primed  # the connection opens with a priming event (SEP-1699)
        self.seq = 0
        # The queue, and futures, made only when needed: an idle stream holds none. (A list:
        # it holds one message mostly, at most MAX_QUEUED; a deque costs 600 bytes even empty,
        # and an answer's queue is what `kept` holds for a minute.)
        self._items: list[tuple[int, bytes]] | None = None
        self._queued = 0  # bytes in _items
        self._waiter: asyncio.Future[None] | None = None
        self._room: asyncio.Future[None] | None = None
        self._keepalive: asyncio.TimerHandle | None = None
        self._sent = False  # something went out since the last keep-alive tick
        self._due = False  # a keep-alive comment is to go out
        self._hangup: int | None = None  # the retry (ms) to send before closing early
        # The current connection's: one replaced by a newer one reads no more. (Read by
        # those that carry the stream; only `attach` changes it.)
        self.generation = 0
        self.attached = True
        self.ended = False

    @property
    def open(self) -> bool:
        """Whether a connection still reads this stream."""
        return self.attached

    @property
    def backed_up(self) -> bool:
        """Whether a writer waits for the connection to read (the queue is full)."""
        room = self._room
        return room is not None and not room.done()

    async def put(self, data: bytes) -> None:
        """Number `data`, store it, and queue it for the connection, waiting while the queue is
        full; without a connection it is only stored (dropped if the stream is not resumable)."""
        if self._items and (len(self._items) >= MAX_QUEUED or self._queued >= MAX_QUEUED_BYTES):
            await self._room_to_queue()
        if self.ended or not (self.attached or self.resumable):
            return
        self.seq = seq = self.seq + 1
        store = self.store
        # (A message for a connection is stored later when the stream says so: see `later`.)
        if store is not None and self.id is not None and (self.later is None or not self.attached):
            if type(store) is MemoryEventStore:  # it never waits: no coroutine
                self._keep(store, self.id, seq, data)
            else:
                await self._append(store, self.id, seq, data)
        if self.attached:
            self._queue(seq, data)

    def offer(self, data: bytes, last: bool = False) -> bool:
        """`put` when it has nothing to wait for: no message queued before this one, and none
        to store now (no store, or one told later: `later`); the message numbered and queued
        for the connection at once, with no coroutine (a call's answer on its own stream, the
        usual case), and the stream ended after it when it is the `last` (`end`, with no
        call); an empty `last` only ends the stream. False, doing nothing, otherwise: `put`
        it then."""
        if not data:  # (a cancelled request's end: nothing to send)
            if last:
                self.end()
            return last
        if self._items is not None or self.ended or not self.attached:
            return False
        if self.store is not None and self.later is None:
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
        if self._waiter is not None:  # (a call the less when none waits: every message)
            wake(self._waiter)

    async def _room_to_queue(self) -> None:
        """Wait while the connection's queue is full (it reads slowly)."""
        while (
            self.attached
            and self._items
            and (len(self._items) >= MAX_QUEUED or self._queued >= MAX_QUEUED_BYTES)
        ):
            self._room = room = asyncio.get_running_loop().create_future()
            await room

    def forgotten(self) -> None:
        """Nothing of this stream is kept any more, nor stored from now (its session let it
        go); what it kept leaves the budget."""
        self.store = self.later = self.kept = None
        if self.replay_held and self.budget is not None:  # (only a budget charges it)
            self.budget.release_replay(self)

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
        if self._waiter is not None:
            wake(self._waiter)

    def detach(self, generation: int | None = None) -> None:
        """The connection `generation` (default: the current one) is gone; the request goes on
        (the spec: a disconnect is not a cancellation), its messages only stored from now."""
        if generation is not None and generation != self.generation:
            return
        items = self._items
        if items is not None:  # (None: `_queued` is 0, as after `rest`, every answer's)
            if items and self.later is not None:  # what the connection leaves is stored
                self._store_held()
            self._items = None
            self._queued = 0
        self.attached = False
        if self.held and self.budget is not None:  # what its queue held of the budget
            self.budget.release(self)
        self._connection_gone()

    def _connection_gone(self) -> None:
        """The connection no longer reads the stream (`detach`, `whole`): its keep-alive
        stopped, anything waiting on it woken."""
        # (`stop_keepalive`, called only when needed. It clears `_due` too, which only a
        # running timer sets.)
        if self._keepalive is not None:
            self.stop_keepalive()
        if self._room is not None:
            wake(self._room)
        if self._waiter is not None:
            wake(self._waiter)

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
        if items is None:
            items = []
        elif self.later is not None:  # taken whole: kept until the store needs it (`later`)
            self.kept = items if self.kept is None else [*self.kept, *items]
            kept = self._queued
        self._queued = 0
        # The connection lets go of it, and of what it held of the budget, less what it keeps
        # for replay: one budget call. (Nothing to stop or wake, the usual case: no call.)
        self.attached = False
        budget = self.budget
        if budget is not None and (kept or self.held):
            budget.let_go(self, kept)
        if self._keepalive is not None or self._room is not None or self._waiter is not None:
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
