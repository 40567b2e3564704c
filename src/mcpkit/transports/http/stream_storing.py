"""Where an SSE stream's events are kept for a resumption (spec: basic/transports, "Resumability
and Redelivery"): `StreamSettings`, what the streams of one endpoint share (the
`mcpkit.stores.event_log.EventStore`, the retention of a stream cut before its end, the
`retry` and keep-alive of their connections, the budget of their slow readers), and
`StreamStoring`, the part of `sse_stream.Stream` that tells the store its events (at once, or
`later` for the endpoint's own in-process store) and stops storing when the store fails. A
room apart from `Stream`'s queue because none of it runs for a call answered at once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from mcpkit.stores.event_log import EventStore, MemoryEventStore

__all__ = ["QueuedBudget", "StreamSettings", "StreamStoring"]

logger = logging.getLogger("mcpkit.http")


class QueuedBudget(Protocol):
    """What a stream is charged to when the app bounds the bytes all its slow readers hold
    (the deployment's `transports.deployment.slow_readers.QueuedBytes`, which says why): the
    bytes queued for its connection, and those kept in this process for a resumption. The
    binding names it by what it does and never imports the deployment."""

    def charge(self, reader: Any, size: int) -> None: ...
    def credit(self, reader: Any, size: int) -> None: ...
    def release(self, reader: Any) -> None: ...
    def let_go(self, stream: Any, kept: int) -> None: ...
    def replay_is(self, replay: Any, size: int) -> None: ...
    def release_replay(self, replay: Any) -> None: ...


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
    queued: QueuedBudget | None = field(default=None, compare=False)
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
        queued: QueuedBudget | None = None,
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


class StreamStoring:
    """What a `Stream` does with its store (`sse_stream.Stream` holds the attributes; their
    meaning is said there)."""

    __slots__ = ("_items", "budget", "id", "kept", "later", "store", "stored")

    id: str | None
    store: EventStore | None
    later: MemoryEventStore | None
    kept: Sequence[tuple[int, bytes]] | None
    stored: int
    budget: QueuedBudget | None
    _items: list[tuple[int, bytes]] | None

    @property
    def resumable(self) -> bool:
        return self.store is not None

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

    def drop_replay(self) -> None:
        """The budget's `Replay.drop_replay`: what is kept for replay goes, here and in an
        in-process store, and so does the store: what comes next is not stored, and a
        resumption is answered 410 (`checks.expired`)."""
        store, stream_id = self.store, self.id
        if type(store) is MemoryEventStore and stream_id is not None:
            store.drop(stream_id)
        self.store = self.later = self.kept = None
