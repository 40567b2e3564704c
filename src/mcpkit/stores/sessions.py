"""A session's durable state as one plain record, and the store interface that keeps records.

A live session is many objects (its connection, the streams carrying its answers, the
futures of its requests), and they die with the process. What a session is, apart from
them, fits in a `SessionRecord`: who it belongs to, what was negotiated at `initialize`,
what the client asked for since (a log level, resource subscriptions), and when. A server
given a `SessionStore` writes the record when it changes, and a process that receives a
request for a session it does not hold reads the record and rebuilds the live objects
from it (`Server.restore`), so the client carries on as if nothing happened.

`MemorySessionStore` keeps encoded records in a dict: it is what tests and one process use,
and it checks that every record survives encoding, as a shared store's must.
"""

from __future__ import annotations

import itertools
import time
from typing import Final, Protocol, runtime_checkable

import msgspec

from mcpkit.protocol.terms import Terms
from mcpkit.stores.component_rules import ComponentRule
from mcpkit.stores.random_tokens import token_urlsafe
from mcpkit.types import ClientCapabilities, Implementation

__all__ = [
    "MAX_ENDED_MARKS",
    "MemorySessionStore",
    "RememberingSessionStore",
    "SessionRecord",
    "SessionStore",
    "TouchableSessionStore",
    "decode_record",
    "encode_record",
    "new_session_id",
    "owner_key",
    "unsent_session_id",
]


class SessionRecord(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """Everything about one session that outlives a request and can be written down.

    `id` is the session's one id: its Mcp-Session-Id over Streamable HTTP, a random one
    otherwise. `terms` are what `initialize` settled (None until then): the protocol session
    keeps them here (`ServerSession.keep_terms_in`), so they are held once, and `revision`,
    `client_info` and `client_capabilities` read them; `initialized` says the client sent
    `notifications/initialized`.
    `owner` names who opened it, as `owner_key` of the token's identity (None without
    auth). `log_level` is the level the client set (None: every level), `subscriptions` the
    resource URIs it subscribed to (a frozenset: the empty one is shared by every session
    that has none, and a change makes a new one). `created` and `last_seen` are wall-
    clock seconds (time.time()): a shared store expires records by them. `components` are the
    session's own visibility rules (`ctx.disable_components()`, docs/compose.md).
    """

    id: str
    terms: Terms[ClientCapabilities] | None = None
    initialized: bool = False
    owner: str | None = None
    log_level: str | None = None
    subscriptions: frozenset[str] = frozenset()
    created: float = msgspec.field(default_factory=time.time)
    last_seen: float = 0.0
    components: tuple[ComponentRule, ...] = ()

    @property
    def revision(self) -> str | None:
        """The revision `initialize` settled (None until then)."""
        terms = self.terms
        return None if terms is None else terms.revision

    @property
    def client_info(self) -> Implementation | None:
        """What the client said of itself in `initialize`."""
        terms = self.terms
        return None if terms is None else terms.peer_info

    @property
    def client_capabilities(self) -> ClientCapabilities | None:
        """What the client declared in `initialize` (None until then)."""
        terms = self.terms
        return None if terms is None else terms.peer_capabilities


def new_session_id() -> str:
    """A fresh session id: 256 random bits, URL-safe base64, so visible ASCII only, as an
    Mcp-Session-Id must be (basic/transports, "Session Management": cryptographically
    secure, characters 0x21 to 0x7E)."""
    return token_urlsafe(32)


def unsent_session_id() -> str:
    """The id of a session no client is ever told (the one a stateless POST is served by):
    unique in this process by a count, and beside other processes' by a random prefix (a
    broker routes by session id), but not secret, since it is never sent. A fraction of
    the cost of `new_session_id`, paid on every 2026-07-28 request over HTTP."""
    return f"{_UNSENT_PREFIX}{next(_unsent_count)}"


#: Marks of ended sessions a `MemorySessionStore` or `SqliteSessionStore` keeps at most,
#: the oldest going first past it (~150 bytes each in memory): a client that opens and
#: deletes sessions in a loop leaves one per session, for as long as the session expiry.
MAX_ENDED_MARKS: Final = 100_000

_UNSENT_PREFIX: Final = f"unsent-{token_urlsafe(12)}-"
_unsent_count = itertools.count()


def owner_key(identity: object) -> str | None:
    """An owner identity (`mcpkit.auth.server.resource.identity_of`'s tuple) as the string a
    record keeps: the same identity always gives the same string; None stays None."""
    if identity is None:
        return None
    if isinstance(identity, str):
        return identity
    return _encoder.encode(identity).decode()


_NO_SUBSCRIPTIONS: Final[frozenset[str]] = frozenset()


class _Stored(msgspec.Struct, kw_only=True, omit_defaults=True, gc=False):
    """A record as a store writes it: the handshake's facts flat, the layout every release
    has written so far. A record in memory holds them once, as `terms`; on disk they keep
    this layout, so that processes of two releases sharing a store (a rolling restart with
    SQLite or Redis) read each other's records and no session is lost to an upgrade."""

    id: str
    revision: str | None = None
    client_info: Implementation | None = None
    client_capabilities: ClientCapabilities | None = None
    initialized: bool = False
    owner: str | None = None
    log_level: str | None = None
    subscriptions: frozenset[str] = _NO_SUBSCRIPTIONS  # (omitted when it is this one)
    created: float = 0.0
    last_seen: float = 0.0
    components: tuple[ComponentRule, ...] = ()


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(_Stored)
_NO_CAPABILITIES: Final = ClientCapabilities()


def encode_record(record: SessionRecord) -> bytes:
    """The record as JSON bytes (what a store writes; see `_Stored` for the layout)."""
    terms = record.terms
    return _encoder.encode(
        _Stored(
            id=record.id,
            revision=None if terms is None else terms.revision,
            client_info=None if terms is None else terms.peer_info,
            client_capabilities=None if terms is None else terms.peer_capabilities,
            initialized=record.initialized,
            owner=record.owner,
            log_level=record.log_level,
            subscriptions=record.subscriptions or _NO_SUBSCRIPTIONS,
            created=record.created,
            last_seen=record.last_seen,
            components=record.components,
        )
    )


def decode_record(data: bytes) -> SessionRecord:
    """A record from `encode_record`'s bytes (msgspec.ValidationError when they are not one)."""
    stored = _decoder.decode(data)
    revision = stored.revision
    terms = (
        None
        if revision is None
        else Terms(revision, stored.client_capabilities or _NO_CAPABILITIES, stored.client_info)
    )
    return SessionRecord(
        id=stored.id,
        terms=terms,
        initialized=stored.initialized,
        owner=stored.owner,
        log_level=stored.log_level,
        subscriptions=stored.subscriptions,
        created=stored.created,
        last_seen=stored.last_seen,
        components=stored.components,
    )


@runtime_checkable
class SessionStore(Protocol):
    """Where session records are kept between requests (and between processes, for a shared
    store). Every operation is async: a store may be a network away.

    `put` writes a record (replacing the one with its id); `get` reads one, or None when
    there is none (never written, deleted, or expired); `delete` removes one (nothing when
    there is none). `expire(before)` deletes the records last seen (never seen: created)
    before `before` (wall-clock seconds) and returns their ids. A record read is a copy:
    neither the caller's changes to it nor to the one it wrote reach the store.
    `mcpkit.testing.stores.SessionStoreChecks` is the behaviour every implementation must
    have.
    """

    async def put(self, record: SessionRecord) -> None: ...

    async def get(self, session_id: str) -> SessionRecord | None: ...

    async def delete(self, session_id: str) -> None: ...

    async def expire(self, before: float) -> list[str]: ...


@runtime_checkable
class TouchableSessionStore(SessionStore, Protocol):
    """A `SessionStore` that can keep a record alive without writing it.

    `touch(session_id, seen)` notes that the session was seen at `seen` (wall-clock
    seconds): `expire` no longer counts the record due before that (a touch never makes it
    due sooner), and a store that frees records on its own (a TTL) starts that time again.
    Nothing else is written, so what another process wrote into the record stays, however
    close before the touch it landed; the record read back keeps the `last_seen` it was last
    `put` with. It answers the record as stored at the touch, or None when there is none
    (and then writes nothing). Atomic: no write lands between its read and its touch.

    A server keeps an unchanged session's record alive with it (a quarter of the idle
    timeout after the last write); with a store that lacks it, it reads the record and
    writes it back, and a write another process makes between the two is undone."""

    async def touch(self, session_id: str, seen: float) -> SessionRecord | None: ...


@runtime_checkable
class RememberingSessionStore(TouchableSessionStore, Protocol):
    """A `TouchableSessionStore` that remembers the sessions it deleted, for a while.

    `delete` leaves a mark that the session of that id ended, and `ended(session_id)` says
    whether there is one: a session deleted, not a record lost (a Redis restarted without
    persistence loses records and marks alike), nor one never written. While the mark is
    kept, `put` of that id writes nothing (an ended session is never written again) and
    `touch` answers None; `get` answers None, as for any id without a record. A mark is kept
    at least as long as a record nobody touches (a TTL of the store's own, or `expire`: a
    mark left before `before` goes with the records last seen before it), unless a bound on
    how many are kept (`MAX_ENDED_MARKS`) lets later marks push it out; session ids are
    random and never reused, so a mark only has to outlive the copies of the session that
    other processes held when it ended.

    A server ends its copy of a session whose record `touch` no longer finds when the store
    says it ended: a `DELETE` served by another process, whose news has not reached this
    one. Without the mark, the copy writes its record again (what it does when the store
    lost it), and the ended session lives on in the store."""

    async def ended(self, session_id: str) -> bool: ...


class MemorySessionStore:
    """Records in a dict, encoded, as a shared store would hold them: a record read back is
    a copy, never the live session's own object. A `RememberingSessionStore`."""

    __slots__ = ("_ended", "_records")

    def __init__(self) -> None:
        self._records: dict[str, tuple[float, bytes]] = {}
        self._ended: dict[str, float] = {}  # a deleted session's id: when (wall clock)

    async def put(self, record: SessionRecord) -> None:
        if record.id in self._ended:
            return
        self._records[record.id] = (record.last_seen or record.created, encode_record(record))

    async def get(self, session_id: str) -> SessionRecord | None:
        kept = self._records.get(session_id)
        return None if kept is None else decode_record(kept[1])

    async def delete(self, session_id: str) -> None:
        self._records.pop(session_id, None)
        ended = self._ended
        ended[session_id] = time.time()
        if len(ended) > MAX_ENDED_MARKS:  # the oldest (a dict keeps the order of its keys)
            del ended[next(iter(ended))]

    async def ended(self, session_id: str) -> bool:
        return session_id in self._ended

    async def touch(self, session_id: str, seen: float) -> SessionRecord | None:
        kept = self._records.get(session_id)
        if kept is None:
            return None
        self._records[session_id] = (max(kept[0], seen), kept[1])
        return decode_record(kept[1])

    async def expire(self, before: float) -> list[str]:
        gone = [sid for sid, (seen, _) in self._records.items() if seen < before]
        for sid in gone:
            del self._records[sid]
        ended = self._ended
        for sid in [sid for sid, at in ended.items() if at < before]:
            del ended[sid]
        return gone

    def __len__(self) -> int:
        """How many records are kept (for tests and metrics)."""
        return len(self._records)
