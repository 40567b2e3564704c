"""The worker pool that runs sync handlers off the event loop, on asyncio and on uvloop."""

from __future__ import annotations

import asyncio
import contextvars
import gc
import threading
import weakref
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from mcpkit.runtime.workers import WorkerPool, call_handler

var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")

BOUND = 10.0  # seconds: a bound on hangs, never a performance assertion


def _uvloop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    import uvloop  # installed with mcpkit[dev]: a missing one fails, never skips

    return uvloop.new_event_loop  # type: ignore[no-any-return]


@pytest.fixture(params=["asyncio", "uvloop"])
def on_loop(request: pytest.FixtureRequest) -> Callable[[Coroutine[Any, Any, Any]], Any]:
    """Run a coroutine to completion on a fresh loop of the kind named by the parameter."""
    factory = asyncio.new_event_loop if request.param == "asyncio" else _uvloop_factory()

    def run(coro: Coroutine[Any, Any, Any]) -> Any:
        async def bounded() -> Any:
            async with asyncio.timeout(BOUND * 2):
                return await coro

        with asyncio.Runner(loop_factory=factory) as runner:
            return runner.run(bounded())

    return run


class Stop(BaseException):
    """Not an Exception: must reach the waiter all the same."""


def test_results_errors_and_context(on_loop: Callable[..., Any]) -> None:
    pool = WorkerPool(max_workers=2)

    async def main() -> None:
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

        def stop() -> None:
            raise Stop

        with pytest.raises(Stop):
            await pool.run(stop)

        def set_var() -> None:
            var.set("inside")  # runs in a copy: the caller's context is untouched

        await pool.run(set_var)
        assert var.get() == "copied"

    on_loop(main())


def test_many_concurrent_jobs_all_finish_within_the_pool_size(on_loop: Callable[..., Any]) -> None:
    pool = WorkerPool(max_workers=3)
    seen: set[int] = set()

    def record(i: int) -> int:
        seen.add(threading.get_ident())
        return i * i

    async def main() -> list[int]:
        return await asyncio.gather(*[pool.run(record, i) for i in range(2000)])

    assert on_loop(main()) == [i * i for i in range(2000)]
    assert pool.threads <= 3 and len(seen) <= 3


def test_jobs_beyond_the_pool_size_wait_for_a_thread(on_loop: Callable[..., Any]) -> None:
    pool = WorkerPool(max_workers=2)
    gate, two_started = threading.Event(), threading.Barrier(2, timeout=BOUND)

    def wait_for_gate(i: int) -> int:
        if i < 2:
            two_started.wait()  # both threads are busy, with four jobs still queued
        assert gate.wait(BOUND)
        return i

    async def main() -> list[int]:
        jobs = [asyncio.ensure_future(pool.run(wait_for_gate, i)) for i in range(6)]
        while pool.threads < 2:
            await asyncio.sleep(0)
        gate.set()
        return await asyncio.gather(*jobs)

    assert on_loop(main()) == list(range(6))
    assert pool.threads == 2


async def test_busy_while_a_job_waits_for_a_thread_or_runs() -> None:
    pool = WorkerPool(max_workers=1)
    gate, started = threading.Event(), threading.Event()

    def blocker() -> None:
        started.set()
        assert gate.wait(BOUND)

    assert not pool.busy
    first = asyncio.ensure_future(pool.run(blocker))
    second = asyncio.ensure_future(pool.run(int))
    await asyncio.sleep(0)
    assert pool.busy
    assert await asyncio.to_thread(started.wait, BOUND)
    gate.set()
    await first
    assert await second == 0


def test_threads_start_lazily() -> None:
    pool = WorkerPool(max_workers=4)
    assert pool.threads == 0

    async def main() -> None:
        for _ in range(20):
            await pool.run(int)

    asyncio.run(main())
    assert pool.threads == 1  # one call at a time never needs a second thread


def test_a_job_cancelled_before_it_starts_is_skipped(on_loop: Callable[..., Any]) -> None:
    pool = WorkerPool(max_workers=1)
    gate, started, ran = threading.Event(), threading.Event(), threading.Event()

    def blocker() -> None:
        started.set()
        assert gate.wait(BOUND)

    async def main() -> str:
        first = asyncio.ensure_future(pool.run(blocker))
        second = asyncio.ensure_future(pool.run(ran.set))
        await asyncio.sleep(0)  # both jobs are queued
        assert await asyncio.to_thread(started.wait, BOUND)
        second.cancel()
        with pytest.raises(asyncio.CancelledError):
            await second
        gate.set()
        await first
        return await pool.run(lambda: "next")

    assert on_loop(main()) == "next"
    assert not ran.is_set()


def test_a_job_outlives_its_cancelled_waiter(on_loop: Callable[..., Any]) -> None:
    pool = WorkerPool(max_workers=1)
    gate, started, finished = threading.Event(), threading.Event(), threading.Event()

    class Result:
        pass

    results: list[weakref.ref[Result]] = []

    def slow() -> Result:
        started.set()
        assert gate.wait(BOUND)
        result = Result()
        results.append(weakref.ref(result))
        finished.set()
        return result

    async def main() -> str:
        waiter = asyncio.ensure_future(pool.run(slow))
        assert await asyncio.to_thread(started.wait, BOUND)
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        gate.set()
        return await pool.run(lambda: "next")  # the one thread is free again

    assert on_loop(main()) == "next"
    assert finished.is_set()
    gc.collect()
    assert results[0]() is None  # the dropped outcome is not kept anywhere


def test_the_loop_keeps_running_while_sync_jobs_run(on_loop: Callable[..., Any]) -> None:
    pool = WorkerPool(max_workers=4)
    started = threading.Barrier(4, timeout=BOUND)
    ticked = threading.Event()

    def slow() -> bool:
        started.wait()  # all four threads are busy
        return ticked.wait(BOUND)  # only the loop's heartbeat lets them finish

    async def main() -> tuple[list[bool], int]:
        jobs = asyncio.gather(*[pool.run(slow) for _ in range(4)])
        beats = 0
        while pool.threads < 4 or beats < 100:
            await asyncio.sleep(0)
            beats += 1
        ticked.set()
        return await jobs, beats

    done, beats = on_loop(main())
    assert done == [True] * 4 and beats >= 100


def test_a_cancellation_storm_leaves_nothing_behind(on_loop: Callable[..., Any]) -> None:
    pool = WorkerPool(max_workers=2)
    gate = threading.Event()

    async def main() -> None:
        waiters = [asyncio.ensure_future(pool.run(gate.wait, BOUND)) for _ in range(1000)]
        await asyncio.sleep(0)
        for waiter in waiters:
            waiter.cancel()
        gate.set()
        await asyncio.gather(*waiters, return_exceptions=True)
        assert await pool.run(lambda: "next") == "next"

    on_loop(main())
    assert pool.threads == 2


def test_one_pool_serves_loops_in_several_threads() -> None:
    pool = WorkerPool(max_workers=2)
    results: dict[int, list[int]] = {}

    def loop_thread(n: int) -> None:
        async def main() -> list[int]:
            return await asyncio.gather(*[pool.run(lambda i=i: i + n) for i in range(200)])

        results[n] = asyncio.run(main())

    threads = [threading.Thread(target=loop_thread, args=(n,)) for n in (1000, 2000)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(BOUND)
    assert results == {n: [i + n for i in range(200)] for n in (1000, 2000)}


def test_a_job_finishing_after_its_loop_closed_does_not_break_the_pool() -> None:
    pool = WorkerPool(max_workers=1)
    gate, started = threading.Event(), threading.Event()

    def slow() -> None:
        started.set()
        assert gate.wait(BOUND)

    loop = asyncio.new_event_loop()
    orphan = loop.create_task(pool.run(slow))  # never cancelled: its loop just closes
    loop.run_until_complete(asyncio.sleep(0))
    assert started.wait(BOUND)
    loop.close()
    gate.set()
    assert asyncio.run(pool.run(lambda: "next")) == "next"
    # Pending on purpose, with its loop gone: asyncio would print "Task was destroyed but it
    # is pending" into whichever test's output the collector happens to run in.
    orphan._log_destroy_pending = False  # type: ignore[attr-defined]
    del orphan


async def test_call_handler_runs_sync_in_a_thread_and_awaits_what_it_returns() -> None:
    loop_thread = threading.get_ident()

    async def later() -> int:
        return threading.get_ident()

    def sync() -> Coroutine[Any, Any, int]:
        assert threading.get_ident() != loop_thread
        return later()

    assert await call_handler(sync) == loop_thread
    assert await call_handler(later) == loop_thread
    assert await call_handler(threading.get_ident, in_thread=False) == loop_thread
