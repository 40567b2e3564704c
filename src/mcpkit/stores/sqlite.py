"""Session records and SSE event logs in one SQLite file: durable on one host, so that a
restarted server finds its sessions and resumes their streams (issue 23's `sqlite:///path`).

`SqliteDatabase` (`mcpkit.stores.sqlite_database`, re-exported here) owns one connection and
one thread: sqlite3 blocks, so every statement runs on that thread, in the order the event
loop asked for it, and the loop only waits; each operation is one transaction.
`SqliteSessionStore` and `SqliteEventStore` share a database (one file, one thread) and
implement `SessionStore` and `EventStore`, passing the checks of `mcpkit.testing.stores` as
the in-memory stores do.

    db = SqliteDatabase("/var/lib/mcp/state.db")
    app = server.http_app(session_store=SqliteSessionStore(db), event_store=SqliteEventStore(db))
    ...
    await db.aclose()

A store's rows carry no Python objects: records are `encode_record`'s JSON, events the bytes
the stream sent. The processes sharing a file tell each other what the stores do not hold
(changes, a client's answers) through `mcpkit.stores.sqlite_broker`. The same file holds
tasks (`mcpkit.stores.sqlite_tasks`) and key-value state (`mcpkit.stores.sqlite_kv`); every
table is made by `SqliteDatabase` when the file is opened, so any of them finds the others'
in place.
"""

from __future__ import annotations

import secrets
import sqlite3
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from mcpkit.stores.event_log import DEFAULT_REPLAY_BYTES, DEFAULT_REPLAY_EVENTS
from mcpkit.stores.liveness import SECRET_BYTES, Liveness, SharedSecrets
from mcpkit.stores.replay import ReplayCache
from mcpkit.stores.sessions import (
    MAX_ENDED_MARKS,
    SessionRecord,
    decode_record,
    encode_record,
)
from mcpkit.stores.sqlite_database import SqliteDatabase

__all__ = [
    "SqliteDatabase",
    "SqliteEventStore",
    "SqliteLiveness",
    "SqliteReplayCache",
    "SqliteSecrets",
    "SqliteSessionStore",
]


class SqliteSessionStore:
    """`RememberingSessionStore` in a `SqliteDatabase`: one row per session, its record as
    JSON, and when it was last seen (what `expire` and `touch` go by); and one row per
    session deleted, with when, until `expire` is given a time after it (or, past
    `MAX_ENDED_MARKS` of them, `expire` drops the oldest)."""

    __slots__ = ("db",)

    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db

    async def put(self, record: SessionRecord) -> None:
        row = (record.id, record.last_seen or record.created, encode_record(record), record.id)
        await self.db.run(
            lambda c: c.execute(
                "INSERT OR REPLACE INTO mcpkit_sessions (id, seen, record) SELECT ?, ?, ? "
                "WHERE NOT EXISTS (SELECT 1 FROM mcpkit_ended_sessions WHERE id = ?)",
                row,
            )
        )

    async def get(self, session_id: str) -> SessionRecord | None:
        found = await self.db.run(
            lambda c: c.execute(
                "SELECT record FROM mcpkit_sessions WHERE id = ?", (session_id,)
            ).fetchone()
        )
        return None if found is None else decode_record(bytes(found[0]))

    async def delete(self, session_id: str) -> None:
        def work(c: sqlite3.Connection) -> None:
            c.execute("DELETE FROM mcpkit_sessions WHERE id = ?", (session_id,))
            c.execute(
                "INSERT OR REPLACE INTO mcpkit_ended_sessions (id, at) VALUES (?, ?)",
                (session_id, time.time()),
            )

        await self.db.run(work)

    async def ended(self, session_id: str) -> bool:
        found = await self.db.run(
            lambda c: c.execute(
                "SELECT 1 FROM mcpkit_ended_sessions WHERE id = ?", (session_id,)
            ).fetchone()
        )
        return found is not None

    async def touch(self, session_id: str, seen: float) -> SessionRecord | None:
        def work(c: sqlite3.Connection) -> bytes | None:
            # (one transaction, BEGIN IMMEDIATE: no other process writes between the two)
            c.execute(
                "UPDATE mcpkit_sessions SET seen = max(seen, ?) WHERE id = ?", (seen, session_id)
            )
            found = c.execute(
                "SELECT record FROM mcpkit_sessions WHERE id = ?", (session_id,)
            ).fetchone()
            return None if found is None else bytes(found[0])

        data = await self.db.run(work)
        return None if data is None else decode_record(data)

    async def expire(self, before: float) -> list[str]:
        def work(c: sqlite3.Connection) -> list[str]:
            gone = [
                str(row[0])
                for row in c.execute("SELECT id FROM mcpkit_sessions WHERE seen < ?", (before,))
            ]
            c.execute("DELETE FROM mcpkit_sessions WHERE seen < ?", (before,))
            c.execute("DELETE FROM mcpkit_ended_sessions WHERE at < ?", (before,))
            # Past the bound, the oldest marks go (the index on `at` finds the newest kept).
            c.execute(
                "DELETE FROM mcpkit_ended_sessions WHERE at < (SELECT at FROM "
                "mcpkit_ended_sessions ORDER BY at DESC LIMIT 1 OFFSET ?)",
                (MAX_ENDED_MARKS - 1,),
            )
            return gone

        return await self.db.run(work)


class SqliteEventStore:
    """`EventStore` in a `SqliteDatabase`: each stream keeps at most `max_events` events and
    `max_bytes` bytes of them (the oldest go first), as `MemoryEventStore` does; a stream's
    row says the number of its oldest kept event, so a replay from before it is refused."""

    __slots__ = ("db", "max_bytes", "max_events")

    def __init__(
        self,
        db: SqliteDatabase,
        *,
        max_events: int = DEFAULT_REPLAY_EVENTS,
        max_bytes: int = DEFAULT_REPLAY_BYTES,
    ) -> None:
        if max_events < 1 or max_bytes < 1:
            raise ValueError("an event store's replay window must hold at least 1 event and byte")
        self.db = db
        self.max_events = max_events
        self.max_bytes = max_bytes

    async def append(self, stream_id: str, seq: int, data: bytes) -> None:
        max_events, max_bytes = self.max_events, self.max_bytes

        def work(c: sqlite3.Connection) -> None:
            row = c.execute(
                "SELECT first, size FROM mcpkit_streams WHERE stream = ?", (stream_id,)
            ).fetchone()
            first, size = (seq, 0) if row is None else (int(row[0]), int(row[1]))
            c.execute(
                "INSERT OR REPLACE INTO mcpkit_events (stream, seq, data) VALUES (?, ?, ?)",
                (stream_id, seq, data),
            )
            size += len(data)
            count = int(
                c.execute(
                    "SELECT count(*) FROM mcpkit_events WHERE stream = ?", (stream_id,)
                ).fetchone()[0]
            )
            if count > max_events or size > max_bytes:
                # The oldest go until the window holds; `first` follows.
                for old_seq, old_size in c.execute(
                    "SELECT seq, length(data) FROM mcpkit_events WHERE stream = ? ORDER BY seq",
                    (stream_id,),
                ).fetchall():
                    if count <= max_events and size <= max_bytes:
                        break
                    c.execute(
                        "DELETE FROM mcpkit_events WHERE stream = ? AND seq = ?",
                        (stream_id, old_seq),
                    )
                    count -= 1
                    size -= int(old_size)
                oldest = c.execute(
                    "SELECT min(seq) FROM mcpkit_events WHERE stream = ?", (stream_id,)
                ).fetchone()[0]
                first = seq + 1 if oldest is None else int(oldest)
            c.execute(
                "INSERT OR REPLACE INTO mcpkit_streams (stream, first, size) VALUES (?, ?, ?)",
                (stream_id, first, size),
            )

        await self.db.run(work)

    async def replay_after(self, stream_id: str, seq: int) -> list[tuple[int, bytes]] | None:
        def work(c: sqlite3.Connection) -> list[tuple[int, bytes]] | None:
            row = c.execute(
                "SELECT first FROM mcpkit_streams WHERE stream = ?", (stream_id,)
            ).fetchone()
            if row is None:
                return [] if seq == 0 else None  # nothing stored yet, or all of it forgotten
            if seq + 1 < int(row[0]):
                return None  # the window has dropped some of what the client missed
            return [
                (int(s), bytes(d))
                for s, d in c.execute(
                    "SELECT seq, data FROM mcpkit_events WHERE stream = ? AND seq > ? ORDER BY seq",
                    (stream_id, seq),
                )
            ]

        return await self.db.run(work)

    async def forget(self, stream_id: str) -> None:
        def work(c: sqlite3.Connection) -> None:
            c.execute("DELETE FROM mcpkit_events WHERE stream = ?", (stream_id,))
            c.execute("DELETE FROM mcpkit_streams WHERE stream = ?", (stream_id,))

        await self.db.run(work)


class SqliteLiveness:
    """`Liveness` in a `SqliteDatabase`: a row per process with the wall-clock time its lease
    ends (the processes sharing a file share a host, so they share its clock), and rows of
    lapsed leases dropped as leases are taken."""

    __slots__ = ("_clock", "db")

    def __init__(self, db: SqliteDatabase, *, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self._clock = clock

    async def beat(self, process: str, lease: float) -> None:
        now = self._clock()

        def work(c: sqlite3.Connection) -> None:
            c.execute("DELETE FROM mcpkit_processes WHERE until <= ?", (now,))
            c.execute(
                "INSERT OR REPLACE INTO mcpkit_processes (process, until) VALUES (?, ?)",
                (process, now + lease),
            )

        await self.db.run(work)

    async def alive(self, process: str) -> bool:
        now = self._clock()
        found = await self.db.run(
            lambda c: c.execute(
                "SELECT 1 FROM mcpkit_processes WHERE process = ? AND until > ?", (process, now)
            ).fetchone()
        )
        return found is not None

    async def end(self, process: str) -> None:
        await self.db.run(
            lambda c: c.execute("DELETE FROM mcpkit_processes WHERE process = ?", (process,))
        )


class SqliteSecrets:
    """`SharedSecrets` in a `SqliteDatabase`: a row per secret, the first process's draw."""

    __slots__ = ("db",)

    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db

    async def secret(self, name: str) -> bytes:
        drawn = secrets.token_bytes(SECRET_BYTES)

        def work(c: sqlite3.Connection) -> bytes:
            c.execute(
                "INSERT OR IGNORE INTO mcpkit_secrets (name, value) VALUES (?, ?)", (name, drawn)
            )
            row = c.execute("SELECT value FROM mcpkit_secrets WHERE name = ?", (name,)).fetchone()
            return bytes(row[0])

        return await self.db.run(work)


class SqliteReplayCache:
    """`ReplayCache` in a `SqliteDatabase`: a row per key until its lifetime ends, on the
    wall clock (the processes sharing the file share the host's clock)."""

    __slots__ = ("db",)

    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db

    async def first_use(self, key: str, ttl: float) -> bool:
        def work(c: sqlite3.Connection) -> bool:
            now = time.time()
            c.execute("DELETE FROM mcpkit_once WHERE until <= ?", (now,))
            added = c.execute(
                "INSERT OR IGNORE INTO mcpkit_once (key, until) VALUES (?, ?)", (key, now + ttl)
            )
            return added.rowcount == 1

        return await self.db.run(work)


if TYPE_CHECKING:  # mypy and pyright prove the stores implement their interfaces
    _lives: type[Liveness] = SqliteLiveness
    _agrees: type[SharedSecrets] = SqliteSecrets
    _once: type[ReplayCache] = SqliteReplayCache
