"""`SqliteDatabase`: one SQLite file, its tables, and the one thread every statement runs on;
apart from the stores (`mcpkit.stores.sqlite`, `sqlite_tasks`, `sqlite_kv`, `sqlite_broker`)
because each of them only asks it to run a piece of work, and none needs to know how.

sqlite3 blocks, so every statement runs on the database's thread, in the order the event loop
asked for it, and the loop only waits. The file is in WAL mode with `synchronous=NORMAL` (a
committed write survives the process being killed; only a power cut may lose the last
transactions), and each operation is one transaction. Every table of every store is made
here, when the file is opened, so any store finds the others' in place.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Generic, TypeVar

from mcpkit.stores._private_files import check_private, make_private_file

__all__ = ["SqliteDatabase"]

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
