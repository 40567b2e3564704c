"""The worker pool that runs sync handlers off the event loop."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest

from mcpkit.runtime.workers import WorkerPool

var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")


async def test_results_errors_context_and_threads() -> None:
    pool = WorkerPool(max_workers=2)
    loop_thread = threading.get_ident()

    def where(x: int) -> tuple[int, int, str]:
        return x * 2, threading.get_ident(), var.get()

    var.set("copied")
    doubled, thread, seen = await pool.run(where, x=21)
    assert doubled == 42 and thread != loop_thread and seen == "copied"

    def boom() -> None:
        raise ValueError("from the worker")

    with pytest.raises(ValueError, match="from the worker"):
        await pool.run(boom)


async def test_concurrent_jobs_beyond_the_pool_size_all_finish() -> None:
    pool = WorkerPool(max_workers=2)
    gate = threading.Event()

    def wait_for_gate(i: int) -> int:
        assert gate.wait(5)
        return i

    jobs = [asyncio.ensure_future(pool.run(wait_for_gate, i=i)) for i in range(6)]
    await asyncio.sleep(0.05)
    assert pool._threads == 2  # never more threads than allowed
    gate.set()
    assert await asyncio.wait_for(asyncio.gather(*jobs), 5) == list(range(6))


async def test_a_cancelled_waiter_does_not_break_the_pool() -> None:
    pool = WorkerPool(max_workers=1)
    gate = threading.Event()
    job = asyncio.ensure_future(pool.run(lambda: gate.wait(5)))
    await asyncio.sleep(0.01)
    job.cancel()
    gate.set()
    with pytest.raises(asyncio.CancelledError):
        await job
    assert await asyncio.wait_for(pool.run(lambda: "next"), 5) == "next"
