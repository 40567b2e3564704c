"""The key-value stores (`mcpkit.stores.kv`): memory, SQLite and Redis pass the same checks
(`KeyValueChecks`), every store URL gives one, and what expires does not stay: the memory
store stays within its bounds, SQLite deletes expired rows as it writes, every Redis key
has a TTL."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from pathlib import Path

import pytest
from _redis_server import RedisServer
from redis.asyncio import Redis
from test_redis_stores import RedisCase, assert_every_key_expires, connect, new_prefix

from mcpkit.stores.kv import KeyValueStore, Limit, MemoryKeyValueStore, entry_size
from mcpkit.stores.redis import RedisKeyValueStore
from mcpkit.stores.sqlite import SqliteDatabase
from mcpkit.stores.sqlite_kv import SqliteKeyValueStore
from mcpkit.stores.url import check_store_url, open_store
from mcpkit.testing.stores import KeyValueChecks, ManualClock

WAIT = 10.0  # seconds: a bound on hangs, not a measurement


class TestMemoryKeyValue(KeyValueChecks):
    async def make_kv(self) -> KeyValueStore:
        return MemoryKeyValueStore()

    async def make_pooled_kvs(self, max_pool_bytes: int) -> list[KeyValueStore]:
        kv = MemoryKeyValueStore(max_pool_bytes=max_pool_bytes)
        return [kv, kv]


class TestSqliteKeyValue(KeyValueChecks):
    async def make_kv(self) -> KeyValueStore:
        return SqliteKeyValueStore(SqliteDatabase(":memory:"))

    async def close_kv(self, kv: KeyValueStore) -> None:
        assert isinstance(kv, SqliteKeyValueStore)
        await kv.db.aclose()

    @pytest.fixture(autouse=True)
    def _folder(self, tmp_path: Path) -> None:
        self.folder = tmp_path

    async def make_pooled_kvs(self, max_pool_bytes: int) -> list[KeyValueStore]:
        # Two databases over one file: two threads, two connections, as two processes.
        path = self.folder / "pool.db"
        return [
            SqliteKeyValueStore(SqliteDatabase(path), max_pool_bytes=max_pool_bytes)
            for _ in range(2)
        ]


class TestRedisKeyValue(RedisCase, KeyValueChecks):
    async def make_kv(self) -> KeyValueStore:
        return self.open(lambda client, prefix: RedisKeyValueStore(client, prefix=prefix))

    async def close_kv(self, kv: KeyValueStore) -> None:
        await self.close(kv)  # every key it left has a TTL, checked there

    async def make_pooled_kvs(self, max_pool_bytes: int) -> list[KeyValueStore]:
        # Two clients on one Redis and one prefix, as two processes.
        first = self.open(
            lambda client, prefix: RedisKeyValueStore(
                client, prefix=prefix, max_pool_bytes=max_pool_bytes
            )
        )
        _, prefix = self.opened[id(first)]
        client = connect(self.server)
        second = RedisKeyValueStore(client, prefix=prefix, max_pool_bytes=max_pool_bytes)
        self.opened[id(second)] = (client, prefix)
        return [first, second]


async def test_the_memory_store_stays_within_its_bounds() -> None:
    clock = ManualClock()
    kv = MemoryKeyValueStore(max_entries=3, max_bytes=10_000, clock=clock)
    for i in range(5):  # the soonest to end go first
        await kv.set(f"k{i}", b"v", 100 - i)
    assert len(kv) == 3
    assert [await kv.get(f"k{i}") for i in range(5)] == [b"v", b"v", b"v", None, None]
    one = entry_size("k0", b"x" * 10)  # (its overhead included: many tiny entries are bounded)
    big = MemoryKeyValueStore(max_entries=100, max_bytes=4 * one + one // 2, clock=clock)
    for i in range(10):
        await big.set(f"k{i}", b"x" * 10, 60)
    assert len(big) == 4  # 4 entries fit, not 5
    # Set again and again, a key leaves no trail of stale expiries behind.
    for i in range(1000):
        await big.set("k9", b"x" * 10, 60 + i)
    assert len(big._heap) < 100  # pyright: ignore[reportPrivateUsage]


async def test_a_full_memory_store_says_so_when_it_drops_what_it_was_given() -> None:
    # Full, it drops the entry closest to its end: that may be the one just given (a slot of
    # 10 minutes among values of a day). "Written" would then be a lie that a counted slot
    # (`take_slot`) or a caller trusts: a bound passed, a link that leads nowhere.
    clock = ManualClock()
    kv = MemoryKeyValueStore(max_entries=2, clock=clock)
    assert await kv.set("day-1", b"v", 86_400)
    assert await kv.set("day-2", b"v", 86_400)
    slot = Limit("slot", entry_size("slot", b""))  # (room for it: the store's bound drops it)
    assert not await kv.set("slot", b"", 600, limit=slot)
    assert not await kv.set("short", b"v", 600)
    assert await kv.get("slot") is None and len(kv) == 2
    assert await kv.set("longer", b"v", 100_000)  # kept: a day-long one made room
    assert await kv.get("longer") == b"v"


async def test_the_memory_store_drops_what_expired_as_it_meets_it() -> None:
    clock = ManualClock()
    kv = MemoryKeyValueStore(clock=clock)
    for i in range(100):
        assert await kv.set(f"k{i}", b"v", 10, limit=Limit("k", 100 * entry_size("k99", b"v")))
    clock.advance(11)
    assert await kv.used("k") == 0
    assert len(kv) == 0


async def test_sqlite_deletes_expired_rows_as_it_writes(tmp_path: Path) -> None:
    clock = ManualClock()
    db = SqliteDatabase(tmp_path / "kv.db")
    try:
        kv = SqliteKeyValueStore(db, clock=clock)
        for i in range(200):
            await kv.set(f"old{i}", b"v", 5)
        clock.advance(6)
        for i in range(4):  # each write deletes a batch of what expired
            await kv.set(f"new{i}", b"v", 5)
        rows = await db.run(lambda c: c.execute("SELECT COUNT(*) FROM mcpkit_kv").fetchone())
        assert rows[0] == 4
    finally:
        await db.aclose()


async def test_sqlite_forgets_the_pool_bytes_of_callers_whose_state_ended(tmp_path: Path) -> None:
    # A caller whose entries all ended leaves neither a row nor bytes in its pool's count, so
    # the count a write reads (not a sum over every caller) stays what the pool holds.
    clock = ManualClock()
    db = SqliteDatabase(tmp_path / "kv.db")
    try:
        most = entry_size("state:a:1", b"x" * 600)  # "b" fits once "a" has ended
        kv = SqliteKeyValueStore(db, max_pool_bytes=most, clock=clock)
        assert await kv.set("state:a:1", b"x" * 600, 5, limit=_state("a"))
        clock.advance(6)
        assert await kv.set("state:b:1", b"x" * 300, 60, limit=_state("b"))

        def pool(c: sqlite3.Connection) -> tuple[list[tuple[str, int]], int]:
            rows = c.execute("SELECT prefix, bytes FROM mcpkit_kv_pool").fetchall()
            total = c.execute("SELECT bytes FROM mcpkit_kv_pools WHERE pool = 'state'")
            return rows, total.fetchone()[0]

        held = entry_size("state:b:1", b"x" * 300)
        assert await db.run(pool) == ([("state:b:", held)], held)
    finally:
        await db.aclose()


def test_sqlite_file_is_private(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    stores = open_store(f"sqlite:///{path}")
    assert (path.stat().st_mode & 0o077) == 0

    async def use() -> None:
        try:
            await stores.kv.set("k", b"v", 60)
            assert await stores.kv.get("k") == b"v"
        finally:
            await stores.aclose()

    asyncio.run(use())
    with sqlite3.connect(path) as c:  # kept in the file every SQLite store shares
        assert c.execute("SELECT value FROM mcpkit_kv WHERE key = 'k'").fetchone() == (b"v",)


async def test_every_store_url_has_a_kv(tmp_path: Path, redis_server: RedisServer) -> None:
    urls = ["memory://", f"sqlite:///{tmp_path / 'a.db'}", redis_server.url]
    for url in urls:
        stores = open_store(url)
        try:
            key = f"{new_prefix()}k"
            assert await stores.kv.set(key, b"v", 60)
            assert await stores.kv.get(key) == b"v"
            await stores.kv.delete(key)
        finally:
            await stores.aclose()


async def test_a_redis_store_that_is_down_is_an_error_not_a_hang() -> None:
    # Nothing listens on port 9 of 127.0.0.1: the store's deadline turns it into an error.
    from mcpkit.stores.deadline import StoreUnavailable

    stores = open_store("redis://127.0.0.1:9/0?timeout=0.5")
    try:
        async with asyncio.timeout(WAIT):
            with pytest.raises(StoreUnavailable):
                await stores.kv.get("k")
    finally:
        await stores.aclose()


async def test_two_redis_clients_share_values_and_limits(redis_server: RedisServer) -> None:
    prefix = new_prefix()
    clients: list[Redis] = [connect(redis_server), connect(redis_server)]
    try:
        one, two = (RedisKeyValueStore(c, prefix=prefix) for c in clients)
        limit = Limit("s:", entry_size("s:a", b"x" * 20))  # one such entry
        assert await one.set("s:a", b"x" * 20, 60, limit=limit)
        assert await two.get("s:a") == b"x" * 20
        assert not await two.set("s:b", b"y" * 20, 60, limit=limit)  # one limit for both
        await two.delete("s:a")
        assert await one.get("s:a") is None
        assert await two.set("s:b", b"y" * 20, 60, limit=dataclasses.replace(limit))
        await assert_every_key_expires(clients[0], prefix)
    finally:
        for c in clients:
            keys = [k async for k in c.scan_iter(match=prefix + "*")]
            if keys:
                await c.delete(*keys)
            await c.aclose()


async def test_a_pool_of_state_never_pushes_out_the_rest() -> None:
    # Before: callers' state, approvals and overflows shared one budget, and past it the
    # entries closest to their end went: one anonymous client writing day-long state pushed
    # out every other user's ten-minute approvals and overflows.
    clock = ManualClock()
    approval, result = entry_size("approval:a", b"x" * 100), entry_size("result:r", b"x" * 100)
    state = 2 * entry_size("state:0000:v", b"x" * 400)  # two callers' worth
    kv = MemoryKeyValueStore(max_bytes=approval + result, max_pool_bytes=state, clock=clock)
    assert await kv.set("approval:a", b"x" * 100, 600, limit=Limit("approval:a", approval))
    assert await kv.set("result:r", b"x" * 100, 600)
    for caller in range(50):  # fresh state keys, 20 KB of state together
        prefix = f"state:{caller:04}:"
        assert await kv.set(prefix + "v", b"x" * 400, 86_400, limit=_state(prefix))
    assert await kv.get("approval:a") == b"x" * 100
    assert await kv.get("result:r") == b"x" * 100
    assert 0 < await kv.used("state:") <= state


def _state(caller: str, max_bytes: int = 2000) -> Limit:
    prefix = caller if caller.startswith("state:") else f"state:{caller}:"
    return Limit(prefix, max_bytes, pool="state")


async def test_every_store_url_takes_the_pool_size(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    # The same option for every kind of store, refused loudly when misspelt or not a size.
    urls = ["memory://", f"sqlite:///{tmp_path / 'p.db'}", redis_server.url]
    for url in urls:
        joined = "&" if "?" in url else "?"
        prefix = f"state:{new_prefix()}"
        most = entry_size(prefix + "a", b"x" * 400) * 3 // 2  # one entry, not two
        stores = open_store(f"{url}{joined}max_pool_bytes={most}")
        try:
            limit = Limit(prefix, 10_000, pool="state")
            assert await stores.kv.set(prefix + "a", b"x" * 400, 60, limit=limit)
            assert not await stores.kv.set(prefix + "b", b"x" * 400, 60, limit=limit)
            await stores.kv.delete(prefix + "a")
        finally:
            await stores.aclose()
        for bad in ("0", "-5", "1.5", "lots"):
            with pytest.raises(ValueError, match=f"max_pool_bytes='{bad}' must be a whole"):
                check_store_url(f"{url}{joined}max_pool_bytes={bad}")
        with pytest.raises(ValueError, match=r"option 'max_pool_byte'.*max_pool_bytes"):
            check_store_url(f"{url}{joined}max_pool_byte=500")
    with pytest.raises(ValueError, match="max_pool_bytes must be a whole number"):
        MemoryKeyValueStore(max_pool_bytes=0)
