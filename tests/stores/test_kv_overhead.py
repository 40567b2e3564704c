"""A store's budgets bound the memory its entries really take (`ENTRY_OVERHEAD`): a flood of
tiny entries, the shape of one small state value per fresh caller, holds about its budget of
heap (memory store) or a small multiple of it (Redis), not the 7-30 times it did when only
keys and values were counted (bench/state_memory.py measures the same)."""

from __future__ import annotations

import gc
import hashlib
import tracemalloc

from _redis_server import RedisServer
from test_redis_stores import connect, new_prefix

from mcpkit.server.state.caller import MAX_STATE_BYTES, STATE_POOL
from mcpkit.stores.kv import ENTRY_OVERHEAD, Limit, MemoryKeyValueStore, entry_size
from mcpkit.stores.kv_slots import release_slot, slot_key, take_slot
from mcpkit.stores.redis import RedisKeyValueStore

BUDGET = 256 * 1024
FLOOD = 6_000  # callers: far more than the budget holds, counted either way
REDIS_FLOOD = 1_500  # (Redis is slower: fewer, still more than the budget holds)
VALUE = b'["milk"]'


def caller_key(i: int) -> tuple[str, str]:
    """The prefix and key of caller `i`'s one value, as `ctx.set_state("notes", ...)` names it."""
    prefix = f"state:{hashlib.sha256(str(i).encode()).hexdigest()}:"
    return prefix, prefix + "notes"


def heap() -> int:
    gc.collect()
    return tracemalloc.get_traced_memory()[0]


def test_every_entry_counts_its_overhead() -> None:
    assert entry_size("", b"") == ENTRY_OVERHEAD
    assert entry_size("\u00e9", b"xy") == ENTRY_OVERHEAD + 4  # (the key in UTF-8)


async def test_slots_still_count_entries_whatever_their_names() -> None:
    # `take_slot` bounds a count by bytes (`count * entry_size(key, b"")`): that holds only
    # while every slot key under a prefix is one size, names long, short or not ASCII.
    kv = MemoryKeyValueStore()
    names = ["a", "\u00e9t\u00e9" * 50, "x" * 1000, ""]
    assert len({entry_size(slot_key("n:", name), b"") for name in names}) == 1
    assert [await take_slot(kv, "n:", name, 3, 60) for name in names] == [True] * 3 + [False]
    await release_slot(kv, "n:", names[0])
    assert await take_slot(kv, "n:", names[3], 3, 60)


async def test_a_flood_of_tiny_state_holds_about_its_budget_of_heap() -> None:
    kv = MemoryKeyValueStore(max_pool_bytes=BUDGET)
    tracemalloc.start()
    try:
        before = heap()
        for i in range(FLOOD):
            prefix, key = caller_key(i)
            limit = Limit(prefix, MAX_STATE_BYTES, pool=STATE_POOL)
            assert await kv.set(key, VALUE, 86_400, limit=limit)
        grown = heap() - before
    finally:
        tracemalloc.stop()
    kept = len(kv)
    assert kept == BUDGET // entry_size(caller_key(0)[1], VALUE)  # the oldest went
    assert grown < 2 * BUDGET  # (~1.2 times; counting keys and values alone, ~11 times)


async def test_a_flood_of_tiny_plain_entries_holds_about_its_budget_of_heap() -> None:
    kv = MemoryKeyValueStore(max_bytes=BUDGET)
    tracemalloc.start()
    try:
        before = heap()
        for i in range(FLOOD):
            await kv.set(caller_key(i)[1], VALUE, 86_400 + i)
        grown = heap() - before
    finally:
        tracemalloc.stop()
    assert len(kv) == BUDGET // entry_size(caller_key(0)[1], VALUE)
    assert grown < 2 * BUDGET  # (~0.6 times; counting keys and values alone, ~4 times)


async def test_a_flood_of_tiny_state_holds_a_small_multiple_of_its_budget_in_redis(
    redis_server: RedisServer,
) -> None:
    client = connect(redis_server)
    prefix = new_prefix()
    try:
        kv = RedisKeyValueStore(client, prefix=prefix, max_pool_bytes=BUDGET)
        # (Its scripts loaded once before measuring: not what each caller costs.)
        assert await kv.set("warm:1", VALUE, 60, limit=Limit("warm:", 1 << 20, pool="warm"))
        await kv.delete("warm:1")
        before = int((await client.info("memory"))["used_memory"])
        for i in range(REDIS_FLOOD):
            stem, key = caller_key(i)
            limit = Limit(stem, MAX_STATE_BYTES, pool=STATE_POOL)
            assert await kv.set(key, VALUE, 86_400, limit=limit)
        grown = int((await client.info("memory"))["used_memory"]) - before
        # Redis keeps ~2.9 KB per such caller (keys, sizes hashes, the pool's order), ~5
        # times what is counted: ~7 times the budget here; counting keys and values alone,
        # every caller was kept, ~19 times.
        assert grown < 10 * BUDGET
    finally:
        keys = [k async for k in client.scan_iter(match=prefix + "*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()
