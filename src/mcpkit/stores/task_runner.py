"""The receiver's side of tasks (spec: basic/utilities/tasks): run task-augmented requests in
the background and answer `tasks/get`, `tasks/result`, `tasks/list` and `tasks/cancel`.

A server runs task-augmented `tools/call` with it; a client its task-augmented sampling and
elicitation. Task state lives in a `TaskStore`; what lives here is what cannot be stored: the
running work (an asyncio task), its end written to the store and announced, and the
`tasks/result` calls that wait for it. How one running task reaches its requestor meanwhile
("Input Required Status") is `stores.task_run.TaskRun`, re-exported here with `Peer` and
`with_related_task`.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Final, Literal, TypeVar, cast

import msgspec

from mcpkit.errors import McpError
from mcpkit.protocol import codes
from mcpkit.protocol.capabilities import RELATED_TASK
from mcpkit.runtime.background import answer_after_all, start_alone
from mcpkit.runtime.handler_failure import log_handler_failure
from mcpkit.runtime.task_augmented import CANCEL_WAIT, quietly
from mcpkit.stores.task_run import Notified, Peer, TaskRun, with_related_task
from mcpkit.stores.tasks import LeasedTaskStore, TaskOutcome, TaskStore, is_terminal
from mcpkit.types import (
    CancelTaskResult,
    CreateTaskResult,
    GetTaskResult,
    ListTasksResult,
    RequestId,
    Task,
)

__all__ = ["RELATED_TASK", "UNANSWERED", "Peer", "TaskRun", "TaskRunner", "with_related_task"]

logger = logging.getLogger("mcpkit.tasks")
_T = TypeVar("_T")

_STORE_WAIT = 30.0  # seconds per wait on a task that runs elsewhere (a shared store)


Work = Callable[[TaskRun], Awaitable[Any]]
Failed = Callable[[Any], str | None]
#: Told of each status change of a polled task (the server sends `notifications/tasks`).
PolledStatus = Callable[[TaskRun], Awaitable[None]]


class TaskRunner:
    """Runs task-augmented requests whose state lives in `store`, for any number of sessions.

    `failed(result)` says whether a successful result still means the task failed, with the
    status message to give (a tool result with `isError`: "Task Execution Errors").
    `on_polled_status(run)` is told of each status change of a polled task (`start`).
    """

    def __init__(
        self,
        store: TaskStore,
        *,
        failed: Failed | None = None,
        status_notifications: bool = True,
        on_polled_status: PolledStatus | None = None,
    ) -> None:
        self.store = store
        self._failed = failed
        self._notify_status = status_notifications
        self._on_polled_status = on_polled_status
        self._runs: dict[str, TaskRun] = {}
        #: How many times `aclose` began: a `start` that was waiting on its store meanwhile
        #: fails the task it made, never runs it (nothing would stop its work any more). A
        #: count, not a flag: a server that serves again uses the same runner.
        self._shutdowns = 0
        #: Renews the leases of the tasks running here, when the store is shared.
        self._renewing: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        """Tasks running in this process now."""
        return len(self._runs)

    # ---------------------------------------------------------------- create

    async def start(
        self, owner: str, ttl: int | None, peer: Notified, work: Work, *, polled: bool = False
    ) -> CreateTaskResult:
        """Create the task, start `work(run)` in the background, return the CreateTaskResult
        to answer the request with at once ("Result Retrieval"). `polled`: a task of the tasks
        extension (SEP-2663): its questions wait for tasks/update (`TaskRun.ask_polled`), a
        result completes it whatever it says (a tool's `isError` included), and no status
        notification goes to the connection it was created on.

        Cancelled while the store writes the task (a store a network away), it cancels the
        task it may have made after all, as tasks/cancel would: nobody else will ever learn
        its id. Once the runner is shut down (`aclose`), a task the store still makes is
        failed as every task running then was, and answered so: its work never starts."""
        # From a task of its own, which this one's cancellation does not cancel: the store's
        # answer names the task to cancel then.
        shutdowns = self._shutdowns
        creating = start_alone(self.store.create(owner, ttl=ttl))
        try:
            task = await asyncio.shield(creating)
        except asyncio.CancelledError:
            made = await answer_after_all(creating, CANCEL_WAIT)
            if made is not None:
                await quietly(self.store.cancel(owner, made.task_id, UNANSWERED), made.task_id)
            raise
        if self._shutdowns != shutdowns:
            finished = await self.store.finish(
                owner, task.task_id, "failed", _error(codes.INTERNAL_ERROR, _SHUTDOWN), _SHUTDOWN
            )
            return CreateTaskResult(task=finished)
        run = TaskRun(self, owner, task.task_id, peer)
        run.polled = polled
        self._runs[run.id] = run
        loop = asyncio.get_running_loop()
        run.work = loop.create_task(self._drive(run, work), name=f"mcpkit task {run.id[:8]}")
        if task.ttl is not None:
            # Once the ttl has elapsed the store may delete the task and its result ("TTL
            # and Resource Management"): nobody could fetch what the work makes, and work
            # outliving its entry would escape the store's bound on tasks. So it stops then.
            run.expiry = loop.call_later(task.ttl / 1000, self._expire, run)
        if isinstance(self.store, LeasedTaskStore) and self._renewing is None:
            self._renewing = loop.create_task(self._renew(self.store), name="mcpkit task leases")
        return CreateTaskResult(task=task)

    async def _renew(self, store: LeasedTaskStore) -> None:
        """While tasks run here, renew their leases every `lease / 4` seconds (so a store
        shared with other processes knows this one still runs them, `LeasedTaskStore`), and
        stop the work of those the store says ended elsewhere: a `tasks/cancel` another
        process answered, or a lease that lapsed while this process stalled."""
        try:
            while self._runs:
                await asyncio.sleep(store.lease / 4)
                try:
                    ended = await store.renew(list(self._runs))
                except Exception:  # the store is unreachable for now: try again next time
                    logger.warning("could not renew the leases of running tasks", exc_info=True)
                    continue
                for task_id in ended:
                    run = self._runs.get(task_id)
                    if run is None or run.work is None or run.cancelled:
                        continue
                    run.cancelled = True  # its status is the store's; nothing to write
                    if self._stop(run):
                        self._forget(run)
                    try:
                        await self._announce(run, await store.get(run.owner, task_id))
                    except Exception:  # expired meanwhile: nobody can ask for it
                        logger.debug("task %s ended elsewhere", task_id, exc_info=True)
        finally:
            self._renewing = None

    def _expire(self, run: TaskRun) -> None:
        run.expiry = None
        run.expired = True
        if run.work is not None:
            run.work.cancel()

    def _stop(self, run: TaskRun) -> bool:
        """Cancel the run's work; True when it never began. A task cancelled before its
        first step never runs its coroutine: `_drive` then neither writes how the task ended
        (`_stopped`) nor forgets it (`_forget`), and whoever stopped it does."""
        work = run.work
        if work is None or work.done():
            return False
        coro = cast("Coroutine[Any, Any, None]", work.get_coro())  # `_drive(...)`, from start
        began = inspect.getcoroutinestate(coro) != inspect.CORO_CREATED
        work.cancel()
        return not began

    async def _drive(self, run: TaskRun, work: Work) -> None:
        try:
            try:
                result = await work(run)
            except asyncio.CancelledError:
                await self._stopped(run)
                raise
            except McpError as exc:  # the error's message is the status message (_finish)
                await self._finish(run, "failed", _error(exc.code, exc.message, exc.data))
            except Exception as exc:
                log_handler_failure(logger, f"task {run.id}", exc)
                error = _error(codes.INTERNAL_ERROR, f"Internal error: {exc}")
                await self._finish(run, "failed", error)
            else:
                raw: dict[str, Any] = msgspec.to_builtins(result)
                # SEP-2663: a tool that ran and reported an error completed its task.
                judge = None if run.polled else self._failed
                message = judge(result) if judge is not None else None
                status: Literal["completed", "failed"] = "failed" if message else "completed"
                await self._finish(run, status, TaskOutcome(result=raw), message)
        finally:
            self._forget(run)

    async def _stopped(self, run: TaskRun) -> None:
        """Write how a task whose work was cancelled ended, unless tasks/cancel did."""
        if run.expired:
            await self._finish(run, "failed", _error(codes.INTERNAL_ERROR, _EXPIRED))
            await self.store.purge_expired()
        elif not run.cancelled:  # shutdown, not tasks/cancel: say so in the store
            await self._finish(run, "failed", _error(codes.INTERNAL_ERROR, _SHUTDOWN))

    def _forget(self, run: TaskRun) -> None:
        """The run's work ended: no more expiry, its `tasks/result` waiters woken."""
        if run.expiry is not None:
            run.expiry.cancel()
            run.expiry = None
        run.finished.set()
        self._runs.pop(run.id, None)
        if not self._runs:  # a dict keeps its largest size: give a burst's table back
            self._runs = {}

    async def _finish(
        self,
        run: TaskRun,
        status: Literal["completed", "failed"],
        outcome: TaskOutcome,
        message: str | None = None,
    ) -> None:
        if message is None and outcome.error is not None:
            message = str(outcome.error.get("message", "")) or None
        try:
            task = await self.store.finish(run.owner, run.id, status, outcome, message)
        except McpError:  # expired meanwhile: nobody can ask for it any more
            return
        await self._announce(run, task)

    async def set_status(self, run: TaskRun, status: Literal["working", "input_required"]) -> None:
        task = await self.store.set_status(run.owner, run.id, status)
        # `needing_input` only ever flips between the two, so the status changed unless the
        # task is terminal (left as it is): no need to read it first.
        if not is_terminal(task.status):
            await self._announce(run, task)

    async def _announce(self, run: TaskRun, task: Task) -> None:
        """`notifications/tasks/status` to the requestor (optional for receivers; without the
        related-task meta: the task id is in the params, "Task Notifications")."""
        if run.polled:  # its requestor polls, or listens (SEP-2663): not this connection
            if self._on_polled_status is not None:
                try:
                    await self._on_polled_status(run)
                except Exception:
                    logger.exception("could not announce the status of task %s", run.id)
            return
        if not self._notify_status:
            return
        params = msgspec.to_builtins(task)
        waiter = run.current()
        peer = waiter.peer if waiter is not None else run.peer
        if peer.closed:
            return
        try:
            await peer.notify(
                "notifications/tasks/status",
                params,
                related=waiter.request_id if waiter is not None else None,
            )
        except Exception:  # the connection went away meanwhile
            logger.debug("could not send the status of task %s", run.id, exc_info=True)

    # ------------------------------------------------------------- requests

    def running(self, task_id: str) -> TaskRun | None:
        """The task `task_id` if it runs in this process now."""
        return self._runs.get(task_id)

    async def get(self, owner: str, task_id: str) -> GetTaskResult:
        return _as(GetTaskResult, await self.store.get(owner, task_id))

    async def list(self, owner: str, cursor: str | None) -> ListTasksResult:
        tasks, next_cursor = await self.store.list(owner, cursor)
        return ListTasksResult(tasks=tasks, next_cursor=next_cursor)

    async def cancel(
        self, owner: str, task_id: str, message: str = "The task was cancelled by request."
    ) -> CancelTaskResult:
        """Cancelled in the store before the answer ("Task Cancellation"), then the work is
        stopped (best effort: a `def` handler in a thread runs on, its outcome dropped).
        `message` is its status message."""
        task = await self.store.cancel(owner, task_id, message)
        run = self._runs.get(task_id)
        if run is not None:
            run.cancelled = True
            if self._stop(run):
                self._forget(run)
            await self._announce(run, task)
        return _as(CancelTaskResult, task)

    async def result(
        self, owner: str, task_id: str, peer: Peer, request_id: RequestId
    ) -> dict[str, Any]:
        """What the underlying request returned, once the task is terminal (blocking until
        then); a stored JSON-RPC error is raised as that McpError ("Result Retrieval")."""
        while True:
            task = await self.store.get(owner, task_id)
            if is_terminal(task.status):
                return await self._outcome(owner, task)
            run = self._runs.get(task_id)
            if run is not None and run.owner == owner:
                with run.waiting(peer, request_id):
                    await run.finished.wait()
            else:  # running in another process (a shared store) or not at all any more
                waited = await self.store.wait(owner, task_id, _STORE_WAIT)
                if waited.status == "input_required":
                    await asyncio.sleep((waited.poll_interval or 1000) / 1000)

    async def _outcome(self, owner: str, task: Task) -> dict[str, Any]:
        outcome = await self.store.outcome(owner, task.task_id)
        if outcome is None:
            raise McpError(
                codes.INVALID_PARAMS,
                f"Task {task.task_id} was {task.status} and has no result",
            )
        if outcome.error is not None:
            err = outcome.error
            raise McpError(
                int(err.get("code", codes.INTERNAL_ERROR)),
                str(err.get("message", "")),
                err.get("data"),
            )
        result = dict(outcome.result or {})
        meta = dict(result.get("_meta") or {})
        meta[RELATED_TASK] = {"taskId": task.task_id}  # "MUST include this metadata"
        result["_meta"] = meta
        return result

    # ------------------------------------------------------------ shutdown

    async def aclose(self) -> None:
        """Stop every task still running here (each is marked failed in the store), and
        every task a `start` still makes (failed as it is made)."""
        self._shutdowns += 1
        if self._renewing is not None:
            self._renewing.cancel()
        runs = list(self._runs.values())
        never_began = [run for run in runs if self._stop(run)]
        for run in runs:
            if run.work is not None:
                await asyncio.gather(run.work, return_exceptions=True)
        for run in never_began:  # (a shutdown the moment after it was created)
            try:
                await self._stopped(run)
            finally:
                self._forget(run)


_SHUTDOWN = "The receiver shut down before the task finished"
#: The status message of a task cancelled because the request that created it was cancelled
#: before it was answered: nobody but this process ever knew its id.
UNANSWERED: Final = "The request that created the task was cancelled before it was answered"
_EXPIRED = "The task's ttl elapsed before it finished: it was stopped"


def _error(code: int, message: str, data: Any = None) -> TaskOutcome:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = msgspec.to_builtins(data)
    return TaskOutcome(error=error)


def _as(tp: type[_T], task: Task) -> _T:
    """A Task as one of the results that repeat its fields (GetTaskResult, CancelTaskResult)."""
    return msgspec.convert(msgspec.to_builtins(task), tp)
