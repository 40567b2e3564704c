"""Where an SSE stream's events are kept for a resumption (spec: basic/transports, "Resumability
and Redelivery"): what a stream id starts with (the session, and the process that numbered it:
`session_tag`, `new_stream_prefix`; what a relay reads back of it is the deployment's,
`transports.deployment.relay`), `StreamSettings`, what the streams of one endpoint share (the
`mcpkit.stores.event_log.EventStore`, the retention of a stream cut before its end, the
`retry` and keep-alive of their connections, the budget of their slow readers), and
`StreamStoring`, the part a resumable `sse_stream.Stream` holds to tell the store its events (at
once, or `later` for the endpoint's own in-process store). A room apart from `Stream`'s queue
because none of its functions runs for a call answered at once."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import msgspec

from mcpkit.stores.event_log import EventStore, MemoryEventStore
from mcpkit.stores.liveness import process_tag

__all__ = [
    "QueuedBudget",
    "StreamSettings",
    "StreamStoring",
    "new_stream_prefix",
    "session_tag",
]

logger = logging.getLogger("mcpkit.http")


def session_tag(session_id: str) -> str:
    """What every stream id of session `session_id` starts with, in every process serving
    it: 48 bits of the id's SHA-256, URL-safe. A Last-Event-ID is resumed only in the session
    its tag names, so a stream another process numbered is still known to be this
    session's, and another session's never is."""
    digest = hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).digest()
    return base64.urlsafe_b64encode(digest[:6]).decode()


def new_stream_prefix(session_id: str | None = None) -> str:
    """The stream id prefix of one process's copy of a session: the session's tag
    (`session_tag`) and the process's (`process_tag`), ending in '_' (ids are
    `[A-Za-z0-9_-]`, see `mcpkit.transports.sse.make_event_id`); 64 random bits for a session
    with no id. Numbers after it come from `next_stream_number`, which no copy of a
    session in this process repeats."""
    if session_id is None:
        return secrets.token_urlsafe(8) + "_"
    return session_tag(session_id) + process_tag() + "_"


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
    request, for a relay to answer it should this process stop (`relay.request_of`); otherwise
    ids stay short. `queued` is the app's budget of bytes its slow readers hold, which every
    stream is charged against (None: none). `forgetting` holds the store's deletions started
    by `forget_later` until they are done. `own_store` is `store` when these streams alone
    read it (the `MemoryEventStore` the app made for them), so that a stream may tell it a message
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


class StreamStoring(msgspec.Struct, gc=False):
    """Where one stream's events are kept for a resumption (held by its `sse_stream.Stream`
    while it is resumable): `store`, under the stream's `id`; `later` is `store` when it is the
    endpoint's own in-process store (`StreamSettings.own_store`), told a message queued for a
    connection only once it is needed there (`Stream.take`, `Stream.detach`, `Stream.attach`),
    and None otherwise; `kept` is what a connection took whole meanwhile (`Stream.whole`,
    `Stream.rest`): a call answered at once, its stream delivered and never resumed, costs the
    store nothing; `stored` is the last event the store was told. (A struct: a stream numbered
    for every call makes one, with no Python frame.)"""

    id: str
    store: EventStore
    later: MemoryEventStore | None = None
    kept: Sequence[tuple[int, bytes]] | None = None
    stored: int = 0

    async def append(self, seq: int, data: bytes) -> bool:
        """Have the store keep event `seq`; False when it failed (it is down, or past its
        deadline: `mcpkit.stores.deadline`). The message still goes to the connection, and so
        does the rest of the stream, but none of it is stored any more (the stream lets go
        of this part), and a resumption is refused (410) rather than replayed with a hole: a
        stream that waited on the store for every message would hold its client for a
        deadline per message."""
        try:
            await self.store.append(self.id, seq, data)
        except Exception as exc:  # any store's failure: the message goes out all the same
            logger.warning(
                "stream %s is no longer resumable: its event store failed (%s)",
                self.id,
                str(exc) or type(exc).__name__,
            )
            return False
        return True

    def keep(self, store: MemoryEventStore, seq: int, data: bytes) -> int:
        """Have `store`, in this process, keep event `seq` now; the bytes kept for replay in
        this process then (the store's of this stream, and `kept`)."""
        in_store = store.keep(self.id, seq, data)
        self.stored = seq
        return in_store + (sum(len(data) for _, data in self.kept) if self.kept else 0)

    def store_held(self, queued: Sequence[tuple[int, bytes]] | None) -> int | None:
        """Tell the store (`later`) what it has not been told yet, in order: what a connection
        took whole (`kept`), then `queued`, what is queued for the current one; the bytes it
        keeps of the stream then. None, doing nothing, without `later`."""
        later, stream_id = self.later, self.id
        if later is None:
            return None
        stored = self.stored
        for held in (self.kept, queued):
            for seq, data in held or ():
                if seq > stored:
                    later.keep(stream_id, seq, data)
                    stored = seq
        self.stored = stored
        self.kept = None
        return later.kept_bytes(stream_id)

    def drop(self) -> None:
        """What is kept for replay goes, here and in an in-process store (the budget drops the
        stream's replay: `Stream.drop_replay`)."""
        self.kept = None
        if type(self.store) is MemoryEventStore:
            self.store.drop(self.id)
