"""`ReplayCache` (`mcpkit.stores.replay`): a value is accepted once within its lifetime, by
whichever of the processes sharing a store it reaches, and again once its lifetime is over;
the in-process cache stays within its bound under a flood."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from pathlib import Path

import pytest
from _redis_server import RedisServer
from redis.asyncio import Redis

from mcpkit.stores.redis import RedisReplayCache
from mcpkit.stores.replay import MemoryReplayCache, ReplayCache
from mcpkit.stores.sqlite import SqliteDatabase, SqliteReplayCache

Pair = tuple[ReplayCache, ReplayCache]
#: Seconds a short-lived key lives: past it, the same value is new again.
SHORT = 0.2


@asynccontextmanager
async def memory_pair(_: Path, __: RedisServer) -> AsyncIterator[Pair]:
    cache = MemoryReplayCache()
    yield cache, cache  # one process: both "workers" are the same cache


@asynccontextmanager
async def sqlite_pair(tmp_path: Path, _: RedisServer) -> AsyncIterator[Pair]:
    first, second = SqliteDatabase(tmp_path / "s.db"), SqliteDatabase(tmp_path / "s.db")
    try:
        yield SqliteReplayCache(first), SqliteReplayCache(second)
    finally:
        await first.aclose()
        await second.aclose()


@asynccontextmanager
async def redis_pair(_: Path, server: RedisServer) -> AsyncIterator[Pair]:
    prefix = f"test-{secrets.token_hex(6)}:"
    async with AsyncExitStack() as stack:
        clients = [Redis.from_url(server.url) for _ in range(2)]
        for client in clients:
            stack.push_async_callback(client.aclose)
        yield (
            RedisReplayCache(clients[0], prefix=prefix),
            RedisReplayCache(clients[1], prefix=prefix),
        )


Opener = Callable[[Path, RedisServer], AbstractAsyncContextManager[Pair]]
PAIRS: dict[str, Opener] = {"memory": memory_pair, "sqlite": sqlite_pair, "redis": redis_pair}


@pytest.fixture(params=sorted(PAIRS))
def opener(request: pytest.FixtureRequest) -> Opener:
    return PAIRS[request.param]


async def test_a_value_is_accepted_once_by_either_process(
    opener: Opener, tmp_path: Path, redis_server: RedisServer
) -> None:
    async with opener(tmp_path, redis_server) as (one, other):
        assert await one.first_use("dpop:jkt:a", 60)
        assert not await other.first_use("dpop:jkt:a", 60)
        assert not await one.first_use("dpop:jkt:a", 60)
        assert await other.first_use("dpop:jkt:b", 60)


async def test_of_many_offering_one_value_at_once_one_wins(
    opener: Opener, tmp_path: Path, redis_server: RedisServer
) -> None:
    async with opener(tmp_path, redis_server) as (one, other):
        offers = [(one if i % 2 else other).first_use("state:x", 60) for i in range(20)]
        assert sorted(await asyncio.gather(*offers)) == [False] * 19 + [True]


async def test_a_value_is_new_again_once_its_lifetime_is_over(
    opener: Opener, tmp_path: Path, redis_server: RedisServer
) -> None:
    async with opener(tmp_path, redis_server) as (one, other):
        assert await one.first_use("k", SHORT)
        assert not await other.first_use("k", SHORT)
        await asyncio.sleep(SHORT * 2)  # the lifetime asked for, passed: not a settling wait
        assert await other.first_use("k", SHORT)


async def test_the_memory_cache_keeps_its_bound_under_a_flood() -> None:
    cache = MemoryReplayCache(max_keys=100)
    for i in range(1000):
        assert await cache.first_use(f"k{i}", 60)
    assert len(cache) == 100
    # The newest are kept: a replay of what just arrived is still refused.
    assert not await cache.first_use("k999", 60)


def test_the_memory_cache_needs_room_for_one_key() -> None:
    with pytest.raises(ValueError, match="max_keys must be at least 1"):
        MemoryReplayCache(max_keys=0)
