"""Run sync handlers in worker threads, handing results back to the loop without blocking it.

`asyncio.to_thread` goes through `run_in_executor` and `concurrent.futures`: two chained
futures, a lock and a condition per job, and one loop wake-up per job. This pool uses only
public APIs and never waits on the loop: a job goes to a thread through a `queue.SimpleQueue`;
the thread puts the finished job in its loop's inbox, a deque, and only the first job of a
burst schedules the inbox's drain with `call_soon_threadsafe`, so jobs that finish together
share one wake-up of the loop. Threads start lazily up to `max_workers` and stay for the
process's life (daemons, so they never hold up exit). Context variables are copied into the
job as `to_thread` does. `bench/workers.py` measures the hand-off; docs/performance.md has
the figures.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import os
import queue
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar, cast

__all__ = ["WorkerPool", "call_handler", "default_pool", "is_async_callable", "run_sync"]

T = TypeVar("T")


class _Inbox:
    """Jobs finished for one event loop, handed back with one wake-up per burst."""

    __slots__ = ("armed", "done", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.done: deque[_Job] = deque()  # append and popleft are thread-safe
        self.armed = False  # a drain is scheduled on the loop and has not started yet

    def put(self, job: _Job) -> None:
        """Called in a worker thread: queue the job, waking the loop only if no drain is due."""
        self.done.append(job)
        if self.armed:
            return  # the scheduled drain has not reset `armed` yet, so it will see this job
        self.armed = True  # two threads may both get here: an extra drain finds nothing
        try:
            self.loop.call_soon_threadsafe(self.drain)
        except RuntimeError:
            pass  # the loop has closed: nobody is waiting any more

    def drain(self) -> None:
        """Called on the loop: settle the futures of every job finished so far."""
        self.armed = False  # first, so a job queued from here on schedules another drain
        done = self.done
        while done:
            fut = done.popleft().fut
            if not fut.done():  # else its waiter was cancelled meanwhile
                fut.set_result(None)


class _Job:
    """One call handed to a worker thread: run there, its outcome read back on the loop."""

    __slots__ = ("abandoned", "args", "ctx", "exc", "fn", "fut", "inbox", "kwargs", "result")

    def __init__(
        self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any], inbox: _Inbox
    ) -> None:
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.ctx = contextvars.copy_context()
        self.inbox = inbox
        self.fut: asyncio.Future[None] = inbox.loop.create_future()
        self.abandoned = False  # the waiter was cancelled: skip the job if it has not started
        self.result: Any = None
        self.exc: BaseException | None = None

    def run(self) -> None:
        """In the worker thread: call the function in the copied context, keeping what it
        returned or raised."""
        try:
            self.result = self.ctx.run(self.fn, *self.args, **self.kwargs)
        except BaseException as exc:  # handed to the awaiting coroutine, whatever it is
            self.exc = exc

    def outcome(self) -> Any:
        """On the loop: what the function returned, or raise what it raised."""
        if self.exc is not None:
            raise self.exc
        return self.result


class WorkerPool:
    """A pool of threads that run functions for coroutines on any event loop.

    The loop never waits for a thread: it queues the job and awaits a future that the
    loop's inbox settles. Jobs that finish while a drain is already scheduled add no wake-up
    of their own, which is what makes many concurrent calls cheap on asyncio and uvloop alike.
    """

    def __init__(self, max_workers: int | None = None) -> None:
        self.max_workers = max_workers or min(32, (os.cpu_count() or 1) + 4)
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._lock = threading.Lock()  # guards the three counters below
        self._threads = 0
        self._idle = 0
        self._unfinished = 0
        self._local = threading.local()  # each thread runs one loop at a time: its inbox

    @property
    def busy(self) -> bool:
        """Whether a job is running or waiting for a thread."""
        return self._unfinished > 0

    @property
    def threads(self) -> int:
        """How many worker threads have started (they start lazily, one per busy job)."""
        return self._threads

    async def run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run `fn(*args, **kwargs)` in a worker thread and return (or raise) what it did.

        If the awaiting task is cancelled before a thread has started the job, the job is
        skipped; once started, it runs to completion and its outcome is dropped.
        """
        job = _Job(fn, args, kwargs, self._inbox())
        self._submit(job)
        try:
            await job.fut
        except asyncio.CancelledError:
            job.abandoned = True
            raise
        return cast(T, job.outcome())

    def _inbox(self) -> _Inbox:
        loop = asyncio.get_running_loop()
        inbox: _Inbox | None = getattr(self._local, "inbox", None)
        if inbox is None or inbox.loop is not loop:
            inbox = self._local.inbox = _Inbox(loop)
        return inbox

    def _submit(self, job: _Job) -> None:
        with self._lock:
            start = self._idle <= 0 and self._threads < self.max_workers
            if start:
                self._threads += 1
            elif self._idle > 0:
                self._idle -= 1  # this job will take an idle thread
            self._unfinished += 1
            number = self._threads
        self._jobs.put(job)
        # Started outside the lock: `Thread.start` waits for the thread to come up, and
        # other submitters must not wait for that.
        if start:
            threading.Thread(target=self._work, name=f"mcpkit-worker-{number}", daemon=True).start()

    def _work(self) -> None:
        jobs = self._jobs
        while True:
            job = jobs.get()
            if not job.abandoned:
                job.run()
            with self._lock:
                self._idle += 1  # before the waiter wakes, as its next job may come at once
            if not job.abandoned:
                job.inbox.put(job)
            with self._lock:
                self._unfinished -= 1  # only now: `busy` covers the hand-back to the loop
            del job  # hold no user objects while idle


_POOL = WorkerPool()


def default_pool() -> WorkerPool:
    """The pool `run_sync` uses."""
    return _POOL


async def run_sync(fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run a sync function in mcpkit's shared worker pool."""
    return await _POOL.run(fn, *args, **kwargs)


def is_async_callable(fn: Callable[..., Any]) -> bool:
    """Whether calling `fn` gives a coroutine: an `async def`, a partial of one, or an
    object whose `__call__` is one."""
    while isinstance(fn, functools.partial):
        fn = fn.func
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(type(fn).__call__)


async def call_handler(
    fn: Callable[..., Any],
    args: tuple[Any, ...] = (),
    kwargs: dict[str, Any] | None = None,
    *,
    is_async: bool | None = None,
    in_thread: bool = True,
) -> Any:
    """Call user code from the loop: an async function is awaited; a sync one runs in the
    worker pool (on the loop if `in_thread` is False), and an awaitable it returns is awaited.
    Pass `is_async` when it is known already (it is worked out once per handler)."""
    kwargs = kwargs or {}
    if is_async is None:
        is_async = is_async_callable(fn)
    if is_async:
        return await fn(*args, **kwargs)
    result = await run_sync(fn, *args, **kwargs) if in_thread else fn(*args, **kwargs)
    if inspect.isawaitable(result):
        return await result
    return result
