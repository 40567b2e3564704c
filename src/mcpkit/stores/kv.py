"""Keys and values that outlive a request, each for a time (`KeyValueStore`): what
`server.kv` and a handler's `ctx.get_state()` keep, and `ResponseCache`'s answers, in the
server's store, so that every process sharing it (SQLite, Redis) reads the same value.

Values are bytes (the layers above encode JSON) and every one has a TTL, so that what nobody
deletes is gone in time: the memory store drops expired entries as it meets them and holds
at most `max_entries` and `max_bytes`, the SQLite store deletes expired rows as it writes,
and Redis expires its keys itself. `set` may be given a `Limit`: the bytes held under a key
prefix (a caller's state, say) then stay within a bound, checked and written in one step,
so that two processes writing at once cannot pass it together. A `Limit` may name a `pool`
(callers' state does): in every store the entries of a pool have a budget of their own,
`max_pool_bytes` (in the memory store apart from `max_bytes`, so that filling one pool never
pushes out anything else: approvals, overflows), and past it the pool's prefix written the
longest ago goes whole.
"""

from __future__ import annotations

import bisect
import heapq
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Protocol

__all__ = [
    "DEFAULT_MAX_KV_BYTES",
    "DEFAULT_MAX_KV_ENTRIES",
    "DEFAULT_MAX_POOL_BYTES",
    "ENTRY_OVERHEAD",
    "MAX_TTL",
    "KeyValueStore",
    "Limit",
    "MemoryKeyValueStore",
    "check_pool_bytes",
    "check_ttl",
    "entry_size",
]

#: Entries a `MemoryKeyValueStore` holds at most.
DEFAULT_MAX_KV_ENTRIES: Final = 100_000
#: Bytes a `MemoryKeyValueStore` holds at most outside its pools (64 MiB, `entry_size`
#: summed).
DEFAULT_MAX_KV_BYTES: Final = 64 * 1024 * 1024
#: Bytes of one pool's entries every store holds at most by default (32 MiB, `entry_size`
#: summed; in the memory store besides `max_bytes`): callers' state, 32 callers at their
#: full 1 MiB, or about 56,000 callers of one small value each. Its setting is
#: `max_pool_bytes=` of each store, `?max_pool_bytes=` of a store URL.
DEFAULT_MAX_POOL_BYTES: Final = 32 * 1024 * 1024
#: What one entry counts beyond its key and value (`entry_size`): what a store keeps for it
#: besides. bench/state_memory.py measured one small state value per caller (84 bytes of key
#: and value) at 624 bytes of Python heap in the memory store, ~880 of SQLite file and WAL,
#: ~2,900 of Redis memory (4 keys): counting keys and values alone, a flood of such tiny
#: entries held 7 to 35 times its budget. 512 sits near the memory and SQLite figures, so a
#: budget bounds what they really hold to about itself (memory) and 1.5 times (SQLite);
#: Redis, its per-key structures and a `Limit`'s hashes the largest, to about 5 times.
ENTRY_OVERHEAD: Final = 512
#: The longest TTL (ten years): every store keeps one alike (Redis refuses far larger ones).
MAX_TTL: Final = 10 * 365 * 86_400.0


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `max_bytes` (`entry_size` summed) under the keys that start with `prefix`.
    Every key under such a prefix is written with the same `Limit`: Redis counts what was
    written with it, not every key that happens to share the prefix.

    `pool` names a set of such prefixes that share one budget (one per caller's state,
    pool "state"): every store keeps a pool within its `max_pool_bytes` by dropping the
    prefix of the pool written the longest ago, whole, in the same atomic step as the write,
    and refuses a write (False) only when the writer's own prefix fills the pool alone. An
    entry deleted, replaced or ended leaves the pool's count at once, in every store, so
    that it never pushes out anyone's state. (The memory store counts a pool apart from its
    `max_bytes`.)"""

    prefix: str
    max_bytes: int
    pool: str | None = None


def entry_size(key: str, value: bytes) -> int:
    """What an entry counts towards a `Limit`, a pool and a memory store's `max_bytes`: the
    bytes of its key (UTF-8) and its value, and `ENTRY_OVERHEAD` for what the store keeps
    besides (so that a budget of bytes bounds many tiny entries as it does a few large)."""
    return len(key.encode("utf-8", "surrogatepass")) + len(value) + ENTRY_OVERHEAD


def check_pool_bytes(max_pool_bytes: int) -> int:
    """`max_pool_bytes` when it is a whole number of bytes of at least 1; ValueError naming
    the setting otherwise."""
    if type(max_pool_bytes) is not int or max_pool_bytes < 1:
        raise ValueError(
            f"max_pool_bytes must be a whole number of bytes above 0, not {max_pool_bytes!r}"
        )
    return max_pool_bytes


def check_ttl(ttl: float) -> float:
    """`ttl` when it is a number of seconds above 0 and at most `MAX_TTL`; ValueError
    otherwise (an entry that never expires is what makes a store grow without end)."""
    # (A bool or a string from a config is a mistake, whatever its truth.)
    if isinstance(ttl, bool) or type(ttl) not in (int, float) or not 0 < ttl <= MAX_TTL:
        raise ValueError(
            f"a TTL must be a number of seconds above 0 and at most {MAX_TTL:g}, not {ttl!r}"
        )
    return float(ttl)


class KeyValueStore(Protocol):
    """Bytes by key, each for `ttl` seconds, where every process sharing the store looks."""

    async def get(self, key: str) -> bytes | None:
        """The value of `key`, or None when it was never set, was deleted or expired."""
        ...

    async def set(self, key: str, value: bytes, ttl: float, *, limit: Limit | None = None) -> bool:
        """Keep `value` under `key` for `ttl` seconds from now (replacing any value). With
        `limit`, only when the entries under `limit.prefix`, this one replacing the old,
        stay within `limit.max_bytes`: False (and nothing written) otherwise; True when
        written. (A store that drops entries to stay within its own bounds, the memory one,
        also returns False when it dropped this one at once.) ValueError for a `ttl` that is
        not above 0."""
        ...

    async def delete(self, key: str) -> None:
        """Forget `key` (nothing happens when it is not kept)."""
        ...

    async def used(self, prefix: str) -> int:
        """The bytes (`entry_size`) of the live entries written with a `Limit` on `prefix`."""
        ...


class MemoryKeyValueStore:
    """`KeyValueStore` within one process: the default of a `memory://` store.

    Expired entries are dropped as they are met (each call drops those whose time is up).
    Past `max_entries` or `max_bytes` the entry closest to its end is dropped first, as a
    cache does: a process that fills its memory loses the values nearest to expiry, never
    its ability to keep new ones; when that is the entry being set, `set` returns False (it
    was not kept). The entries written with a `Limit` naming a pool count apart, each pool
    within `max_pool_bytes` (past it the pool's prefix written the longest ago is dropped
    whole; see `Limit`). `clock` reads monotonic seconds (a fake clock in tests)."""

    __slots__ = (
        "_bytes",
        "_clock",
        "_entries",
        "_heap",
        "_keys",
        "_max_bytes",
        "_max_entries",
        "_max_pool_bytes",
        "_pool_heap",
        "_pooled",
        "_pools",
    )

    def __init__(
        self,
        *,
        max_entries: int = DEFAULT_MAX_KV_ENTRIES,
        max_bytes: int = DEFAULT_MAX_KV_BYTES,
        max_pool_bytes: int = DEFAULT_MAX_POOL_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1 or max_bytes < 1:
            raise ValueError("max_entries and max_bytes must be at least 1")
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._max_pool_bytes = check_pool_bytes(max_pool_bytes)
        self._clock = clock
        self._entries: dict[str, tuple[bytes, float]] = {}
        # Keys in order, for prefix sums; and (expiry, key) pairs, some stale (a key set
        # again or deleted), for dropping the soonest to end (pooled keys never go by it).
        self._keys: list[str] = []
        self._heap: list[tuple[float, str]] = []
        self._pool_heap: list[tuple[float, str]] = []  # the same, of the pooled entries
        self._bytes = 0  # of the entries outside any pool, as max_bytes counts
        self._pooled: dict[str, tuple[_Pool, str]] = {}  # key: its pool and Limit prefix
        self._pools: dict[str, _Pool] = {}

    async def get(self, key: str) -> bytes | None:
        self._expire(self._clock())
        found = self._entries.get(key)
        return None if found is None else found[0]

    async def set(self, key: str, value: bytes, ttl: float, *, limit: Limit | None = None) -> bool:
        expires = self._clock() + check_ttl(ttl)
        self._expire(self._clock())
        size = entry_size(key, value)
        pool = None
        if limit is not None:
            others = self._used(limit.prefix) - self._size_of(key)
            if others + size > limit.max_bytes:
                return False
            if limit.pool is not None:
                pool = self._pools.setdefault(limit.pool, _Pool())
                if not self._make_room(pool, limit.prefix, size - self._size_of(key)):
                    return False
        self._remove(key)
        self._entries[key] = (value, expires)
        bisect.insort(self._keys, key)
        if pool is not None and limit is not None:
            self._pooled[key] = (pool, limit.prefix)
            pool.add(limit.prefix, size)
            heapq.heappush(self._pool_heap, (expires, key))
        else:
            self._bytes += size
            heapq.heappush(self._heap, (expires, key))
        while len(self._entries) - len(self._pooled) > self._max_entries or (
            self._bytes > self._max_bytes
        ):
            self._drop_soonest()
        if len(self._heap) + len(self._pool_heap) > 2 * len(self._entries) + 64:
            self._rebuild_heaps()  # (stale pairs)
        # Full, the entry closest to its end went: maybe this one (a short TTL among long
        # ones), which was then not kept, and a caller counting on it must know.
        return key in self._entries

    async def delete(self, key: str) -> None:
        self._remove(key)

    async def used(self, prefix: str) -> int:
        self._expire(self._clock())
        return self._used(prefix)

    def _used(self, prefix: str) -> int:
        keys = self._keys
        total = 0
        for i in range(bisect.bisect_left(keys, prefix), len(keys)):
            key = keys[i]
            if not key.startswith(prefix):
                break
            total += entry_size(key, self._entries[key][0])
        return total

    def _size_of(self, key: str) -> int:
        found = self._entries.get(key)
        return 0 if found is None else entry_size(key, found[0])

    def _remove(self, key: str) -> None:
        found = self._entries.pop(key, None)
        if found is None:
            return
        size = entry_size(key, found[0])
        pooled = self._pooled.pop(key, None)
        if pooled is None:
            self._bytes -= size
        else:
            pooled[0].discard(pooled[1], size)
        del self._keys[bisect.bisect_left(self._keys, key)]

    def _rebuild_heaps(self) -> None:
        pooled = self._pooled
        self._heap = [(e, k) for k, (_, e) in self._entries.items() if k not in pooled]
        self._pool_heap = [(e, k) for k, (_, e) in self._entries.items() if k in pooled]
        heapq.heapify(self._heap)
        heapq.heapify(self._pool_heap)

    def _make_room(self, pool: _Pool, prefix: str, growth: int) -> bool:
        """Drop the pool's prefixes written the longest ago, whole, other than `prefix`,
        until it can grow by `growth` bytes within `max_pool_bytes`; False when `prefix`
        alone fills it (then nothing of the others was needed: none is dropped)."""
        if pool.used_by(prefix) + growth > self._max_pool_bytes:
            return False
        while pool.bytes + growth > self._max_pool_bytes:
            oldest = next(p for p in pool.prefixes if p != prefix)
            keys = self._keys
            start = bisect.bisect_left(keys, oldest)
            end = start
            while end < len(keys) and keys[end].startswith(oldest):
                end += 1
            for dropped in keys[start:end]:
                if self._pooled.get(dropped) == (pool, oldest):
                    self._remove(dropped)
        return True

    def _expire(self, now: float) -> None:
        entries = self._entries
        for heap in (self._heap, self._pool_heap):
            while heap and heap[0][0] <= now:
                expires, key = heapq.heappop(heap)
                found = entries.get(key)
                if found is not None and found[1] == expires:
                    self._remove(key)

    def _drop_soonest(self) -> None:
        """Drop the entry outside any pool closest to its end (pooled ones are in
        `_pool_heap`, never dropped for the others' bounds)."""
        while True:
            expires, key = heapq.heappop(self._heap)
            found = self._entries.get(key)
            if found is not None and found[1] == expires:
                self._remove(key)
                return

    def __len__(self) -> int:
        return len(self._entries)


class _Pool:
    """The bytes of one pool's entries, and its prefixes by the time they were last
    written (the longest ago first) with the bytes each holds."""

    __slots__ = ("bytes", "prefixes")

    def __init__(self) -> None:
        self.bytes = 0
        self.prefixes: OrderedDict[str, int] = OrderedDict()

    def used_by(self, prefix: str) -> int:
        return self.prefixes.get(prefix, 0)

    def add(self, prefix: str, size: int) -> None:
        self.bytes += size
        self.prefixes[prefix] = self.prefixes.get(prefix, 0) + size
        self.prefixes.move_to_end(prefix)

    def discard(self, prefix: str, size: int) -> None:
        self.bytes -= size
        left = self.prefixes.get(prefix, 0) - size
        if left > 0:
            self.prefixes[prefix] = left
        else:  # (its last entry: a prefix nobody holds is forgotten)
            self.prefixes.pop(prefix, None)


if TYPE_CHECKING:
    _implements: type[KeyValueStore] = MemoryKeyValueStore
