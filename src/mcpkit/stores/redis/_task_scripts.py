"""The Lua scripts of `RedisTaskStore`: each operation on tasks is one script, which Redis
runs atomically, so that processes sharing the tasks never interleave (a `finish` and a
`tasks/cancel` of one task, two `create`s at a bound).

Every script first tidies, as `SqliteTaskStore`'s transactions do: tasks whose ttl has
elapsed by the store's clock are deleted, and live tasks whose lease lapsed are failed with
`LAPSED`. The time is the caller's clock (ARGV[2], seconds; ARGV[3] the same as a task's
timestamp), never Redis's own, so that a test's clock rules expiry. Each change is
published on the channel `<prefix>tasks:changed` with the task's id, for `wait`.

Keys, under the prefix P (ARGV[1]): `P task:<id>` a hash per task (owner, owned: its
owner's index, status, message, created_at, updated_at, ttl, poll, outcome);
`P owner:<owner>` the owner's ids by creation number (KEYS[1] where a script needs it);
`P tasks:all` every id by creation number; `P tasks:expiry` every id by the time its ttl
ends; `P tasks:leases` the live ids by the time their lease lapses. The scripts derive task
keys from the prefix, so the store needs a single Redis (or Valkey) server, not a Cluster.
"""

from __future__ import annotations

from typing import Final

import msgspec

from mcpkit.stores.redis._keys import lua_string
from mcpkit.stores.tasks import LAPSED, lapsed_outcome

__all__ = ["CANCEL", "CREATE", "FIELDS", "LIST", "MOVE", "READ", "RENEW", "TIDY"]

#: The fields of a task's hash that make its `Task`, in the order the scripts answer them.
FIELDS: Final = ("status", "message", "created_at", "updated_at", "ttl", "poll")

#: What a task whose lease lapsed keeps as its outcome: the JSON of `lapsed_outcome()`.
_LAPSED_OUTCOME: Final = msgspec.json.encode(lapsed_outcome()).decode()

_PRELUDE: Final = f"""
local P, STAMP = ARGV[1], ARGV[3]
local ALL, EXPIRY, LEASES = P .. 'tasks:all', P .. 'tasks:expiry', P .. 'tasks:leases'
local CHANGED = P .. 'tasks:changed'
local FIELDS = {{{", ".join(map(lua_string, FIELDS))}}}
local LIVE = {{working = true, input_required = true}}
local LAPSED, LAPSED_OUTCOME = {lua_string(LAPSED)}, {lua_string(_LAPSED_OUTCOME)}

local function task_key(id)
    return P .. 'task:' .. id
end

-- Delete a task and every entry of it; 1 if it was there.
local function drop(id)
    local key = task_key(id)
    local owned = redis.call('HGET', key, 'owned')
    if owned then
        redis.call('ZREM', owned, id)
    end
    redis.call('ZREM', ALL, id)
    redis.call('ZREM', EXPIRY, id)
    redis.call('ZREM', LEASES, id)
    redis.call('PUBLISH', CHANGED, id)
    return redis.call('DEL', key)
end

-- Delete the tasks whose ttl has elapsed, fail the live ones whose lease lapsed; how many
-- were deleted.
local function tidy()
    local deleted = 0
    for _, id in ipairs(redis.call('ZRANGEBYSCORE', EXPIRY, '-inf', ARGV[2])) do
        deleted = deleted + drop(id)
    end
    for _, id in ipairs(redis.call('ZRANGEBYSCORE', LEASES, '-inf', '(' .. ARGV[2])) do
        redis.call('ZREM', LEASES, id)
        local key = task_key(id)
        if LIVE[redis.call('HGET', key, 'status')] then
            redis.call('HSET', key, 'status', 'failed', 'message', LAPSED, 'updated_at', STAMP,
                'outcome', LAPSED_OUTCOME)
            redis.call('PUBLISH', CHANGED, id)
        end
    end
    return deleted
end

-- The key of task `id` if `owner` owns it; nil for an unknown, expired or foreign one.
local function owned_task(id, owner)
    local key = task_key(id)
    if redis.call('HGET', key, 'owner') ~= owner then
        return nil
    end
    return key
end

local function fields(key)
    return redis.call('HMGET', key, unpack(FIELDS))
end

-- Set or delete (has == '0') a task's status message.
local function set_message(key, message, has)
    if has == '1' then
        redis.call('HSET', key, 'message', message)
    else
        redis.call('HDEL', key, 'message')
    end
end
"""


# Start a task; KEYS[1]: its owner's index. ARGV[4..12]: id, owner, ttl (ms), poll interval
# (ms, '' for none), the time its ttl ends, the time its lease lapses, max_tasks_per_owner,
# max_tasks, and how long (ms) Redis keeps its keys. Answers {1, creation number}, or
# {0, the setting of the bound} when every task the bound covers is live.
CREATE: Final = (
    _PRELUDE
    + """
tidy()
-- Room for one task more under `index`: at its bound the oldest finished task goes; false
-- when every task it holds is live.
local function make_room(index, bound)
    local count, start = redis.call('ZCARD', index), 0
    while count >= bound do
        local ids = redis.call('ZRANGE', index, start, start + 99)
        if #ids == 0 then
            return false
        end
        start = start + #ids
        for _, id in ipairs(ids) do
            local status = redis.call('HGET', task_key(id), 'status')
            if not status then  -- Redis dropped its hash (a safety TTL): only entries were left
                drop(id)
                redis.call('ZREM', index, id)
                count, start = count - 1, start - 1
            elseif not LIVE[status] then
                drop(id)
                return true
            end
            if count < bound then
                return true
            end
        end
    end
    return true
end

if not make_room(KEYS[1], tonumber(ARGV[10])) then
    return {0, 'max_tasks_per_owner'}
end
if not make_room(ALL, tonumber(ARGV[11])) then
    return {0, 'max_tasks'}
end
-- Creation numbers grow in every process: Redis's clock in microseconds, or one more than
-- the newest task's when that is higher (no counter key is left behind).
local now = redis.call('TIME')
local seq = tonumber(now[1]) * 1000000 + tonumber(now[2])
local newest = redis.call('ZRANGE', ALL, -1, -1, 'WITHSCORES')[2]
if newest and tonumber(newest) >= seq then
    seq = tonumber(newest) + 1
end
seq = string.format('%d', seq)
local id = ARGV[4]
local key = task_key(id)
redis.call('HSET', key, 'owner', ARGV[5], 'owned', KEYS[1], 'status', 'working',
    'created_at', STAMP, 'updated_at', STAMP, 'ttl', ARGV[6])
if ARGV[7] ~= '' then
    redis.call('HSET', key, 'poll', ARGV[7])
end
redis.call('ZADD', KEYS[1], seq, id)
redis.call('ZADD', ALL, seq, id)
redis.call('ZADD', EXPIRY, ARGV[8], id)
redis.call('ZADD', LEASES, ARGV[9], id)
local keep = tonumber(ARGV[12])
redis.call('PEXPIRE', key, keep)
for _, index in ipairs({KEYS[1], ALL, EXPIRY, LEASES}) do
    if redis.call('PTTL', index) < keep then  -- an index outlives every task it holds
        redis.call('PEXPIRE', index, keep)
    end
end
return {1, seq}
"""
)

# The fields ARGV[6..] of task ARGV[4] of owner ARGV[5]; nil when it is not found.
READ: Final = (
    _PRELUDE
    + """
tidy()
local key = owned_task(ARGV[4], ARGV[5])
if not key then
    return false
end
return redis.call('HMGET', key, unpack(ARGV, 6))
"""
)

# Owner's tasks created after number ARGV[4], at most ARGV[5] of them, oldest first, each as
# id, creation number, FIELDS. KEYS[1]: the owner's index.
LIST: Final = (
    _PRELUDE
    + """
tidy()
local after, wanted, got, page = ARGV[4], tonumber(ARGV[5]), 0, {}
while got < wanted do
    local found = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. after, '+inf', 'WITHSCORES',
        'LIMIT', 0, wanted - got)
    if #found == 0 then
        break
    end
    for i = 1, #found, 2 do
        local id, seq = found[i], found[i + 1]
        local row = fields(task_key(id))
        if row[1] then
            page[#page + 1] = id
            page[#page + 1] = seq
            for j = 1, #FIELDS do  -- false (a field not set) is a value: `#` counts it
                page[#page + 1] = row[j]
            end
            got = got + 1
        else  -- Redis dropped its hash (a safety TTL) before the store's clock expired it
            redis.call('ZREM', KEYS[1], id)
        end
        after = seq
    end
end
return page
"""
)

# Move task ARGV[4] of owner ARGV[5] to status ARGV[6] with message ARGV[7] (ARGV[8]: '1'
# when there is one), unless it is terminal; a final status comes with its outcome ARGV[9],
# stored, and ends the lease ('' for working or input_required). {1 if it changed,
# FIELDS...}, nil if not found.
MOVE: Final = (
    _PRELUDE
    + """
tidy()
local key = owned_task(ARGV[4], ARGV[5])
if not key then
    return false
end
local changed = 0
if LIVE[redis.call('HGET', key, 'status')] then
    redis.call('HSET', key, 'status', ARGV[6], 'updated_at', STAMP)
    if ARGV[9] ~= '' then
        redis.call('HSET', key, 'outcome', ARGV[9])
        redis.call('ZREM', LEASES, ARGV[4])
    end
    set_message(key, ARGV[7], ARGV[8])
    redis.call('PUBLISH', CHANGED, ARGV[4])
    changed = 1
end
local row = fields(key)
table.insert(row, 1, changed)
return row
"""
)

# Cancel task ARGV[4] of owner ARGV[5] with message ARGV[6] (ARGV[7]: '1' when there is
# one): {1, FIELDS...}; {0, status} when it is already terminal; nil if not found.
CANCEL: Final = (
    _PRELUDE
    + """
tidy()
local key = owned_task(ARGV[4], ARGV[5])
if not key then
    return false
end
local status = redis.call('HGET', key, 'status')
if not LIVE[status] then
    return {0, status}
end
redis.call('HSET', key, 'status', 'cancelled', 'updated_at', STAMP)
set_message(key, ARGV[6], ARGV[7])
redis.call('ZREM', LEASES, ARGV[4])
redis.call('PUBLISH', CHANGED, ARGV[4])
local row = fields(key)
table.insert(row, 1, 1)
return row
"""
)

# Extend to ARGV[4] the lease of each live task among ARGV[5..]; answer the others.
RENEW: Final = (
    _PRELUDE
    + """
tidy()
local stop = {}
for i = 5, #ARGV do
    local id = ARGV[i]
    if redis.call('ZSCORE', LEASES, id) and redis.call('EXISTS', task_key(id)) == 1 then
        redis.call('ZADD', LEASES, ARGV[4], id)
    else
        stop[#stop + 1] = id
    end
end
return stop
"""
)

# Only the tidying: how many tasks were deleted.
TIDY: Final = (
    _PRELUDE
    + """
return tidy()
"""
)
