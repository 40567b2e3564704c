"""`SqliteKeyValueStore`: `mcpkit.stores.kv.KeyValueStore` in a `SqliteDatabase` (the file
the other SQLite stores use, private to its user as they make it), so that the processes
sharing the file read the same values, and the entries of a `Limit` pool stay within
`max_pool_bytes` across all of them."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Final, TypeVar

from mcpkit.stores.kv import (
    DEFAULT_MAX_POOL_BYTES,
    KeyValueStore,
    Limit,
    check_pool_bytes,
    check_ttl,
    entry_size,
)
from mcpkit.stores.sqlite_database import SqliteDatabase

__all__ = ["SqliteKeyValueStore"]

_T = TypeVar("_T")

# The tables are this module's own, made at their first use: the other stores never read them.
_TABLE: Final = (
    "CREATE TABLE IF NOT EXISTS mcpkit_kv ("
    " key TEXT PRIMARY KEY, value BLOB NOT NULL, size INTEGER NOT NULL, until REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS mcpkit_kv_until ON mcpkit_kv (until)",
    # A pool's prefixes: the bytes of their entries the pool counts (those in
    # mcpkit_kv_pooled), the order of their last writes, and when their last entry ends.
    "CREATE TABLE IF NOT EXISTS mcpkit_kv_pool ("
    " pool TEXT NOT NULL, prefix TEXT NOT NULL, bytes INTEGER NOT NULL,"
    " seq INTEGER NOT NULL, until REAL NOT NULL, PRIMARY KEY (pool, prefix))",
    "CREATE INDEX IF NOT EXISTS mcpkit_kv_pool_seq ON mcpkit_kv_pool (pool, seq)",
    "CREATE INDEX IF NOT EXISTS mcpkit_kv_pool_until ON mcpkit_kv_pool (until)",
    # Each pool's bytes, the sum of its prefixes' above (kept, so no write sums them all).
    "CREATE TABLE IF NOT EXISTS mcpkit_kv_pools (pool TEXT PRIMARY KEY, bytes INTEGER NOT NULL)",
    # The entries a pool counts, each until it is deleted, replaced, dropped or found ended:
    # then its bytes leave its prefix's and its pool's in the same transaction.
    "CREATE TABLE IF NOT EXISTS mcpkit_kv_pooled ("
    " key TEXT PRIMARY KEY, pool TEXT NOT NULL, prefix TEXT NOT NULL,"
    " size INTEGER NOT NULL, until REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS mcpkit_kv_pooled_until ON mcpkit_kv_pooled (pool, until)",
    "CREATE INDEX IF NOT EXISTS mcpkit_kv_pooled_prefix ON mcpkit_kv_pooled (pool, prefix)",
)
#: Expired rows each write deletes at most: more than it adds, so they never pile up, and
#: few enough that no write pays for a long-idle backlog at once.
_PURGE_ROWS: Final = 64
# The largest code point: every key that starts with a prefix sorts before prefix + this.
_LAST: Final = "\U0010ffff"


class SqliteKeyValueStore:
    """`KeyValueStore` in `db`: a row per key with the wall-clock time it ends (the
    processes sharing the file share the host's clock). Expired rows read as absent and are
    deleted by the writes that come after them. A pool (`Limit.pool`) is kept within
    `max_pool_bytes` as the memory store keeps it: an entry deleted or ended leaves it at
    once, and past it the pool's prefix written the longest ago is deleted whole, in the
    writer's transaction, so that processes sharing the file cannot pass it together. Every
    process should give the same `max_pool_bytes` (each keeps the pool within its own)."""

    __slots__ = ("_clock", "_max_pool_bytes", "_ready", "db")

    def __init__(
        self,
        db: SqliteDatabase,
        *,
        max_pool_bytes: int = DEFAULT_MAX_POOL_BYTES,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.db = db
        self._max_pool_bytes = check_pool_bytes(max_pool_bytes)
        self._clock = clock
        self._ready = False

    async def _run(self, work: Callable[[sqlite3.Connection, float], _T]) -> _T:
        now = self._clock()
        if self._ready:
            return await self.db.run(lambda c: work(c, now))

        def first(c: sqlite3.Connection) -> _T:
            for statement in _TABLE:
                c.execute(statement)
            return work(c, now)

        found = await self.db.run(first)
        self._ready = True
        return found

    async def get(self, key: str) -> bytes | None:
        def work(c: sqlite3.Connection, now: float) -> bytes | None:
            row = c.execute(
                "SELECT value FROM mcpkit_kv WHERE key = ? AND until > ?", (key, now)
            ).fetchone()
            return None if row is None else bytes(row[0])

        return await self._run(work)

    async def set(self, key: str, value: bytes, ttl: float, *, limit: Limit | None = None) -> bool:
        seconds = check_ttl(ttl)
        size = entry_size(key, value)

        def work(c: sqlite3.Connection, now: float) -> bool:
            _purge(c, now)
            until = now + seconds
            if limit is not None:
                others = _used(c, limit.prefix, now, but=key)
                if others + size > limit.max_bytes:
                    return False
                if limit.pool is not None:
                    if not _make_room(c, limit, key, size, now, self._max_pool_bytes):
                        return False
                    _forget(c, key)
                    _count(c, limit, key, size, until)
            if limit is None or limit.pool is None:
                _forget(c, key)  # (it may have been in a pool: its bytes leave it)
            c.execute(
                "INSERT INTO mcpkit_kv (key, value, size, until) VALUES (?, ?, ?, ?)",
                (key, value, size, until),
            )
            return True

        return await self._run(work)

    async def delete(self, key: str) -> None:
        await self._run(lambda c, _: _forget(c, key))

    async def used(self, prefix: str) -> int:
        return await self._run(lambda c, now: _used(c, prefix, now, but=None))


def _purge(c: sqlite3.Connection, now: float) -> None:
    """Delete a batch of expired rows (their bytes leaving their pools), and forget a batch
    of the pools' prefixes whose entries have all ended."""
    ended = c.execute(
        "SELECT key FROM mcpkit_kv WHERE until <= ? LIMIT ?", (now, _PURGE_ROWS)
    ).fetchall()
    for (key,) in ended:
        _forget(c, str(key))
    gone = c.execute(
        "SELECT pool, prefix FROM mcpkit_kv_pool WHERE until <= ? LIMIT ?", (now, _PURGE_ROWS)
    ).fetchall()
    for pool, prefix in gone:
        _drop_prefix(c, str(pool), str(prefix))


def _forget(c: sqlite3.Connection, key: str) -> None:
    """Delete the row of `key`, its bytes leaving the pool that counts them."""
    c.execute("DELETE FROM mcpkit_kv WHERE key = ?", (key,))
    counted = c.execute(
        "DELETE FROM mcpkit_kv_pooled WHERE key = ? RETURNING pool, prefix, size", (key,)
    ).fetchone()
    if counted is not None:
        _uncount(c, str(counted[0]), str(counted[1]), int(counted[2]))


def _uncount(c: sqlite3.Connection, pool: str, prefix: str, size: int) -> None:
    """Take `size` bytes off `prefix` and its pool; a prefix left with none is forgotten."""
    c.execute("UPDATE mcpkit_kv_pools SET bytes = bytes - ? WHERE pool = ?", (size, pool))
    c.execute(
        "UPDATE mcpkit_kv_pool SET bytes = bytes - ? WHERE pool = ? AND prefix = ?",
        (size, pool, prefix),
    )
    c.execute(
        "DELETE FROM mcpkit_kv_pool WHERE pool = ? AND prefix = ? AND bytes <= 0", (pool, prefix)
    )


def _drop_prefix(c: sqlite3.Connection, pool: str, prefix: str) -> None:
    """Delete the entries of `prefix` in `pool`, whole, and forget it."""
    keys = c.execute(
        "SELECT key FROM mcpkit_kv_pooled WHERE pool = ? AND prefix = ?", (pool, prefix)
    ).fetchall()
    for (key,) in keys:
        _forget(c, str(key))
    # (A prefix counted before entries were, by an older release: its count goes with it.)
    left = _one(c, "SELECT bytes FROM mcpkit_kv_pool WHERE pool = ? AND prefix = ?", (pool, prefix))
    if left:
        c.execute("DELETE FROM mcpkit_kv WHERE key >= ? AND key < ?", (prefix, prefix + _LAST))
        _uncount(c, pool, prefix, left)
    c.execute("DELETE FROM mcpkit_kv_pool WHERE pool = ? AND prefix = ?", (pool, prefix))


def _make_room(
    c: sqlite3.Connection, limit: Limit, key: str, size: int, now: float, most: int
) -> bool:
    """Make room in `limit.pool` for `key` (`size` bytes) of `limit.prefix`: the pool's
    ended entries out first, then its prefixes written the longest ago, whole, until it fits
    in `most`; False (nothing dropped) when the prefix alone passes it."""
    pool, prefix = str(limit.pool), limit.prefix
    # (The prefix's ended entries are out first, so it is not refused for them.)
    for (ended,) in c.execute(
        "SELECT key FROM mcpkit_kv_pooled WHERE pool = ? AND prefix = ? AND until <= ?",
        (pool, prefix, now),
    ).fetchall():
        _forget(c, str(ended))
    # The bytes `key` holds now, which its new value replaces, in its prefix and its pool.
    mine = "SELECT size FROM mcpkit_kv_pooled WHERE key = ? AND pool = ? AND prefix = ?"
    own = "SELECT bytes FROM mcpkit_kv_pool WHERE pool = ? AND prefix = ?"
    if _one(c, own, (pool, prefix)) - _one(c, mine, (key, pool, prefix)) + size > most:
        return False
    old = _one(c, "SELECT size FROM mcpkit_kv_pooled WHERE key = ? AND pool = ?", (key, pool))
    total = "SELECT bytes FROM mcpkit_kv_pools WHERE pool = ?"
    if _one(c, total, (pool,)) - old + size > most:
        for (ended,) in c.execute(
            "SELECT key FROM mcpkit_kv_pooled WHERE pool = ? AND until <= ?", (pool, now)
        ).fetchall():
            _forget(c, str(ended))
    while _one(c, total, (pool,)) - old + size > most:
        oldest = c.execute(
            "SELECT prefix FROM mcpkit_kv_pool WHERE pool = ? AND prefix IS NOT ? "
            "ORDER BY seq LIMIT 1",
            (pool, prefix),
        ).fetchone()
        if oldest is None:  # (nobody else holds anything)
            break
        _drop_prefix(c, pool, str(oldest[0]))
    return True


def _count(c: sqlite3.Connection, limit: Limit, key: str, size: int, until: float) -> None:
    """Count `key` (`size` bytes, until `until`) in its pool, its prefix now the latest
    written."""
    pool, prefix = limit.pool, limit.prefix
    c.execute(
        "INSERT INTO mcpkit_kv_pooled (key, pool, prefix, size, until) VALUES (?, ?, ?, ?, ?)",
        (key, pool, prefix, size, until),
    )
    last = _one(c, "SELECT MAX(seq) FROM mcpkit_kv_pool WHERE pool = ?", (pool,))
    c.execute(
        "INSERT INTO mcpkit_kv_pool (pool, prefix, bytes, seq, until) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (pool, prefix) DO UPDATE SET bytes = bytes + excluded.bytes, "
        "seq = excluded.seq, until = MAX(until, excluded.until)",
        (pool, prefix, size, last + 1, until),
    )
    c.execute(
        "INSERT INTO mcpkit_kv_pools (pool, bytes) VALUES (?, ?) "
        "ON CONFLICT (pool) DO UPDATE SET bytes = bytes + excluded.bytes",
        (pool, size),
    )


def _one(c: sqlite3.Connection, query: str, args: tuple[object, ...]) -> int:
    """The number `query` selects, 0 when it selects no row or NULL."""
    row = c.execute(query, args).fetchone()
    return 0 if row is None or row[0] is None else int(row[0])


def _used(c: sqlite3.Connection, prefix: str, now: float, *, but: str | None) -> int:
    """Bytes of the live rows under `prefix`, the row of `but` left out (a range of the
    primary key: only those rows are read)."""
    row = c.execute(
        "SELECT COALESCE(SUM(size), 0) FROM mcpkit_kv "
        "WHERE key >= ? AND key < ? AND until > ? AND key IS NOT ?",
        (prefix, prefix + _LAST, now, but),
    ).fetchone()
    return int(row[0])


if TYPE_CHECKING:
    _implements: type[KeyValueStore] = SqliteKeyValueStore
