"""The SQLite stores (`mcpkit.stores.sqlite`) pass the checks every store must, and what they
keep survives the database being closed and opened again, as a restarted server finds it."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path

import pytest

from mcpkit.protocol.terms import Terms
from mcpkit.stores import sessions as sessions_module
from mcpkit.stores import sqlite as sqlite_module
from mcpkit.stores.event_log import EventStore
from mcpkit.stores.liveness import Liveness
from mcpkit.stores.sessions import MemorySessionStore, SessionRecord, SessionStore
from mcpkit.stores.sqlite import (
    SqliteDatabase,
    SqliteEventStore,
    SqliteLiveness,
    SqliteSessionStore,
)
from mcpkit.stores.sqlite_tasks import SqliteTaskStore
from mcpkit.stores.tasks import LeasedTaskStore, TaskStore
from mcpkit.testing.stores import (
    EventStoreChecks,
    LeasedTaskStoreChecks,
    LivenessChecks,
    ManualClock,
    RememberingSessionStoreChecks,
    TaskSettings,
    TaskStoreChecks,
)
from mcpkit.types import ClientCapabilities


class TestSqliteSessionStore(RememberingSessionStoreChecks):
    async def make_store(self) -> SessionStore:
        return SqliteSessionStore(SqliteDatabase(":memory:"))

    async def close_store(self, store: SessionStore) -> None:
        assert isinstance(store, SqliteSessionStore)
        await store.db.aclose()


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
async def test_a_mark_of_an_ended_session_goes_with_the_records_expired_after_it(
    kind: str,
) -> None:
    """The stores that nothing frees on its own keep the marks of the sessions they deleted
    (`RememberingSessionStore`) until `expire` drops the records last seen before a time
    after the mark was left: the server's idle bound bounds them as it bounds the records.
    (Redis frees them by their TTL: tests/stores/test_redis_stores.py.)"""
    db = SqliteDatabase(":memory:")
    store = MemorySessionStore() if kind == "memory" else SqliteSessionStore(db)
    try:
        await store.put(SessionRecord(id="gone", created=10.0))
        await store.delete("gone")
        assert await store.expire(before=time.time() - 60) == []
        assert await store.ended("gone")
        assert await store.expire(before=time.time() + 1) == []
        assert not await store.ended("gone")
        record = SessionRecord(id="gone", created=20.0)  # (an id is never used again, but:)
        await store.put(record)
        assert await store.get("gone") == record
    finally:
        await db.aclose()


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
async def test_marks_of_ended_sessions_are_bounded_in_number(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client that opens and deletes sessions in a loop leaves a mark per session: past
    `MAX_ENDED_MARKS`, the oldest go (the memory store at the delete, SQLite's at `expire`),
    so that the marks' memory is bounded within the session expiry too."""
    monkeypatch.setattr(sessions_module, "MAX_ENDED_MARKS", 3)
    monkeypatch.setattr(sqlite_module, "MAX_ENDED_MARKS", 3)
    db = SqliteDatabase(":memory:")
    store = MemorySessionStore() if kind == "memory" else SqliteSessionStore(db)
    try:
        for n in range(5):
            await store.put(SessionRecord(id=f"s{n}", created=10.0))
            await store.delete(f"s{n}")
            if kind == "sqlite":
                await asyncio.sleep(0.002)  # (distinct times: the bound goes by them)
        assert await store.expire(before=time.time() - 60) == []
        kept = [n for n in range(5) if await store.ended(f"s{n}")]
        assert kept == [2, 3, 4]
        await store.put(SessionRecord(id="s4", created=20.0))  # still refused
        assert await store.get("s4") is None
    finally:
        await db.aclose()


class TestSqliteEventStore(EventStoreChecks):
    async def make_store(self, window: int) -> EventStore:
        return SqliteEventStore(SqliteDatabase(":memory:"), max_events=window)

    async def close_store(self, store: EventStore) -> None:
        assert isinstance(store, SqliteEventStore)
        await store.db.aclose()


async def test_what_was_written_is_there_after_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    db = SqliteDatabase(path)
    sessions, events = SqliteSessionStore(db), SqliteEventStore(db, max_events=3)
    await sessions.put(
        SessionRecord(id="s-1", terms=Terms("2025-11-25", ClientCapabilities()), log_level="info")
    )
    for seq in range(1, 6):
        await events.append("s-1.2", seq, b"event %d" % seq)
    await db.aclose()
    with pytest.raises(RuntimeError, match="closed"):
        await sessions.get("s-1")

    again = SqliteDatabase(path)  # a new process would open the same file
    sessions, events = SqliteSessionStore(again), SqliteEventStore(again, max_events=3)
    record = await sessions.get("s-1")
    assert record is not None and (record.revision, record.log_level) == ("2025-11-25", "info")
    assert await events.replay_after("s-1.2", 3) == [(4, b"event 4"), (5, b"event 5")]
    assert await events.replay_after("s-1.2", 1) is None  # dropped by the window of 3
    await again.aclose()
    await again.aclose()  # closing twice is no error


class TestSqliteTaskStore(TaskStoreChecks):
    async def make_store(self, clock: ManualClock, settings: TaskSettings) -> TaskStore:
        return SqliteTaskStore(SqliteDatabase(":memory:"), clock=clock, **asdict(settings))

    async def close_store(self, store: TaskStore) -> None:
        assert isinstance(store, SqliteTaskStore)
        await store.db.aclose()


class TestSqliteTaskLeases(LeasedTaskStoreChecks):
    async def make_leased_store(self, clock: ManualClock, lease: float) -> LeasedTaskStore:
        return SqliteTaskStore(SqliteDatabase(":memory:"), clock=clock, lease=lease)

    async def close_leased_store(self, store: LeasedTaskStore) -> None:
        assert isinstance(store, SqliteTaskStore)
        await store.db.aclose()


class TestSqliteLiveness(LivenessChecks):
    async def make_liveness(self) -> Liveness:
        return SqliteLiveness(SqliteDatabase(":memory:"))

    async def close_liveness(self, liveness: Liveness) -> None:
        assert isinstance(liveness, SqliteLiveness)
        await liveness.db.aclose()


def test_processes_that_open_a_new_file_at_once_all_get_it(tmp_path: Path) -> None:
    """Several processes started together (`--workers`, a deployment's replicas) open the
    same new file: making its tables and switching it to WAL must wait for each other, not
    fail with "database is locked". A connection per thread contends as one per process."""
    for attempt in range(10):
        path = tmp_path / f"new-{attempt}.db"
        with ThreadPoolExecutor(max_workers=6) as pool:
            opened = list(pool.map(SqliteDatabase, [path] * 6))
        for db in opened:
            asyncio.run(db.aclose())


async def test_operations_asked_for_together_commit_together_and_fail_alone() -> None:
    db = SqliteDatabase(":memory:")
    sessions = SqliteSessionStore(db)

    def broken(c: sqlite3.Connection) -> None:
        c.execute("INSERT INTO mcpkit_sessions (id, seen, record) VALUES ('half', 0, x'00')")
        raise ValueError("a bug halfway")

    writes = [sessions.put(SessionRecord(id=f"s-{i}")) for i in range(20)]
    done = await asyncio.gather(*writes, db.run(broken), return_exceptions=True)
    assert isinstance(done[-1], ValueError) and done[:-1] == [None] * 20
    assert all([await sessions.get(f"s-{i}") is not None for i in range(20)])
    assert await sessions.get("half") is None  # undone: its savepoint, not the batch
    await db.aclose()
