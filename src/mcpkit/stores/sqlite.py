"""Session records and SSE event logs in one SQLite file: durable on one host, so that a
restarted server finds its sessions and resumes their streams (issue 23's `sqlite:///path`).

`SqliteDatabase` owns one connection and one thread: sqlite3 blocks, so every statement runs
on that thread, in the order the event loop asked for it, and the loop only waits. The file
is in WAL mode with `synchronous=NORMAL` (a committed write survives the process being
killed; only a power cut may lose the last transactions), and each operation is one
transaction. `SqliteSessionStore` and `SqliteEventStore` share a database (one file, one
thread) and implement `SessionStore` and `EventStore`, passing the checks of
`mcpkit.testing.stores` as the in-memory stores do.

    db = SqliteDatabase("/var/lib/mcp/state.db")
    app = server.http_app(session_store=SqliteSessionStore(db), event_store=SqliteEventStore(db))
    ...
    await db.aclose()

A store's rows carry no Python objects: records are `encode_record`'s JSON, events the bytes
the stream sent.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Final, TypeVar

from mcpkit.stores.event_log import DEFAULT_REPLAY_BYTES, DEFAULT_REPLAY_EVENTS
from mcpkit.stores.sessions import SessionRecord, decode_record, encode_record

__all__ = ["SqliteDatabase", "SqliteEventStore", "SqliteSessionStore"]

_T = TypeVar("_T")

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS mcpkit_sessions (
    id TEXT PRIMARY KEY,
    seen REAL NOT NULL,
    record BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS mcpkit_sessions_seen ON mcpkit_sessions (seen);
CREATE TABLE IF NOT EXISTS mcpkit_events (
    stream TEXT NOT NULL,
    seq INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (stream, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS mcpkit_streams (
    stream TEXT PRIMARY KEY,
    first INTEGER NOT NULL,
    size INTEGER NOT NULL
) WITHOUT ROWID;
"""


class SqliteDatabase:
    """One SQLite file, opened once, used from one thread (`run`). `path` is a file (made
    with its tables when missing) or ":memory:" (for tests: gone with the object)."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mcpkit-sqlite")
        self._connection: sqlite3.Connection | None = None
        self._closed = False
        # Opened on the thread that will use it (sqlite3 checks which thread calls it).
        self._executor.submit(self._open).result()

    def _open(self) -> None:
        connection = sqlite3.connect(self.path, isolation_level=None)
        if self.path != ":memory:":
            connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.executescript(_SCHEMA)
        self._connection = connection

    async def run(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """`work(connection)` on the database's thread, as one transaction (rolled back if it
        raises); its result."""
        if self._closed:
            raise RuntimeError(f"the SQLite database {self.path} is closed")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._transaction, work)

    def _transaction(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        connection = self._connection
        assert connection is not None
        connection.execute("BEGIN IMMEDIATE")
        try:
            result = work(connection)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
        return result

    async def aclose(self) -> None:
        """Close the file once every operation asked for has run."""
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._close)
        self._executor.shutdown(wait=True)

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class SqliteSessionStore:
    """`SessionStore` in a `SqliteDatabase`: one row per session, its record as JSON."""

    __slots__ = ("db",)

    def __init__(self, db: SqliteDatabase) -> None:
        self.db = db

    async def put(self, record: SessionRecord) -> None:
        row = (record.id, record.last_seen or record.created, encode_record(record))
        await self.db.run(
            lambda c: c.execute(
                "INSERT OR REPLACE INTO mcpkit_sessions (id, seen, record) VALUES (?, ?, ?)", row
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
        await self.db.run(
            lambda c: c.execute("DELETE FROM mcpkit_sessions WHERE id = ?", (session_id,))
        )

    async def expire(self, before: float) -> list[str]:
        def work(c: sqlite3.Connection) -> list[str]:
            gone = [
                str(row[0])
                for row in c.execute("SELECT id FROM mcpkit_sessions WHERE seen < ?", (before,))
            ]
            c.execute("DELETE FROM mcpkit_sessions WHERE seen < ?", (before,))
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
