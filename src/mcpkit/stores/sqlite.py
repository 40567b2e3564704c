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
the stream sent. The processes sharing a file tell each other what the stores do not hold
(changes, a client's answers) through `mcpkit.stores.sqlite_broker`. The same file holds
tasks (`mcpkit.stores.sqlite_tasks`) and key-value state (`mcpkit.stores.sqlite_kv`); every
table is made here, when the file is opened, so any of them finds the others' in place.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar

from mcpkit.stores._private_files import check_private, make_private_file
from mcpkit.stores.event_log import DEFAULT_REPLAY_BYTES, DEFAULT_REPLAY_EVENTS
from mcpkit.stores.liveness import SECRET_BYTES, Liveness, SharedSecrets
from mcpkit.stores.replay import ReplayCache
from mcpkit.stores.sessions import (
    MAX_ENDED_MARKS,
    SessionRecord,
    decode_record,
    encode_record,
)

__all__ = [
    "SqliteDatabase",
    "SqliteEventStore",
    "SqliteLiveness",
    "SqliteReplayCache",
    "SqliteSecrets",
    "SqliteSessionStore",
]

_T = TypeVar("_T")
#: Seconds a statement waits for another process's lock on the file before it fails.
_BUSY_TIMEOUT: Final = 30.0

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS mcpkit_sessions (
    id TEXT PRIMARY KEY,
    seen REAL NOT NULL,
    record BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS mcpkit_sessions_seen ON mcpkit_sessions (seen);
CREATE TABLE IF NOT EXISTS mcpkit_ended_sessions (
    id TEXT PRIMARY KEY,
    at REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS mcpkit_ended_sessions_at ON mcpkit_ended_sessions (at);
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
CREATE TABLE IF NOT EXISTS mcpkit_tasks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    owner TEXT NOT NULL,
    status TEXT NOT NULL,
    message TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    ttl INTEGER NOT NULL,
    poll INTEGER,
    expires REAL NOT NULL,
    lease REAL,
    outcome BLOB
);
CREATE INDEX IF NOT EXISTS mcpkit_tasks_owner ON mcpkit_tasks (owner, seq);
CREATE INDEX IF NOT EXISTS mcpkit_tasks_expires ON mcpkit_tasks (expires);
CREATE INDEX IF NOT EXISTS mcpkit_tasks_lease ON mcpkit_tasks (lease) WHERE lease IS NOT NULL;
CREATE TABLE IF NOT EXISTS mcpkit_secrets (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS mcpkit_processes (
    process TEXT PRIMARY KEY,
    until REAL NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS mcpkit_messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    origin TEXT NOT NULL,
    target TEXT NOT NULL,
    kind TEXT NOT NULL,
    body BLOB NOT NULL,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS mcpkit_messages_at ON mcpkit_messages (at);
CREATE TABLE IF NOT EXISTS mcpkit_once (
    key TEXT PRIMARY KEY,
    until REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS mcpkit_once_until ON mcpkit_once (until);
CREATE TABLE IF NOT EXISTS mcpkit_brokers (
    id TEXT PRIMARY KEY,
    until REAL NOT NULL
) WITHOUT ROWID;
"""


class SqliteDatabase:
    """One SQLite file, opened once, used from one thread (`run`). `path` is a file (made
    with its tables when missing) or ":memory:" (for tests: gone with the object).

    The file is made 0600, and SQLite makes its -wal and -shm files alike; an existing one
    that other users can open is made 0600 when it is this user's, else warned about
    (`mcpkit.stores._private_files`).

    Operations asked for while the thread is busy are committed together (group commit):
    each in a savepoint of one transaction, so one that raises is undone alone, and a
    server under load pays one commit and one wake-up of its event loop per batch, not per
    operation."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mcpkit-sqlite")
        self._connection: sqlite3.Connection | None = None
        self._closed = False
        # Operations waiting for the thread, and whether a drain of them is on its way; the
        # lock keeps the event loop's appends and the thread's takes apart.
        self._lock = threading.Lock()
        self._queue: list[_Operation[Any]] = []
        self._draining = False
        if self.path not in ("", ":memory:"):
            make_private_file(Path(self.path))
            check_private(Path(self.path))
        # Opened on the thread that will use it (sqlite3 checks which thread calls it).
        try:
            self._executor.submit(self._open).result()
        except BaseException:
            self._executor.shutdown(wait=False)  # nothing will use the thread
            raise

    def _open(self) -> None:
        connection = sqlite3.connect(self.path, isolation_level=None, timeout=_BUSY_TIMEOUT)
        # Processes that open a new file at once contend for it: switching it to WAL, or a
        # read that must become a write, gets "database is locked" at once rather than
        # waiting (SQLite's deadlock avoidance); so the tables are made in a transaction
        # that takes the write lock first, and a lock met is tried again, for a bounded time.
        deadline = time.monotonic() + _BUSY_TIMEOUT
        while True:
            try:
                if self.path != ":memory:":
                    connection.execute("PRAGMA journal_mode=WAL")
                connection.execute("PRAGMA synchronous=NORMAL")
                connection.execute("BEGIN IMMEDIATE")
                try:
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            connection.execute(statement)
                except BaseException:
                    connection.execute("ROLLBACK")
                    raise
                connection.execute("COMMIT")
                break
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    connection.close()
                    raise
                time.sleep(0.02)
        self._connection = connection

    async def run(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """`work(connection)` on the database's thread, all or nothing (undone if it raises,
        and then raising here); its result."""
        if self._closed:
            raise RuntimeError(f"the SQLite database {self.path} is closed")
        future: asyncio.Future[_T] = asyncio.get_running_loop().create_future()
        with self._lock:
            self._queue.append(_Operation(work, future))
            start = not self._draining
            self._draining = True
        if start:
            self._executor.submit(self._drain)
        return await future

    def _drain(self) -> None:
        """On the thread: run what is queued, batch after batch, until nothing is."""
        while True:
            with self._lock:
                batch, self._queue = self._queue, []
                if not batch:
                    self._draining = False
                    return
            self._commit(batch)

    def _commit(self, batch: list[_Operation[Any]]) -> None:
        """One transaction, each operation in a savepoint; then every caller told, with one
        wake-up per event loop."""
        connection = self._connection
        assert connection is not None
        outcomes: list[tuple[bool, Any]] = []
        try:
            connection.execute("BEGIN IMMEDIATE")
            for operation in batch:
                connection.execute("SAVEPOINT op")
                try:
                    outcomes.append((True, operation.work(connection)))
                except BaseException as exc:
                    connection.execute("ROLLBACK TO op")
                    outcomes.append((False, exc))
                connection.execute("RELEASE op")
            connection.execute("COMMIT")
        except BaseException as exc:  # the transaction itself failed: every operation did
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            outcomes = [(False, exc)] * len(batch)
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], bool, Any]]]
        by_loop = {}
        for operation, (ok, value) in zip(batch, outcomes, strict=True):
            future = operation.future
            by_loop.setdefault(future.get_loop(), []).append((future, ok, value))
        for loop, settled in by_loop.items():
            with contextlib.suppress(RuntimeError):  # a loop closed meanwhile: nobody waits
                loop.call_soon_threadsafe(_settle, settled)

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


@dataclass(slots=True)
class _Operation(Generic[_T]):
    work: Callable[[sqlite3.Connection], _T]
    future: asyncio.Future[_T]


def _settle(settled: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    for future, ok, value in settled:
        if future.done():  # its caller was cancelled meanwhile
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


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
