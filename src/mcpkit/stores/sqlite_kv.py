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
from mcpkit.stores.sqlite import SqliteDatabase

__all__ = ["SqliteKeyValueStore"]

_T = TypeVar("_T")

# The table is this module's own, made at its first use: the other stores never read it.
_TABLE: Final = (
    "CREATE TABLE IF NOT EXISTS mcpkit_kv ("
    " key TEXT PRIMARY KEY, value BLOB NOT NULL, size INTEGER NOT NULL, until REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS mcpkit_kv_until ON mcpkit_kv (until)",
    # A pool's prefixes: the bytes each held at its last write (`_used`, as its `Limit`
    # counts them), the order of those writes, and when its last entry ends.
    "CREATE TABLE IF NOT EXISTS mcpkit_kv_pool ("
    " pool TEXT NOT NULL, prefix TEXT NOT NULL, bytes INTEGER NOT NULL,"
    " seq INTEGER NOT NULL, until REAL NOT NULL, PRIMARY KEY (pool, prefix))",
    "CREATE INDEX IF NOT EXISTS mcpkit_kv_pool_seq ON mcpkit_kv_pool (pool, seq)",
    "CREATE INDEX IF NOT EXISTS mcpkit_kv_pool_until ON mcpkit_kv_pool (until)",
    # Each pool's bytes, the sum of its prefixes' above (kept, so no write sums them all).
    "CREATE TABLE IF NOT EXISTS mcpkit_kv_pools (pool TEXT PRIMARY KEY, bytes INTEGER NOT NULL)",
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
    `max_pool_bytes` as the memory store keeps it: past it the pool's prefix written the
    longest ago is deleted whole, in the writer's transaction, so that processes sharing
    the file cannot pass it together. Every process should give the same `max_pool_bytes`
    (each keeps the pool within its own)."""

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
            c.execute(
                "DELETE FROM mcpkit_kv WHERE key IN "
                "(SELECT key FROM mcpkit_kv WHERE until <= ? LIMIT ?)",
                (now, _PURGE_ROWS),
            )
            _purge_pools(c, now)
            if limit is not None:
                others = _used(c, limit.prefix, now, but=key)
                if others + size > limit.max_bytes:
                    return False
                if limit.pool is not None:
                    until = now + seconds
                    if not _make_room(c, limit, others + size, until, self._max_pool_bytes):
                        return False
            c.execute(
                "INSERT OR REPLACE INTO mcpkit_kv (key, value, size, until) VALUES (?, ?, ?, ?)",
                (key, value, size, now + seconds),
            )
            return True

        return await self._run(work)

    async def delete(self, key: str) -> None:
        await self._run(lambda c, _: c.execute("DELETE FROM mcpkit_kv WHERE key = ?", (key,)))

    async def used(self, prefix: str) -> int:
        return await self._run(lambda c, now: _used(c, prefix, now, but=None))


def _make_room(c: sqlite3.Connection, limit: Limit, mine: int, until: float, most: int) -> bool:
    """Record that `limit.prefix` holds `mine` bytes of its pool once this write is done,
    as its pool's latest, after deleting the pool's prefixes written the longest ago, whole,
    until the pool fits in `most`; False (nothing changed) when `mine` alone passes it."""
    if mine > most:
        return False
    pool, prefix = limit.pool, limit.prefix
    total = _one(c, "SELECT bytes FROM mcpkit_kv_pools WHERE pool = ?", (pool,))
    own = "SELECT bytes FROM mcpkit_kv_pool WHERE pool = ? AND prefix = ?"
    others = total - _one(c, own, (pool, prefix))
    while others + mine > most:
        oldest = c.execute(
            "SELECT prefix, bytes FROM mcpkit_kv_pool WHERE pool = ? AND prefix IS NOT ? "
            "ORDER BY seq LIMIT 1",
            (pool, prefix),
        ).fetchone()
        if oldest is None:  # (nobody else holds anything)
            others = 0
            break
        gone, held = str(oldest[0]), int(oldest[1])
        c.execute("DELETE FROM mcpkit_kv WHERE key >= ? AND key < ?", (gone, gone + _LAST))
        c.execute("DELETE FROM mcpkit_kv_pool WHERE pool = ? AND prefix = ?", (pool, gone))
        others -= held
    last = _one(c, "SELECT MAX(seq) FROM mcpkit_kv_pool WHERE pool = ?", (pool,))
    c.execute(
        "INSERT INTO mcpkit_kv_pool (pool, prefix, bytes, seq, until) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (pool, prefix) DO UPDATE SET bytes = excluded.bytes, seq = excluded.seq, "
        "until = MAX(until, excluded.until)",
        (pool, prefix, mine, last + 1, until),
    )
    c.execute(
        "INSERT INTO mcpkit_kv_pools (pool, bytes) VALUES (?, ?) "
        "ON CONFLICT (pool) DO UPDATE SET bytes = excluded.bytes",
        (pool, others + mine),
    )
    return True


def _purge_pools(c: sqlite3.Connection, now: float) -> None:
    """Forget a batch of the prefixes whose entries have all ended, and their bytes."""
    ended = c.execute(
        "SELECT pool, prefix, bytes FROM mcpkit_kv_pool WHERE until <= ? LIMIT ?",
        (now, _PURGE_ROWS),
    ).fetchall()
    for pool, prefix, held in ended:
        c.execute("DELETE FROM mcpkit_kv_pool WHERE pool = ? AND prefix = ?", (pool, prefix))
        c.execute("UPDATE mcpkit_kv_pools SET bytes = bytes - ? WHERE pool = ?", (held, pool))


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
