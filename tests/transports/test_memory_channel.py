"""The in-memory pair holds back a sender whose peer does not receive, as a pipe does."""

from __future__ import annotations

import asyncio

import pytest

from mcpkit.errors import ConnectionClosed
from mcpkit.transports.memory import memory_channel_pair


async def turns(n: int = 5) -> None:
    for _ in range(n):
        await asyncio.sleep(0)


async def test_send_waits_past_the_bound_and_resumes_at_low_water() -> None:
    a, b = memory_channel_pair(max_buffered=100)
    await a.send(b"x" * 60)  # under the bound: returns at once
    second = asyncio.get_running_loop().create_task(a.send(b"y" * 60))  # crosses it
    await turns()
    assert not second.done()
    assert await b.receive() == b"x" * 60  # 60 bytes left: above low water (25)
    await turns()
    assert not second.done()
    assert await b.receive() == b"y" * 60  # none left: room again
    await asyncio.wait_for(second, 5)


async def test_a_blocked_sender_learns_the_pair_closed() -> None:
    a, b = memory_channel_pair(max_buffered=10)
    sending = asyncio.get_running_loop().create_task(a.send(b"x" * 50))
    await turns()
    assert not sending.done()
    b.close()
    with pytest.raises(ConnectionClosed):
        await asyncio.wait_for(sending, 5)


async def test_one_receiver_at_a_time() -> None:
    a, _ = memory_channel_pair()
    first = asyncio.get_running_loop().create_task(a.receive())
    await turns()
    with pytest.raises(RuntimeError, match="already waiting"):
        await a.receive()
    a.close()
    with pytest.raises(ConnectionClosed):
        await asyncio.wait_for(first, 5)


def test_the_bound_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_buffered"):
        memory_channel_pair(max_buffered=0)
