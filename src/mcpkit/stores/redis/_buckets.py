"""`RedisBuckets`: token buckets of a rate limit shared by every process, in Redis."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from mcpkit._extras import needs_extra

with needs_extra("redis"):
    from redis.asyncio import Redis

from mcpkit.stores.buckets import SharedBuckets
from mcpkit.stores.redis._keys import check_client, id_key

__all__ = ["RedisBuckets"]

# KEYS[1] the bucket; ARGV rate (tokens a second), burst. The time is Redis's, so that the
# processes of many hosts, whose clocks differ, refill one bucket alike. The bucket's key
# lives as long as the bucket takes to fill again, after which it is the same as none.
_TAKE: Final = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local kept = redis.call('HMGET', KEYS[1], 't', 's')
local tokens = tonumber(kept[1]) or burst
local stamp = tonumber(kept[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - stamp) * rate)
local wait = 0
if tokens >= 1 then
    tokens = tokens - 1
else
    wait = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 's', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return tostring(wait)
"""


class RedisBuckets:
    """`SharedBuckets` in Redis: a hash per bucket (its tokens and when they were counted),
    each `take` one script. A key from a peer (a session id, a token's subject) names one
    bucket and no other key (`_keys.id_key`). The caller owns `client`."""

    def __init__(self, client: Redis, *, prefix: str = "mcpkit:") -> None:
        check_client(client)
        self._prefix = prefix.encode()
        self._take = client.register_script(_TAKE)

    async def take(self, key: str, rate: float, burst: int) -> float:
        wait = await self._take(keys=[id_key(self._prefix, "bucket", key)], args=[rate, burst])
        return float(wait)


if TYPE_CHECKING:  # mypy and pyright prove the buckets implement the interface
    _implements: type[SharedBuckets] = RedisBuckets
