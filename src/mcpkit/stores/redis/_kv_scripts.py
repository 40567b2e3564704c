"""The Lua scripts of `RedisKeyValueStore`: each write or delete is one script, which Redis runs
atomically, so that processes sharing a `Limit` or a pool never pass it together.

Every key a script touches is one it is given in KEYS, as Redis asks of scripts (and as a
Cluster, or a server that locks the keys a script declares, needs): a key known only once a
script has run (a prefix to drop to make room in a pool, and its entries) is named in the
answer instead, and the store runs the script again with it declared. The keys all carry the
hash tag `{kv}` (`RedisKeyValueStore`), so that they share one slot.

The keys, per entry (`<key>`): `{kv}:<key>` its value, `{kv}of:<key>` the `Limit` it was
written with (JSON `[prefix, pool]`, absent without one), both with the entry's TTL. Per
`Limit` prefix: `{kv}size:<prefix>` a hash of its entries' sizes, `{kv}until:<prefix>` a
sorted set of their ends (microseconds of Redis's clock). Per pool: `{kv}pool:<pool>` a hash
of the bytes it counts per prefix (by its sizes hash's name; their sum under ""),
`{kv}order:<pool>` its prefixes by the order of their last writes, `{kv}pooled:<pool>` the
entries it counts (entry: "<size>:<sizes hash>") and `{kv}ends:<pool>` their ends: an entry
leaves the pool's count when it is deleted, replaced, dropped or found ended.
"""

from __future__ import annotations

from typing import Final

__all__ = ["DELETE", "SET", "SET_PLAIN", "USED"]

# Helpers every script shares. `now` is Redis's clock in microseconds.
_COMMON: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local function extend(key, ms)
    if redis.call('PTTL', key) < tonumber(ms) then
        redis.call('PEXPIRE', key, ms)
    end
end
-- The bytes of the entries in the sizes hash `sizes` (ends in `ends`), `but` left out, after
-- forgetting those that ended.
local function used(sizes, ends, but)
    for _, gone in ipairs(redis.call('ZRANGEBYSCORE', ends, '-inf', now)) do
        redis.call('HDEL', sizes, gone)
        redis.call('ZREM', ends, gone)
    end
    local fields = redis.call('HGETALL', sizes)
    local total = 0
    for i = 1, #fields, 2 do
        if fields[i] ~= but then
            total = total + tonumber(fields[i + 1])
        end
    end
    return total
end
-- Take `entry` out of the pool's count (counts, order, pooled, ends); its size, 0 when the
-- pool did not count it.
local function uncount(counts, order, pooled, ends, entry)
    local found = redis.call('HGET', pooled, entry)
    if not found then
        return 0
    end
    local colon = string.find(found, ':', 1, true)
    local size, sizes = tonumber(string.sub(found, 1, colon - 1)), string.sub(found, colon + 1)
    redis.call('HDEL', pooled, entry)
    redis.call('ZREM', ends, entry)
    local left = tonumber(redis.call('HGET', counts, sizes) or '0')
    if size > 0 then  -- (-0 is no integer to Redis)
        redis.call('HINCRBY', counts, '', -size)
        left = redis.call('HINCRBY', counts, sizes, -size)
    end
    if left <= 0 then
        redis.call('HDEL', counts, sizes)
        redis.call('ZREM', order, sizes)
    end
    return size
end
-- Take the pool's ended entries out of its count, at most `most` of them (all: -1).
local function uncount_ended(counts, order, pooled, ends, most)
    local ended = redis.call('ZRANGEBYSCORE', ends, '-inf', now, 'LIMIT', 0, most)
    for _, gone in ipairs(ended) do
        uncount(counts, order, pooled, ends, gone)
    end
end
"""

# KEYS: the entry, its Limit, the prefix's sizes and ends; with a pool its counts, order,
# pooled and ends, then per prefix the store was told to drop (answer {-2, sizes}) its sizes
# and ends, then each of its entries and the entry's Limit. ARGV: value, ttl ms, size, max
# bytes, the Limit's JSON; with a pool max pool bytes, then per prefix to drop its number of
# entries. Answers 1 written, 0 refused, -1 the key holds a value of another Limit (delete
# it first), {-2, sizes} a prefix to drop first whose keys were not all given.
SET: Final = (
    _COMMON
    + """
local entry, limit, sizes, stops = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local value, ms, size = ARGV[1], ARGV[2], tonumber(ARGV[3])
local was = redis.call('GET', limit)
if was and was ~= ARGV[5] then
    return -1
end
if used(sizes, stops, entry) + size > tonumber(ARGV[4]) then
    return 0
end
local ends_at = now + tonumber(ms) * 1000
if #KEYS > 4 then
    local counts, order, pooled, ends = KEYS[5], KEYS[6], KEYS[7], KEYS[8]
    local budget = tonumber(ARGV[6])
    local function count(key)
        return tonumber(redis.call('HGET', counts, key) or '0')
    end
    -- What the entry counts now, which its new value replaces.
    local old, old_own = 0, 0
    local found = redis.call('HGET', pooled, entry)
    if found then
        local colon = string.find(found, ':', 1, true)
        old = tonumber(string.sub(found, 1, colon - 1))
        if string.sub(found, colon + 1) == sizes then
            old_own = old
        end
    end
    uncount_ended(counts, order, pooled, ends, 64)
    if count(sizes) - old_own + size > budget then
        uncount_ended(counts, order, pooled, ends, -1)
        if redis.call('HGET', pooled, entry) == false then
            old, old_own = 0, 0
        end
        if count(sizes) - old_own + size > budget then
            return 0
        end
    end
    if count('') - old + size > budget then
        uncount_ended(counts, order, pooled, ends, -1)
        if redis.call('HGET', pooled, entry) == false then
            old = 0
        end
    end
    -- The prefixes given to drop, by their sizes hash: where their keys start, how many.
    local declared, at = {}, 9
    for i = 7, #ARGV do
        declared[KEYS[at]] = {at, tonumber(ARGV[i])}
        at = at + 2 + 2 * tonumber(ARGV[i])
    end
    while count('') - old + size > budget do
        local oldest = redis.call('ZRANGE', order, 0, 1)
        local victim = oldest[1]
        if victim == sizes then
            victim = oldest[2]
        end
        if not victim then  -- (the counts outlived the order: nobody else holds anything)
            redis.call('HSET', counts, '', count(sizes))
            break
        end
        local given = declared[victim]
        if not given then
            return {-2, victim}
        end
        local limits = {}
        for i = given[1] + 2, given[1] + 1 + 2 * given[2], 2 do
            limits[KEYS[i]] = KEYS[i + 1]
        end
        local held = redis.call('HKEYS', victim)
        for _, gone in ipairs(held) do
            if not limits[gone] then  -- (written since the store looked)
                return {-2, victim}
            end
        end
        for _, gone in ipairs(held) do
            redis.call('DEL', gone, limits[gone])
            uncount(counts, order, pooled, ends, gone)
        end
        redis.call('DEL', victim, KEYS[given[1] + 1])
        -- (What it still counts, of entries ended and not yet met, goes with it.)
        local left = count(victim)
        if left ~= 0 then  -- (-0 is no integer to Redis)
            redis.call('HINCRBY', counts, '', -left)
            redis.call('HDEL', counts, victim)
        end
        redis.call('ZREM', order, victim)
    end
    uncount(counts, order, pooled, ends, entry)
    redis.call('HSET', pooled, entry, size .. ':' .. sizes)
    redis.call('ZADD', ends, ends_at, entry)
    redis.call('HINCRBY', counts, sizes, size)
    redis.call('HINCRBY', counts, '', size)
    local top = redis.call('ZREVRANGE', order, 0, 0, 'WITHSCORES')
    local seq = 1
    if top[2] then
        seq = tonumber(top[2]) + 1
    end
    redis.call('ZADD', order, seq, sizes)
    for _, key in ipairs({counts, order, pooled, ends}) do
        extend(key, ms)
    end
end
redis.call('SET', entry, value, 'PX', ms)
redis.call('SET', limit, ARGV[5], 'PX', ms)
redis.call('HSET', sizes, entry, size)
redis.call('ZADD', stops, ends_at, entry)
extend(sizes, ms)
extend(stops, ms)
return 1
"""
)

# KEYS: the entry, its Limit; ARGV: value, ttl ms. Answers 1 written, -1 the key holds a
# value of a Limit (delete it first, so that its bytes leave their count).
SET_PLAIN: Final = """
if redis.call('EXISTS', KEYS[2]) == 1 then
    return -1
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""

# KEYS: the entry, its Limit; when it has one the prefix's sizes and ends, and with a pool
# its counts, order, pooled and ends. ARGV: the Limit's JSON as the store read it ("" for
# none). Answers 1 deleted, -1 the Limit is not the one read (read it again).
DELETE: Final = (
    _COMMON
    + """
if (redis.call('GET', KEYS[2]) or '') ~= ARGV[1] then
    return -1
end
redis.call('DEL', KEYS[1], KEYS[2])
if #KEYS > 2 then
    redis.call('HDEL', KEYS[3], KEYS[1])
    redis.call('ZREM', KEYS[4], KEYS[1])
end
if #KEYS > 4 then
    uncount(KEYS[5], KEYS[6], KEYS[7], KEYS[8], KEYS[1])
end
return 1
"""
)

# KEYS: a prefix's sizes and ends.
USED: Final = _COMMON + "\nreturn used(KEYS[1], KEYS[2], '')\n"
