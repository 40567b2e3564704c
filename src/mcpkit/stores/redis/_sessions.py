"""`RedisSessionStore`: session records in Redis, seen by every process of a deployment."""

from __future__ import annotations

from typing import Final

from mcpkit._extras import needs_extra

with needs_extra("redis"):
    from redis.asyncio import Redis

from mcpkit.stores.redis._keys import (
    as_bytes,
    as_text,
    check_client,
    id_key,
    milliseconds,
    reply_bytes,
)
from mcpkit.stores.sessions import SessionRecord, decode_record, encode_record

__all__ = ["RedisSessionStore"]

_EXPIRE_BATCH: Final = 500  # ids looked at per round trip of `expire`

# Deletes the records among ARGV[2..] still last seen before ARGV[1] (a process may have
# written one again since `expire` read the index), and answers their ids.
# KEYS[1]: the index (a sorted set of id by last_seen); KEYS[2..]: the records of ARGV[2..].
_EXPIRE: Final = """
local gone = {}
for i = 2, #ARGV do
    local seen = redis.call('ZSCORE', KEYS[1], ARGV[i])
    if seen and tonumber(seen) < tonumber(ARGV[1]) then
        redis.call('DEL', KEYS[i])
        redis.call('ZREM', KEYS[1], ARGV[i])
        gone[#gone + 1] = ARGV[i]
    end
end
return gone
"""

# Writes the record ARGV[1] under KEYS[1] for ARGV[2] ms and its last seen ARGV[3] in the
# index (KEYS[2], member ARGV[4]), unless the session ended (KEYS[3], its mark, exists).
_PUT: Final = """
if redis.call('EXISTS', KEYS[3]) == 1 then
    return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return 1
"""

# The record of KEYS[1], its TTL (ARGV[1] ms) started again and its last seen in the index
# (KEYS[2], member ARGV[3]) moved up to ARGV[2]; nothing when there is no record (nil).
_TOUCH: Final = """
local data = redis.call('GET', KEYS[1])
if not data then
    return false
end
redis.call('PEXPIRE', KEYS[1], ARGV[1])
local seen = redis.call('ZSCORE', KEYS[2], ARGV[3])
if not seen or tonumber(seen) < tonumber(ARGV[2]) then
    redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
end
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return data
"""


class RedisSessionStore:
    """`RememberingSessionStore` in Redis: each record is `encode_record`'s JSON under a key
    of its own, and a sorted set of the ids by last seen (created, if never seen) answers
    `expire`; a deleted session leaves a key of its own, its mark, for `idle_ttl`.

    Redis frees what nobody deletes: a record's key lives `idle_ttl` seconds after its last
    `put` or `touch`, the index as long as its newest record may, and a mark as long as the
    record it replaced could have, so a process that dies leaves nothing behind for good.
    `idle_ttl` is a safety net, not the session expiry (that is `expire`, which the server
    calls with its own idle bound): keep it longer than that bound, since a record Redis
    dropped is a session gone. The caller owns `client` (made with `decode_responses=False`,
    the default) and closes it; the store holds nothing else.
    """

    __slots__ = ("_client", "_expire", "_index", "_prefix", "_put", "_touch", "idle_ttl")

    def __init__(self, client: Redis, *, prefix: str = "mcpkit:", idle_ttl: float = 3600) -> None:
        check_client(client)
        self._client = client
        self._prefix = prefix.encode()
        self.idle_ttl = idle_ttl
        milliseconds(idle_ttl)  # refuse a TTL that is not positive now, not at the first put
        self._index = self._prefix + b"sessions"
        self._expire = client.register_script(_EXPIRE)
        self._put = client.register_script(_PUT)
        self._touch = client.register_script(_TOUCH)

    def _key(self, session_id: str) -> bytes:
        return id_key(self._prefix, "session", session_id)

    def _mark(self, session_id: str) -> bytes:
        return id_key(self._prefix, "ended-session", session_id)

    async def put(self, record: SessionRecord) -> None:
        sid = record.id
        seen = record.last_seen or record.created
        # (the index's TTL set again too: no record it holds outlives this put's)
        await self._put(
            keys=[self._key(sid), self._index, self._mark(sid)],
            args=[encode_record(record), milliseconds(self.idle_ttl), repr(seen), as_bytes(sid)],
        )

    async def get(self, session_id: str) -> SessionRecord | None:
        data = await self._client.get(self._key(session_id))
        return None if data is None else decode_record(reply_bytes(data))

    async def delete(self, session_id: str) -> None:
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.delete(self._key(session_id))
            pipe.zrem(self._index, as_bytes(session_id))
            pipe.set(self._mark(session_id), b"", px=milliseconds(self.idle_ttl))
            await pipe.execute()

    async def ended(self, session_id: str) -> bool:
        return bool(await self._client.exists(self._mark(session_id)))

    async def touch(self, session_id: str, seen: float) -> SessionRecord | None:
        ttl = milliseconds(self.idle_ttl)
        data: object = await self._touch(
            keys=[self._key(session_id), self._index], args=[ttl, repr(seen), as_bytes(session_id)]
        )
        return None if data is None else decode_record(reply_bytes(data))

    async def expire(self, before: float) -> list[str]:
        gone: list[str] = []
        while True:
            due = await self._client.zrangebyscore(  # pyright: ignore[reportUnknownMemberType]
                self._index, "-inf", f"({before!r}", start=0, num=_EXPIRE_BATCH
            )
            if not due:
                return gone
            ids = [reply_bytes(raw) for raw in due]
            keys = [self._key(as_text(raw)) for raw in ids]
            removed: list[bytes] = await self._expire(
                keys=[self._index, *keys], args=[repr(before), *ids]
            )
            gone.extend(as_text(raw) for raw in removed)
