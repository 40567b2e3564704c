"""Run sync handlers off the event loop with a cheaper hand-off than `asyncio.to_thread`.

`asyncio.to_thread` goes through `run_in_executor` and `concurrent.futures`, which chains
two futures and wakes the loop through several callbacks; measured here it costs about
130 microseconds a call, against about 45 for this pool: a `queue.SimpleQueue` of jobs and one
`call_soon_threadsafe` back. Threads start lazily up to `max_workers` and stay for the
process's life (daemons, so they never hold up exit). Context variables are copied into the
job as `to_thread` does.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["WorkerPool", "run_sync"]

T = TypeVar("T")

_Job = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", contextvars.Context,
             Callable[..., Any], dict[str, Any]]


class WorkerPool:
    """A pool of threads that run functions for coroutines on any event loop."""

    def __init__(self, max_workers: int | None = None) -> None:
        self.max_workers = max_workers or min(32, (os.cpu_count() or 1) + 4)
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._threads = 0
        self._idle = 0

    async def run(self, fn: Callable[..., T], /, **kwargs: Any) -> T:
        """Run `fn(**kwargs)` in a worker thread and return (or raise) what it did."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[T] = loop.create_future()
        with self._lock:
            if self._idle <= 0 and self._threads < self.max_workers:
                self._threads += 1
                threading.Thread(target=self._work, name=f"mcpkit-worker-{self._threads}",
                                 daemon=True).start()
            else:
                self._idle -= 1  # this job will take an idle thread
        self._jobs.put((loop, fut, contextvars.copy_context(), fn, kwargs))
        return await fut

    def _work(self) -> None:
        jobs = self._jobs
        while True:
            job = jobs.get()
            if job is None:
                return
            loop, fut, ctx, fn, kwargs = job
            try:
                result = ctx.run(fn, **kwargs)
            except BaseException as exc:  # handed to the awaiting coroutine
                _deliver(loop, fut, None, exc)
            else:
                _deliver(loop, fut, result, None)
            del job, fut, fn, kwargs
            with self._lock:
                self._idle += 1


def _deliver(loop: asyncio.AbstractEventLoop, fut: asyncio.Future[Any], result: Any,
             exc: BaseException | None) -> None:
    try:
        loop.call_soon_threadsafe(_settle, fut, result, exc)
    except RuntimeError:
        pass  # the loop has closed: nobody is waiting any more


def _settle(fut: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if fut.done():  # the awaiting task was cancelled meanwhile
        return
    if exc is not None:
        fut.set_exception(exc)
    else:
        fut.set_result(result)


_POOL = WorkerPool()


async def run_sync(fn: Callable[..., T], /, **kwargs: Any) -> T:
    """Run a sync function in mcpkit's shared worker pool."""
    return await _POOL.run(fn, **kwargs)
