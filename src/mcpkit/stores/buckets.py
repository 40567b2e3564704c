"""Token buckets that several processes share, so that a rate limit (`mcpkit.server.
rate_limit.RateLimit`) holds for a user however many processes serve them: the interface
a store offers (`Stores.buckets`); `mcpkit.stores.redis.RedisBuckets` implements it."""

from __future__ import annotations

from typing import Protocol

__all__ = ["SharedBuckets"]


class SharedBuckets(Protocol):
    """Buckets of `burst` tokens that refill at `rate` tokens a second, one per key, kept
    where every process reads them. One `take` is atomic: two processes never spend the
    same token. A bucket nobody used for as long as it takes to refill is the same as none,
    and may be forgotten."""

    async def take(self, key: str, rate: float, burst: int) -> float:
        """Spend one token of `key`'s bucket: 0.0 when it had one, else the seconds until
        it will (nothing is spent then)."""
        ...
