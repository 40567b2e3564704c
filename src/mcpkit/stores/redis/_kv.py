"""`RedisKeyValueStore`: `mcpkit.stores.kv.KeyValueStore` in Redis, shared by every process
of a deployment: a key per entry with Redis's own TTL (`kv:<key>`), and per `Limit` prefix a
hash of the entries written under it and their sizes (`kvsize:<prefix>`), read and written in
one script, so that two processes writing at once cannot pass the limit together. A pool
(`Limit.pool`) adds the bytes each of its prefixes held at its last write (`kvpool:<pool>`,
with their sum under the field "") and the order of those writes (`kvorder:<pool>`) and of
their ends (`kvends:<pool>`): the same script forgets the prefixes whose entries all ended,
then drops those written the longest ago until the pool fits."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from redis.asyncio import Redis

from mcpkit.stores.kv import (
    DEFAULT_MAX_POOL_BYTES,
    KeyValueStore,
    Limit,
    check_pool_bytes,
    check_ttl,
    entry_size,
)
from mcpkit.stores.redis._keys import check_client, id_key, milliseconds, reply_bytes

__all__ = ["RedisKeyValueStore"]

# The bytes of the live entries in the sizes hash KEYS[1], KEYS[2]'s left out; an entry
# whose key has expired or was deleted is dropped from the hash on the way. The hash holds
# at most the limit's bytes of live entries (each at least one byte), so the loop is bounded.
_SUM: Final = """
local function used(sizes, but)
    local fields = redis.call('HGETALL', sizes)
    local total = 0
    for i = 1, #fields, 2 do
        local key = fields[i]
        if key ~= but then
            if redis.call('EXISTS', key) == 1 then
                total = total + tonumber(fields[i + 1])
            else
                redis.call('HDEL', sizes, key)
            end
        end
    end
    return total
end
"""

# KEYS[1] the sizes hash, KEYS[2] the entry; ARGV value, ttl ms, size, max bytes.
_SET_WITHIN: Final = (
    _SUM
    + """
local size = tonumber(ARGV[3])
if used(KEYS[1], KEYS[2]) + size > tonumber(ARGV[4]) then
    return 0
end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
redis.call('HSET', KEYS[1], KEYS[2], size)
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1
"""
)

# KEYS[1] the sizes hash, KEYS[2] the entry, KEYS[3] the pool's bytes by sizes hash (and
# their sum under ""), KEYS[4] its sizes hashes by order of writing, KEYS[5] by the time
# (microseconds, read first: an entry's end counts from the script's start) their last
# entry ends; ARGV value, ttl ms, size, max bytes, max pool bytes. A prefix's bytes are
# counted (`used`) at its writes: an entry deleted or ended since is counted until its
# prefix is written again, dropped, or ends whole, so the pool holds at most what is
# counted. Dropping a prefix touches its sizes hash and entries, which no caller can name
# in KEYS ahead (as `used` touches the entries of the writer's own).
_SET_IN_POOL: Final = (
    _SUM
    + """
local function extend(key, ms)
    if redis.call('PTTL', key) < tonumber(ms) then
        redis.call('PEXPIRE', key, ms)
    end
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local function forget(victim)
    redis.call('HINCRBY', KEYS[3], '', -tonumber(redis.call('HGET', KEYS[3], victim) or '0'))
    redis.call('HDEL', KEYS[3], victim)
    redis.call('ZREM', KEYS[4], victim)
    redis.call('ZREM', KEYS[5], victim)
end
local sizes, counts, order, ends = KEYS[1], KEYS[3], KEYS[4], KEYS[5]
local size, most = tonumber(ARGV[3]), tonumber(ARGV[5])
local mine = used(sizes, KEYS[2]) + size
if mine > tonumber(ARGV[4]) or mine > most then
    return 0
end
for _, victim in ipairs(redis.call('ZRANGEBYSCORE', ends, '-inf', now, 'LIMIT', 0, 64)) do
    forget(victim)
end
local others = tonumber(redis.call('HGET', counts, '') or '0')
    - tonumber(redis.call('HGET', counts, sizes) or '0')
while others + mine > most do
    local oldest = redis.call('ZRANGE', order, 0, 1)
    local victim = oldest[1]
    if victim == sizes then
        victim = oldest[2]
    end
    if not victim then  -- (the counts outlived the order: nobody else holds anything)
        others = 0
        break
    end
    local entries = redis.call('HKEYS', victim)
    for i = 1, #entries do
        redis.call('DEL', entries[i])
    end
    redis.call('DEL', victim)
    others = others - tonumber(redis.call('HGET', counts, victim) or '0')
    forget(victim)
end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
redis.call('HSET', sizes, KEYS[2], size)
local top = redis.call('ZREVRANGE', order, 0, 0, 'WITHSCORES')
local seq = 1
if top[2] then
    seq = tonumber(top[2]) + 1
end
redis.call('ZADD', order, seq, sizes)
redis.call('ZADD', ends, 'GT', now + tonumber(ARGV[2]) * 1000, sizes)
redis.call('HSET', counts, sizes, mine, '', others + mine)
for _, key in ipairs({sizes, counts, order, ends}) do
    extend(key, ARGV[2])
end
return 1
"""
)

# KEYS[1] the sizes hash.
_USED: Final = _SUM + "\nreturn used(KEYS[1], '')\n"


class RedisKeyValueStore:
    """`KeyValueStore` in Redis. A key from a peer names one entry and no other key
    (`_keys.id_key`). The caller owns `client`. Every process sharing the Redis should give
    the same `max_pool_bytes` (each keeps a pool within its own)."""

    __slots__ = ("_client", "_max_pool_bytes", "_prefix", "_set_in_pool", "_set_within", "_used")

    def __init__(
        self,
        client: Redis,
        *,
        prefix: str = "mcpkit:",
        max_pool_bytes: int = DEFAULT_MAX_POOL_BYTES,
    ) -> None:
        check_client(client)
        self._client = client
        self._prefix = prefix.encode()
        self._max_pool_bytes = check_pool_bytes(max_pool_bytes)
        self._set_within = client.register_script(_SET_WITHIN)
        self._set_in_pool = client.register_script(_SET_IN_POOL)
        self._used = client.register_script(_USED)

    def _key(self, key: str) -> bytes:
        return id_key(self._prefix, "kv", key)

    async def get(self, key: str) -> bytes | None:
        found = await self._client.get(self._key(key))
        return None if found is None else reply_bytes(found)

    async def set(self, key: str, value: bytes, ttl: float, *, limit: Limit | None = None) -> bool:
        ms = milliseconds(check_ttl(ttl))
        if limit is None:
            await self._client.set(self._key(key), value, px=ms)
            return True
        sizes = id_key(self._prefix, "kvsize", limit.prefix)
        args: list[bytes | int] = [value, ms, entry_size(key, value), limit.max_bytes]
        if limit.pool is None:
            written = await self._set_within(keys=[sizes, self._key(key)], args=args)
            return bool(written)
        counts = id_key(self._prefix, "kvpool", limit.pool)
        order = id_key(self._prefix, "kvorder", limit.pool)
        ends = id_key(self._prefix, "kvends", limit.pool)
        keys = [sizes, self._key(key), counts, order, ends]
        written = await self._set_in_pool(keys=keys, args=[*args, self._max_pool_bytes])
        return bool(written)

    async def delete(self, key: str) -> None:
        await self._client.delete(self._key(key))

    async def used(self, prefix: str) -> int:
        total = await self._used(keys=[id_key(self._prefix, "kvsize", prefix)])
        return int(total)


if TYPE_CHECKING:
    _implements: type[KeyValueStore] = RedisKeyValueStore
