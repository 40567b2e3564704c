"""A Redis that takes connections and never answers: the broker's start waits `timeout` for
its subscriptions in all, not once per subscription (a server's first session waited three
times the bound)."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from mcpkit.stores.redis import RedisBroker

WAIT = 2.0  # what start() is given
BOUND = 5.0  # more than one WAIT and less than three: a bound on the outcome, not a measure


async def test_start_gives_up_after_its_timeout_for_all_subscriptions_together() -> None:
    held: list[asyncio.StreamWriter] = []

    async def silent(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)  # read nothing, answer nothing

    listener = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    client = Redis(host="127.0.0.1", port=port, socket_timeout=0.5)
    broker = RedisBroker(client, channel="silent:changes")
    try:
        async with asyncio.timeout(BOUND):
            assert await broker.start(timeout=WAIT) is False
    finally:
        async with asyncio.timeout(BOUND):
            await broker.aclose()
            await client.aclose()
        for writer in held:
            writer.close()
        listener.close()
        await listener.wait_closed()
