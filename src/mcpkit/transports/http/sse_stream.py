"""An SSE stream of the Streamable HTTP transport: `Stream`, the messages of one stream in
order, numbered and bounded, which outlives the HTTP response carrying it, and
`StreamSettings`, what the streams of an endpoint share, among them the
`mcpkit.stores.event_log.EventStore` that keeps their messages for a resumption (spec:
basic/transports, "Resumability and Redelivery"; SEP-1699).

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
from dataclasses import dataclass, field
from typing import Final

import msgspec

from mcpkit.protocol.sse import MAX_STREAM_ID_LENGTH, encode_stream
from mcpkit.stores.event_log import EventStore, MemoryEventStore
from mcpkit.stores.liveness import TAG_LENGTH, process_tag
from mcpkit.transports.http.slow_readers import QueuedBytes
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
#: What `Stream.next_event` returns when a keep-alive comment is due: no message has gone out for
#: a whole `keepalive_interval`.
KEEPALIVE: Final = (-1, b"")
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


@dataclass(frozen=True, slots=True)
class StreamSettings:
    """What the streams of one endpoint share. `store` keeps their messages for replay
    (None: streams are not resumable and carry no ids); `retention` is how many seconds a
    stream cut before its end stays resumable once it has ended; `retry_ms` is the `retry`
    sent when the server closes a connection early; `keepalive_interval` is the idle time
    after which a comment goes out (None: never). `relayed` says other processes may resume
    these streams (a shared store with process leases): a call's stream id then names its
    request, for a relay to answer it should this process stop (`request_of`); otherwise
    ids stay short. `queued` is the app's budget of bytes its slow readers hold, which every
    stream is charged against (None: none). `forgetting` holds the store's deletions started
    by `forget_later` until they are done. `own_store` is `store` when these streams alone
    read it (the `MemoryEventStore` that `build` made), so that a stream may tell it a message
    only once it is needed there (`Stream.later`); None otherwise."""

    store: EventStore | None = field(default_factory=MemoryEventStore)
    retention: float = 60.0
    retry_ms: int = 1000
    keepalive_interval: float | None = 15.0
    relayed: bool = False
    queued: QueuedBytes | None = field(default=None, compare=False)
    forgetting: set[asyncio.Task[None]] = field(
        default_factory=set[asyncio.Task[None]], compare=False, repr=False
    )
    own_store: MemoryEventStore | None = field(default=None, compare=False, repr=False)

    def forget_later(self, stream_ids: list[str]) -> None:
        """Have the store forget `stream_ids` in a task of their own. Only for callers that
        cannot wait, since they are not coroutines: the timer that ends a stream's retention
        and `HttpChannel.close()`, which the runtime and the app call from plain callbacks
        when a session ends; every other caller awaits `store.forget` itself. The task is
        held in `forgetting` until it is done, so that it is never collected half-way and
        the app's shutdown waits for it (`drain`)."""
        store = self.store
        if store is None or not stream_ids:
            return
        task = asyncio.get_running_loop().create_task(_forget_all(store, stream_ids))
        self.forgetting.add(task)
        task.add_done_callback(self.forgetting.discard)

    def forget_at_once(self, stream_ids: list[str]) -> list[str]:
        """Have the store forget `stream_ids` now when it never waits (a `MemoryEventStore`);
        those still to forget (all of them for another store), for `forget_now`."""
        store = self.store
        if type(store) is not MemoryEventStore:
            return stream_ids
        for stream_id in stream_ids:
            store.drop(stream_id)
        return []

    async def forget_now(self, stream_ids: list[str]) -> None:
        """Have the store forget `stream_ids`, waiting for it; a store that fails (it is
        down) is logged, not raised: what asked to forget (a session ending, a response's
        end) is done either way, and a shared store's TTLs free what it still holds."""
        if self.store is not None and stream_ids:
            await _forget_all(self.store, stream_ids)

    async def drain(self) -> None:
        """Wait for the deletions `forget_later` started (at shutdown, once every session has
        ended: none starts after that)."""
        while self.forgetting:
            await asyncio.wait(set(self.forgetting))

    @classmethod
    def build(
        cls,
        resumable: bool,
        store: EventStore | None,
        window: int,
        retention: float,
        retry: float,
        keepalive: float | None,
        *,
        relayed: bool = False,
        queued: QueuedBytes | None = None,
    ) -> StreamSettings:
        """The settings from the app's (`McpHttpApp`): seconds, and a store made if needed."""
        if retention < 0 or retry < 0 or (keepalive is not None and keepalive <= 0):
            raise ValueError(
                "replay_retention and sse_retry must be seconds >= 0, and keepalive_interval "
                "seconds > 0 (or None for no keep-alive comments)"
            )
        own_store = None
        if resumable and store is None:
            store = own_store = MemoryEventStore(max_events=window)
        return cls(
            store=store if resumable else None,
            retention=retention,
            retry_ms=round(retry * 1000),
            keepalive_interval=keepalive,
            relayed=relayed,
            queued=queued,
            own_store=own_store,
        )


async def _forget_all(store: EventStore, stream_ids: list[str]) -> None:
    for stream_id in stream_ids:
        try:
            await store.forget(stream_id)
        except Exception as exc:  # nobody is to hear of it: said here, once for the lot
            logger.warning(
                "the event store failed to forget the events of %d streams (%s); a shared "
                "store's TTLs free them",
                len(stream_ids),
                str(exc) or type(exc).__name__,
            )
            return  # the rest would wait for a store that is down as long again


class Stream:
    """The messages of one SSE stream, in order, numbered from 1, at most MAX_QUEUED waiting
    for the response that carries them (its "connection").

    `end()` says no more will come. `detach()` says the connection is gone: messages are
    then numbered and stored, but not queued, until `attach()` gives it a new connection.
    Each connection has a generation; a connection replaced by a newer one reads no more.

    With a `budget` (the app's `QueuedBytes`) the stream is one of its readers: `held` bytes,
    those queued and those its connection took and has not yet handed on (`sent`), are
    charged to it, and the budget may end the stream's connection (`end_slow`). It is also
    one of its replays (`slow_readers.Replay`): `replay_held` bytes kept in this process for a
    resumption, which the budget may drop, the oldest first (`drop_replay`).
    """

    __slots__ = (
        "_due",
        "_hangup",
        "_items",
        "_keepalive",
        "_queued",
        "_room",
        "_sent",
        "_waiter",
        "attached",
        "budget",
        "ended",
        "generation",
        "held",
        "id",
        "kept",
        "later",
        "primed",
        "replay_held",
        "seq",
        "store",
        "stored",
    )

    def __init__(
        self,
        stream_id: str | None = None,
        store: EventStore | None = None,
        primed: bool = False,
        budget: QueuedBytes | None = None,
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
        # of this stream), charged to `budget` (`slow_readers.Replay`).
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
    def resumable(self) -> bool:
        return self.store is not None

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

    async def _append(self, store: EventStore, stream_id: str, seq: int, data: bytes) -> None:
        try:
            await store.append(stream_id, seq, data)
        except Exception as exc:  # any store's failure: the message goes out all the same
            self._stop_storing(exc)

    def _stop_storing(self, exc: Exception) -> None:
        """The store failed to keep an event (it is down, or past its deadline: `mcpkit.
        stores.deadline`): the message still goes to the connection, and so does the rest of
        the stream, but none of it is stored any more, and a resumption of the stream is
        refused (410) rather than replayed with a hole. A stream that waited on the store
        for every message would hold its client for a deadline per message."""
        logger.warning(
            "stream %s is no longer resumable: its event store failed (%s)",
            self.id,
            str(exc) or type(exc).__name__,
        )
        self.store = None

    def _store_held(self) -> None:
        """Tell the store (`later`) what it has not been told yet, in order: what the
        connection took whole (`kept`), then what is queued for it."""
        later, stream_id = self.later, self.id
        if later is None or stream_id is None:
            return
        stored = self.stored
        for held in (self.kept, self._items):
            for seq, data in held or ():
                if seq > stored:
                    later.keep(stream_id, seq, data)
                    stored = seq
        self.stored = stored
        self.kept = None
        if self.budget is not None:
            self.budget.replay_is(self, later.kept_bytes(stream_id))

    def _keep(self, store: MemoryEventStore, stream_id: str, seq: int, data: bytes) -> None:
        """Have `store`, in this process, keep event `seq` now; what it keeps of this stream
        counts in the budget, with `kept`."""
        in_store = store.keep(stream_id, seq, data)
        self.stored = seq
        if self.budget is not None:
            kept = sum(len(data) for _, data in self.kept) if self.kept else 0
            self.budget.replay_is(self, in_store + kept)

    def forgotten(self) -> None:
        """Nothing of this stream is kept any more, nor stored from now (its session let it
        go); what it kept leaves the budget."""
        self.store = self.later = self.kept = None
        if self.replay_held and self.budget is not None:  # (only a budget charges it)
            self.budget.release_replay(self)

    def drop_replay(self) -> None:
        """`slow_readers.Replay.drop_replay`: what is kept for replay goes, here and in an
        in-process store, and so does the store: what comes next is not stored, and a
        resumption is answered 410 (`checks.expired`)."""
        store, stream_id = self.store, self.id
        if type(store) is MemoryEventStore and stream_id is not None:
            store.drop(stream_id)
        self.store = self.later = self.kept = None

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

    def recount(self) -> int:
        """`Reader.recount`: `held` is exact."""
        return self.held

    def end_slow(self) -> None:
        """`Reader.end_slow`: detach the connection (the client reads too slowly for the
        budget), which ends its response; a resumable stream can be taken up again."""
        self.detach()

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
