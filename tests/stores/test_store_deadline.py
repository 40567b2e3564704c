"""Every call to a store that may wait on something else has a deadline (issue 39,
`mcpkit.stores.deadline`): the store URL's `?timeout=`, past which, or when the store cannot
be reached, the call fails with `StoreUnavailable` naming the store and the setting. A SQLite
file another process holds locked is bounded the same way as a hung Redis (whose tests are
tests/hostile/http/test_store_outage.py)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from mcpkit.stores.deadline import StoreDeadline, StoreUnavailable, bounded
from mcpkit.stores.sessions import SessionRecord, SessionStore
from mcpkit.stores.sqlite import SqliteSessionStore
from mcpkit.stores.url import DEFAULT_STORE_TIMEOUT, check_store_url, open_store, timeout_of

#: A bound on each outcome below, never a measure.
BOUND = 10.0


class Stuck:
    """A store whose calls wait for `release`, or fail as told."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.failure: Exception | None = None
        self.limit = 3

    async def get(self, key: str) -> str:
        if self.failure is not None:
            raise self.failure
        await self.release.wait()
        return key

    async def wait(self, key: str, timeout: float) -> str:
        await asyncio.sleep(timeout)
        return key

    def size(self) -> int:
        return self.limit


async def test_a_call_that_hangs_fails_at_its_deadline_naming_the_store_and_setting() -> None:
    store = bounded(Stuck(), StoreDeadline("redis://cache:6379/0", 0.05))
    async with asyncio.timeout(BOUND):
        with pytest.raises(StoreUnavailable) as raised:
            await store.get("a")
    said = str(raised.value)
    assert "redis://cache:6379/0" in said and "0.05 s" in said and "?timeout=" in said


async def test_a_wait_asked_for_gets_its_own_length_beyond_the_deadline(
    fake_clock: asyncio.AbstractEventLoop,
) -> None:
    # Virtual seconds: the wait ends a second before the deadline it was given, whatever a
    # busy machine does to real timers (two due in one late pass would both fire).
    store = bounded(Stuck(), StoreDeadline("sqlite:///s.db", 1.0))
    async with asyncio.timeout(BOUND):
        assert await store.wait("a", 5.0) == "a"  # longer than the deadline, on purpose
    async with asyncio.timeout(BOUND):
        assert await store.wait("b", timeout=5.0) == "b"


async def test_what_means_unreachable_becomes_store_unavailable_and_the_rest_passes() -> None:
    inner = Stuck()
    store = bounded(inner, StoreDeadline("redis://h/0", 5.0, (ConnectionRefusedError,)))
    inner.failure = ConnectionRefusedError("connection refused")
    with pytest.raises(StoreUnavailable, match=r"cannot reach the store redis://h/0 \("):
        await store.get("a")
    inner.failure = KeyError("a bug, not an outage")
    with pytest.raises(KeyError):
        await store.get("a")
    inner.failure = None
    inner.release.set()
    assert await store.get("a") == "a"
    assert store.size() == 3 and store.limit == 3  # the rest is the store's own
    assert isinstance(store, Stuck)


async def test_a_locked_sqlite_file_fails_a_call_at_the_deadline(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    stores = open_store(f"sqlite:///{path}?timeout=0.2")
    assert stores.timeout == 0.2
    sessions = stores.sessions
    assert isinstance(sessions, SessionStore) and isinstance(sessions, SqliteSessionStore)
    # Only the locked call is held to the short deadline: what must succeed goes through
    # another process's store on the file, with a deadline no busy machine reaches.
    elsewhere = open_store(f"sqlite:///{path}")
    patient = elsewhere.sessions
    assert patient is not None
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN EXCLUSIVE")  # another process's long write
        async with asyncio.timeout(BOUND):
            with pytest.raises(StoreUnavailable, match=r"did not answer within 0\.2 s"):
                await sessions.put(SessionRecord(id="during"))
    finally:
        other.execute("ROLLBACK")
        other.close()
    # Once unlocked, the store goes on: its thread ran the call that was given up on.
    async with asyncio.timeout(BOUND):
        while await patient.get("during") is None:
            await asyncio.sleep(0.01)  # polling the file; bounded
    await stores.aclose()
    await elsewhere.aclose()


def test_the_timeout_is_an_option_of_the_store_url() -> None:
    assert timeout_of("redis://h:6379/0") == DEFAULT_STORE_TIMEOUT
    assert timeout_of("redis://h:6379/0?timeout=2.5&lease=10") == 2.5
    assert open_store("memory://").timeout == DEFAULT_STORE_TIMEOUT
    for bad in ("abc", "0", "-1", "inf"):
        with pytest.raises(ValueError, match=f"timeout='{bad}' must be a number of seconds"):
            check_store_url(f"sqlite:///s.db?timeout={bad}")
    with pytest.raises(ValueError, match="known: lease, timeout"):
        check_store_url("sqlite:///s.db?deadline=1")
