"""Values a server accepts once: the `jti` of a DPoP proof (RFC 9449 section 11.1), the id of
a single-use `requestState`. `ReplayCache.first_use(key, ttl)` says whether `key` is new,
and remembers it for `ttl` seconds; every process sharing the store sees the same answer, so
a value replayed to another worker is refused there too (SQLite, Redis).

A key is only ever remembered for as long as the value it names could be accepted (the
proof's freshness window, the state's lifetime): the cache holds what arrived within the
last `ttl` seconds and no more.
"""

from __future__ import annotations

import heapq
import time
from typing import TYPE_CHECKING, Final, Protocol

__all__ = ["DEFAULT_MAX_ONCE_KEYS", "MemoryReplayCache", "ReplayCache"]

#: Keys a `MemoryReplayCache` holds at most (about 150 bytes each).
DEFAULT_MAX_ONCE_KEYS: Final = 100_000


class ReplayCache(Protocol):
    """Keys seen within their lifetime, kept where every process sharing the store looks.
    `first_use` is atomic: of two processes offering the same key at once, one gets True."""

    async def first_use(self, key: str, ttl: float) -> bool:
        """True when `key` was not seen within its lifetime, remembering it for `ttl`
        seconds from now; False for a replay (nothing changes then)."""
        ...


class MemoryReplayCache:
    """`ReplayCache` within one process: the default of a `memory://` store.

    It holds `max_keys` keys at most. When a burst fills it with keys still in their
    lifetime, the one closest to the end of its lifetime is forgotten first: the smallest
    window a replay could use, where refusing new values would lock every client out."""

    __slots__ = ("_expiries", "_heap", "_max_keys")

    def __init__(self, max_keys: int = DEFAULT_MAX_ONCE_KEYS) -> None:
        if max_keys < 1:
            raise ValueError(f"max_keys must be at least 1, not {max_keys}")
        self._max_keys = max_keys
        self._expiries: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []

    async def first_use(self, key: str, ttl: float) -> bool:
        now = time.monotonic()
        self._forget(now)
        if key in self._expiries:
            return False
        expires = now + ttl
        self._expiries[key] = expires
        heapq.heappush(self._heap, (expires, key))
        while len(self._expiries) > self._max_keys:
            _, oldest = heapq.heappop(self._heap)
            del self._expiries[oldest]
        return True

    def _forget(self, now: float) -> None:
        """Drop the keys whose lifetime has ended."""
        heap = self._heap
        while heap and heap[0][0] <= now:
            _, key = heapq.heappop(heap)
            del self._expiries[key]

    def __len__(self) -> int:
        return len(self._expiries)


if TYPE_CHECKING:
    _implements: type[ReplayCache] = MemoryReplayCache
