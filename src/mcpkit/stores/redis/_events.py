"""`RedisEventStore`: the SSE event logs of every process, kept in Redis for replay."""

from __future__ import annotations

import asyncio
import struct
from typing import Final

from mcpkit._extras import needs_extra

with needs_extra("redis"):
    from redis.asyncio import Redis

from mcpkit.stores.event_log import DEFAULT_REPLAY_BYTES, DEFAULT_REPLAY_EVENTS
from mcpkit.stores.redis._keys import check_client, id_key, milliseconds

__all__ = ["RedisEventStore"]

_SEQ = struct.Struct(">q")  # each member starts with its number: two equal messages stay two
_MAX_BATCH: Final = 128  # appends sent in one script call

# Appends the events ARGV[4..] (pairs of number and member) to a stream, then drops its
# oldest events until at most ARGV[1] events and ARGV[2] bytes of messages are kept, and
# notes the number of the oldest one kept (or of the next to come, when none is).
# KEYS[1]: the events (sorted set of member by number); KEYS[2]: the stream (hash: first,
# size). Both live ARGV[3] ms after the last append.
_APPEND: Final = """
local max_events, max_bytes = tonumber(ARGV[1]), tonumber(ARGV[2])
local size = tonumber(redis.call('HGET', KEYS[2], 'size') or '0')
local last
for i = 4, #ARGV, 2 do
    for _, old in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[i], ARGV[i])) do
        size = size - (#old - 8)  -- the same number again replaces its event
        redis.call('ZREM', KEYS[1], old)
    end
    redis.call('ZADD', KEYS[1], ARGV[i], ARGV[i + 1])
    size = size + #ARGV[i + 1] - 8
    last = tonumber(ARGV[i])
end
local count = redis.call('ZCARD', KEYS[1])
while count > max_events or size > max_bytes do
    local oldest = redis.call('ZPOPMIN', KEYS[1])
    size = size - (#oldest[1] - 8)
    count = count - 1
end
local first = string.format('%d', last + 1)
if count > 0 then
    first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]
end
redis.call('HSET', KEYS[2], 'first', first, 'size', string.format('%d', size))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return count
"""

# The events of a stream after number ARGV[1]: {2, member...}; {1} when the window has
# dropped one of them; {0} when nothing was appended to the stream (or it was forgotten).
_REPLAY: Final = """
local first = redis.call('HGET', KEYS[2], 'first')
if not first then
    return {0}
end
if tonumber(ARGV[1]) + 1 < tonumber(first) then
    return {1}
end
local events = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf')
table.insert(events, 1, 2)
return events
"""

#: A queued write: its stream, an event's number and message, or (0, None) for a `forget`;
#: and the future its caller awaits.
_Item = tuple[str, int, bytes | None, asyncio.Future[None]]


class RedisEventStore:
    """`EventStore` in Redis: each stream's window is a sorted set of its messages by number
    and a hash of the oldest number kept and the bytes kept; both keys expire `ttl` seconds
    after the stream's last append, so a stream nobody forgets is freed by Redis itself. A
    replay reads both in one script, so it never sees half an append.

    Every append and forget of this process goes through one writer task, in the order they
    were started (a stream is written by the process that holds it): redis-py spreads
    concurrent commands over its pool's connections, which would reorder them. While the
    writer's round trip is under way, what is started meanwhile queues, and the next round
    trip sends all of it as one pipeline: one script call per stream with its appends (at
    most `_MAX_BATCH`), one DEL per forget, in order. So a burst of progress messages, or
    the answers of many calls at once, cost one round trip; each append returns once its
    own event is written. The script makes each
    call atomic, so other processes never see a stream mid-append, and the sorted set keeps
    events in the order of their numbers whichever order they arrive in (from two processes
    that both wrote to a stream, say).

    The caller owns `client` (made with `decode_responses=False`, the default) and closes
    it after `aclose`, which waits for the queued appends."""

    __slots__ = (
        "_append",
        "_client",
        "_items",
        "_prefix",
        "_replay",
        "_writer",
        "max_bytes",
        "max_events",
        "ttl",
    )

    def __init__(
        self,
        client: Redis,
        *,
        max_events: int = DEFAULT_REPLAY_EVENTS,
        max_bytes: int = DEFAULT_REPLAY_BYTES,
        prefix: str = "mcpkit:",
        ttl: float = 3600,
    ) -> None:
        if max_events < 1 or max_bytes < 1:
            raise ValueError("an event store's replay window must hold at least 1 event and byte")
        check_client(client)
        milliseconds(ttl)
        self.max_events = max_events
        self.max_bytes = max_bytes
        self.ttl = ttl
        self._client = client
        self._prefix = prefix.encode()
        self._append = client.register_script(_APPEND)
        self._replay = client.register_script(_REPLAY)
        self._items: list[_Item] = []  # queued for the writer, in order
        self._writer: asyncio.Task[None] | None = None

    def _keys(self, stream_id: str) -> list[bytes]:
        return [
            id_key(self._prefix, "events", stream_id),
            id_key(self._prefix, "stream", stream_id),
        ]

    async def append(self, stream_id: str, seq: int, data: bytes) -> None:
        await self._queued(stream_id, seq, data)

    async def forget(self, stream_id: str) -> None:
        # Queued as well: an append started before it must not bring the stream back.
        await self._queued(stream_id, 0, None)

    async def replay_after(self, stream_id: str, seq: int) -> list[tuple[int, bytes]] | None:
        reply: list[int | bytes] = await self._replay(keys=self._keys(stream_id), args=[seq])
        state = reply[0]
        if state == 0:
            return [] if seq == 0 else None  # nothing stored yet, or all of it forgotten
        if state == 1:
            return None  # the window has dropped some of what the client missed
        events: list[tuple[int, bytes]] = []
        for member in reply[1:]:
            assert isinstance(member, bytes)
            events.append((_SEQ.unpack_from(member)[0], member[_SEQ.size :]))
        return events

    async def aclose(self) -> None:
        """Wait for the appends and forgets already asked for to be written."""
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)

    async def _queued(self, stream_id: str, seq: int, data: bytes | None) -> None:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._items.append((stream_id, seq, data, done))
        if self._writer is None:
            self._writer = loop.create_task(self._write(), name="mcpkit events")
        await done

    async def _write(self) -> None:
        """Write what is queued until nothing is; then the task ends."""
        ttl = milliseconds(self.ttl)
        try:
            while self._items:
                batch, self._items = self._items, []
                calls = self._calls(batch)
                pipe = self._client.pipeline(transaction=False)
                for keys, items in calls:
                    if items[0][2] is None:
                        pipe.delete(*keys)
                    else:
                        args: list[int | bytes] = [self.max_events, self.max_bytes, ttl]
                        for _, seq, data, _ in items:
                            assert data is not None  # _calls keeps forgets apart
                            args += [seq, _SEQ.pack(seq) + data]
                        await self._append(keys=keys, args=args, client=pipe)
                try:
                    replies = await pipe.execute(raise_on_error=False)
                except BaseException as exc:  # each caller hears of its own failure
                    _settle(batch, exc)
                    if not isinstance(exc, Exception):
                        raise
                    continue
                for (_, items), reply in zip(calls, replies, strict=True):
                    _settle(items, reply if isinstance(reply, Exception) else None)
        finally:
            self._writer = None  # no await since the loop saw the queue empty
            for *_, done in self._items:  # only when this task was cancelled
                done.cancel()

    def _calls(self, batch: list[_Item]) -> list[tuple[list[bytes], list[_Item]]]:
        """`batch` as commands, in order: for each stream, its consecutive appends in one
        script call (at most `_MAX_BATCH`), and each forget alone."""
        calls: list[tuple[list[bytes], list[_Item]]] = []
        open_call: dict[str, list[_Item]] = {}  # the call a stream's next append joins
        for item in batch:
            stream_id, _, data, _ = item
            items = open_call.get(stream_id)
            if data is None or items is None or len(items) >= _MAX_BATCH:
                items = [item]
                calls.append((self._keys(stream_id), items))
                if data is None:
                    open_call.pop(stream_id, None)
                else:
                    open_call[stream_id] = items
            else:
                items.append(item)
        return calls


def _settle(batch: list[_Item], failure: BaseException | None) -> None:
    """Tell the callers of `batch` how their writes went (unless they stopped waiting)."""
    for *_, done in batch:
        if done.done():
            continue
        if failure is None:
            done.set_result(None)
        elif isinstance(failure, Exception):
            done.set_exception(failure)
        else:  # cancelled (the loop is closing): so are they
            done.cancel()
