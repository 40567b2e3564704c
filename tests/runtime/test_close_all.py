"""`close_all`: every close runs to its end, whatever the others or the caller do."""

from __future__ import annotations

import asyncio

import pytest

from mcpkit.runtime.background import close_all

WAIT = 5.0  # seconds: a bound on hangs, never a measurement


async def test_each_close_runs_when_cancelled_in_the_turn_it_started_them() -> None:
    # The cancellation is queued right behind the closer's first step, so it lands before
    # the steps of the tasks that step makes: `asyncio.gather` cancelled them unstarted, and
    # a close that never ran left its process (a proxy's stdio upstream) running.
    ran: list[str] = []

    async def close(name: str) -> None:
        try:
            await asyncio.sleep(WAIT)
        finally:
            ran.append(name)

    closer = asyncio.ensure_future(close_all([close("a"), close("b")]))
    asyncio.get_running_loop().call_soon(closer.cancel)
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(WAIT):
            await closer
    assert sorted(ran) == ["a", "b"]


async def test_the_first_error_is_raised_once_every_close_ended() -> None:
    ended: list[str] = []

    async def fails(name: str) -> None:
        ended.append(name)
        raise RuntimeError(name)

    async def slow() -> None:
        await asyncio.sleep(0.01)
        ended.append("slow")

    with pytest.raises(RuntimeError, match="first"):
        await close_all([fails("first"), slow(), fails("second")])
    assert sorted(ended) == ["first", "second", "slow"]


async def test_a_caller_cancelled_again_still_waits_for_each_close() -> None:
    ended = asyncio.Event()
    started = asyncio.Event()

    async def close() -> None:
        started.set()
        try:
            await asyncio.sleep(WAIT)
        finally:
            await asyncio.sleep(0.01)  # cleanup that takes a while (reaping a process)
            ended.set()

    closer = asyncio.ensure_future(close_all([close()]))
    await started.wait()
    closer.cancel()
    await asyncio.sleep(0)
    closer.cancel()
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(WAIT):
            await closer
    assert ended.is_set()
