"""Fire-and-forget tasks that are kept alive until they finish (asyncio holds only weak
references to tasks, so an unreferenced one may be collected mid-way), and whose failure is
logged once, when it happens; closing many things at once (`close_all`); waiting for a task,
or ending it, within a bound that the caller's cancellation does not cut short (`outlast`,
`end_within`); and requests whose caller may give up on them while their answer still
matters (`start_alone`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from typing import Any, Final, TypeVar

__all__ = [
    "BackgroundTasks",
    "answer_after_all",
    "close_all",
    "end_within",
    "log_failure",
    "outlast",
    "start_alone",
    "task_on",
]

T = TypeVar("T")

logger = logging.getLogger("mcpkit.runtime")

#: The task running on a loop (`asyncio.current_task`), for callers that have the loop at hand.
task_on: Final[Callable[[asyncio.AbstractEventLoop], asyncio.Task[Any] | None]] = (
    asyncio.current_task
)


def log_failure(task: asyncio.Task[Any]) -> None:
    """A done callback: log the exception `task` ended with, if any, with its traceback.
    Retrieving it here is what keeps asyncio from saying "Task exception was never
    retrieved" later, when the task is collected, far from the cause and maybe never (a
    task kept referenced)."""
    if not task.cancelled() and (exc := task.exception()) is not None:
        logger.error("the task %s failed", task.get_name(), exc_info=exc)


async def close_all(closes: Iterable[Awaitable[object]]) -> None:
    """Await every close in `closes` at once, each to its end: one that fails stops none of
    the others, and the first error is raised once all ended. Cancelled, it cancels them all
    and still waits for each, so a process one of them kills is reaped, not left to the
    collector.

    Each close is a task that has had its first step before it can be cancelled: the
    cancellation reaches this coroutine after the steps the tasks were scheduled for. A task
    cancelled before its first step never runs, and a close that never ran leaves its
    process running (`asyncio.gather`, cancelled in the loop turn it started its tasks,
    cancels them at once)."""
    tasks = [asyncio.ensure_future(close) for close in closes]
    if not tasks:
        return
    try:
        await asyncio.wait(tasks)
    except asyncio.CancelledError:
        for task in tasks:
            task.cancel()  # (nothing for those that ended)
        while not all(task.done() for task in tasks):
            with contextlib.suppress(asyncio.CancelledError):  # (cancelled again: still each)
                await asyncio.wait(tasks)
        for task in tasks:  # read: the caller's cancellation is what is raised
            if not task.cancelled():
                task.exception()
        raise
    for task in tasks:  # each read, so that asyncio reports none as never retrieved
        task.exception()
    for task in tasks:
        if (exc := task.exception()) is not None:
            raise exc


def start_alone(request: Awaitable[T]) -> asyncio.Future[T]:
    """Run `request` in a task of its own, for a caller that awaits it through
    `asyncio.shield`: cancelled, the caller may still need its answer (a task-augmented
    request's answer names the task to cancel) and takes it with `answer_after_all`. Its
    failure is read once here: by the caller through the shield, else by nobody (a caller
    gone), which asyncio would report when the task is collected."""
    started = asyncio.ensure_future(request)
    started.add_done_callback(_retrieved)
    return started


def _retrieved(started: asyncio.Future[Any]) -> None:
    if not started.cancelled():
        started.exception()


async def outlast(future: asyncio.Future[Any], wait: float) -> None:
    """Wait at most `wait` seconds for `future` to end. A caller cancelled meanwhile still
    waits, as long again at most, then sees its cancellation raised: a close under way in
    another task (a process being reaped) is waited for by whoever closes everything, even
    when that is cancelled."""
    try:
        await asyncio.wait((future,), timeout=wait)
    except asyncio.CancelledError:
        await asyncio.wait((future,), timeout=wait)
        raise


async def end_within(task: asyncio.Future[Any], wait: float) -> None:
    """Cancel `task` (unless it ended) and wait at most `wait` seconds for it to end. A caller
    cancelled meanwhile (its timeout, its task group) still waits, as long again at most,
    then sees its cancellation raised: a task whose cleanup reaps a process or stops a reader
    gets to run it, and the caller's cancellation is neither lost nor waited on for good.

    Waited with `asyncio.wait`, which tells the task's end from the caller's cancellation
    (an `await task` raises both alike); the task's own failure is the owner's to read."""
    if task.done():
        return
    task.cancel()
    await outlast(task, wait)


async def answer_after_all(started: asyncio.Future[T], wait: float) -> T | None:
    """The answer of a request from `start_alone` that its caller gave up on: read already
    or within `wait` seconds. Past that the request itself is ended (a connection's request
    then sends notifications/cancelled) and None is returned, as for a request that failed.
    Cancelled again meanwhile, the request is ended too and the cancellation raised."""
    try:
        if not started.done():
            await asyncio.wait((started,), timeout=wait)
    finally:  # (also when the caller is cancelled again meanwhile)
        await end_within(started, wait)
    if not started.done() or started.cancelled() or started.exception() is not None:
        return None
    return started.result()


class BackgroundTasks:
    """Tasks started with `spawn`, referenced until done; `cancel_all` ends the rest.

    A coroutine spawned here handles its own errors; one that escapes is logged
    (`log_failure`), never left for asyncio to find.
    """

    __slots__ = ("_tasks",)

    def __init__(self) -> None:
        # Held only while tasks run: every idle connection has one of these.
        self._tasks: set[asyncio.Task[Any]] | None = None

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run `coro` in a task of its own, kept referenced until it ends."""
        task = asyncio.get_running_loop().create_task(coro)
        if self._tasks is None:
            self._tasks = set()
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        log_failure(task)
        # The set goes with the last task: an idle connection holds none.
        if self._tasks is not None:
            self._tasks.discard(task)
            if not self._tasks:
                self._tasks = None

    def cancel_all(self) -> None:
        """Cancel every task still running (each is dropped as it ends)."""
        for task in list(self._tasks or ()):
            task.cancel()

    def __len__(self) -> int:
        """How many tasks are still running."""
        return len(self._tasks or ())
