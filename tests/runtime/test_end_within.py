"""`end_within` and `answer_after_all`: a task is ended within a bound, and the caller's
cancellation neither cuts its cleanup short nor is lost."""

from __future__ import annotations

import asyncio

import pytest

from mcpkit.runtime.background import answer_after_all, end_within, start_alone

WAIT = 5.0  # seconds: a bound on hangs, never a measurement


async def _cleans_up(log: list[str], started: asyncio.Event, takes: float = 0.01) -> None:
    started.set()
    try:
        await asyncio.sleep(WAIT)
    except asyncio.CancelledError:
        await asyncio.sleep(takes)  # a cleanup that takes loop turns (a process reaped)
        log.append("cleaned")
        raise


async def test_the_cleanup_runs_to_its_end_before_the_caller_sees_its_cancellation() -> None:
    log: list[str] = []
    started = asyncio.Event()
    task = asyncio.ensure_future(_cleans_up(log, started))
    await started.wait()

    ender = asyncio.ensure_future(end_within(task, WAIT))
    await asyncio.sleep(0)  # the ender has cancelled the task and waits for it
    ender.cancel()
    with pytest.raises(asyncio.CancelledError):
        await ender
    assert log == ["cleaned"]
    assert task.cancelled()


async def test_a_task_that_will_not_end_holds_its_caller_only_for_the_bound() -> None:
    release = asyncio.Event()

    async def stubborn() -> None:
        while not release.is_set():
            try:
                await release.wait()
            except asyncio.CancelledError:
                continue  # refuses to end
        return

    task = asyncio.ensure_future(stubborn())
    await asyncio.sleep(0)
    try:
        async with asyncio.timeout(WAIT):
            await end_within(task, 0.05)
        assert not task.done()
    finally:
        release.set()
        await asyncio.wait((task,), timeout=WAIT)
    assert task.done()


async def test_a_task_already_ended_is_left_as_it_is() -> None:
    async def answer() -> int:
        return 7

    task = asyncio.ensure_future(answer())
    await asyncio.wait((task,))
    await end_within(task, WAIT)
    assert task.result() == 7


async def test_an_answer_that_comes_within_the_wait_is_returned() -> None:
    arrived = asyncio.Event()

    async def request() -> str:
        await arrived.wait()
        return "task-1"

    started = start_alone(request())
    asyncio.get_running_loop().call_later(0.01, arrived.set)
    assert await answer_after_all(started, WAIT) == "task-1"


async def test_no_answer_within_the_wait_ends_the_request_and_gives_none() -> None:
    log: list[str] = []
    began = asyncio.Event()
    # A cleanup of one loop turn, so the bound (the same short wait) cannot cut it short.
    started = start_alone(_cleans_up(log, began, takes=0))
    await began.wait()
    async with asyncio.timeout(WAIT):
        assert await answer_after_all(started, 0.01) is None
    assert log == ["cleaned"]  # ended, its cleanup run, before the caller goes on


async def test_cancelled_again_the_request_is_ended_and_the_cancellation_raised() -> None:
    log: list[str] = []
    began = asyncio.Event()
    started = start_alone(_cleans_up(log, began))
    await began.wait()
    waiter = asyncio.ensure_future(answer_after_all(started, WAIT))
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(WAIT):
            await waiter
    assert log == ["cleaned"]
    assert started.cancelled()
