"""Keys and values that outlive a request, each for a time (`KeyValueStore`): what
`server.kv` and a handler's `ctx.get_state()` keep, and `ResponseCache`'s answers, in the
server's store, so that every process sharing it (SQLite, Redis) reads the same value.

Values are bytes (the layers above encode JSON) and every one has a TTL, so that what nobody
deletes is gone in time: the memory store drops expired entries as it meets them and holds
at most `max_entries` and `max_bytes`, the SQLite store deletes expired rows as it writes,
and Redis expires its keys itself. `set` may be given a `Limit`: the bytes held under a key
prefix (a caller's state, say) then stay within a bound, checked and written in one step,
so that two processes writing at once cannot pass it together.
"""

from __future__ import annotations

import bisect
import heapq
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Protocol

__all__ = [
    "DEFAULT_MAX_KV_BYTES",
    "DEFAULT_MAX_KV_ENTRIES",
    "MAX_TTL",
    "KeyValueStore",
    "Limit",
    "MemoryKeyValueStore",
    "check_ttl",
    "entry_size",
]

#: Entries a `MemoryKeyValueStore` holds at most.
DEFAULT_MAX_KV_ENTRIES: Final = 100_000
#: Bytes of keys and values a `MemoryKeyValueStore` holds at most (64 MiB).
DEFAULT_MAX_KV_BYTES: Final = 64 * 1024 * 1024
#: The longest TTL (ten years): every store keeps one alike (Redis refuses far larger ones).
MAX_TTL: Final = 10 * 365 * 86_400.0


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `max_bytes` (`entry_size` summed) under the keys that start with `prefix`.
    Every key under such a prefix is written with the same `Limit`: Redis counts what was
    written with it, not every key that happens to share the prefix."""

    prefix: str
    max_bytes: int


def entry_size(key: str, value: bytes) -> int:
    """What an entry counts towards a `Limit`: the bytes of its key (UTF-8) and its value."""
    return len(key.encode("utf-8", "surrogatepass")) + len(value)


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
    was not kept). `clock` reads monotonic seconds (a fake clock in tests)."""

    __slots__ = ("_bytes", "_clock", "_entries", "_heap", "_keys", "_max_bytes", "_max_entries")

    def __init__(
        self,
        *,
        max_entries: int = DEFAULT_MAX_KV_ENTRIES,
        max_bytes: int = DEFAULT_MAX_KV_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1 or max_bytes < 1:
            raise ValueError("max_entries and max_bytes must be at least 1")
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._clock = clock
        self._entries: dict[str, tuple[bytes, float]] = {}
        # Keys in order, for prefix sums; and (expiry, key) pairs, some stale (a key set
        # again or deleted), for dropping the soonest to end.
        self._keys: list[str] = []
        self._heap: list[tuple[float, str]] = []
        self._bytes = 0

    async def get(self, key: str) -> bytes | None:
        self._expire(self._clock())
        found = self._entries.get(key)
        return None if found is None else found[0]

    async def set(self, key: str, value: bytes, ttl: float, *, limit: Limit | None = None) -> bool:
        expires = self._clock() + check_ttl(ttl)
        self._expire(self._clock())
        if limit is not None:
            others = self._used(limit.prefix) - self._size_of(key)
            if others + entry_size(key, value) > limit.max_bytes:
                return False
        self._remove(key)
        self._entries[key] = (value, expires)
        bisect.insort(self._keys, key)
        heapq.heappush(self._heap, (expires, key))
        self._bytes += entry_size(key, value)
        while len(self._entries) > self._max_entries or self._bytes > self._max_bytes:
            self._drop_soonest()
        if len(self._heap) > 2 * len(self._entries) + 64:  # stale pairs: rebuild
            self._heap = [(e, k) for k, (_, e) in self._entries.items()]
            heapq.heapify(self._heap)
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
        self._bytes -= entry_size(key, found[0])
        del self._keys[bisect.bisect_left(self._keys, key)]

    def _expire(self, now: float) -> None:
        heap, entries = self._heap, self._entries
        while heap and heap[0][0] <= now:
            expires, key = heapq.heappop(heap)
            found = entries.get(key)
            if found is not None and found[1] == expires:
                self._remove(key)

    def _drop_soonest(self) -> None:
        while True:
            expires, key = heapq.heappop(self._heap)
            found = self._entries.get(key)
            if found is not None and found[1] == expires:
                self._remove(key)
                return

    def __len__(self) -> int:
        return len(self._entries)


if TYPE_CHECKING:
    _implements: type[KeyValueStore] = MemoryKeyValueStore
