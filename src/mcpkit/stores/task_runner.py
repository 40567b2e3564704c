"""The receiver's side of tasks (spec: basic/utilities/tasks): run task-augmented requests in
the background and answer `tasks/get`, `tasks/result`, `tasks/list` and `tasks/cancel`.

A server runs task-augmented `tools/call` with it; a client its task-augmented sampling and
elicitation. Task state lives in a `TaskStore`; what lives here is what cannot be stored: the
running work (an asyncio task) and the requestors waiting on `tasks/result`, through whose
streams the work's own requests to the requestor travel ("Input Required Status": a task that
needs input moves to `input_required`, the requestor then calls `tasks/result`, and the
request goes out related to that call, so over Streamable HTTP it arrives on its stream).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, Literal, Protocol, TypeVar

import msgspec

from mcpkit.errors import LocalProtocolError, McpError, RequestTimeout
from mcpkit.protocol import codes
from mcpkit.protocol.capabilities import RELATED_TASK
from mcpkit.stores.tasks import TaskOutcome, TaskStore, is_terminal
from mcpkit.types import (
    CancelTaskResult,
    CreateTaskResult,
    GetTaskResult,
    ListTasksResult,
    ProgressNotificationParams,
    RequestId,
    Task,
)

__all__ = ["RELATED_TASK", "Peer", "TaskRun", "TaskRunner", "with_related_task"]

logger = logging.getLogger("mcpkit.tasks")
_T = TypeVar("_T")

_STORE_WAIT = 30.0  # seconds per wait on a task that runs elsewhere (a shared store)


class Peer(Protocol):
    """The requestor's end of one connection (`mcpkit.runtime.connection.Connection` is one)."""

    @property
    def closed(self) -> bool: ...

    async def request(
        self,
        method: str,
        params: Any = None,
        *,
        timeout: float | None = None,
        related: RequestId | None = None,
        result_type: Any = None,
    ) -> Any: ...

    async def notify(
        self, method: str, params: Any = None, *, related: RequestId | None = None
    ) -> None: ...


def with_related_task(params: Any, task_id: str) -> dict[str, Any]:
    """`params` (a struct or dict) as a dict whose `_meta` names the task."""
    raw: dict[str, Any] = dict(msgspec.to_builtins(params) if params is not None else {})
    meta = dict(raw.get("_meta") or {})
    meta[RELATED_TASK] = {"taskId": task_id}
    raw["_meta"] = meta
    return raw


class _Waiter:
    """One `tasks/result` call in progress: where the task's requests can go meanwhile."""

    __slots__ = ("peer", "request_id")

    def __init__(self, peer: Peer, request_id: RequestId) -> None:
        self.peer = peer
        self.request_id = request_id


class TaskRun:
    """One task running in this process: what its work uses to reach the requestor."""

    def __init__(self, runner: TaskRunner, owner: str, task_id: str, peer: Peer) -> None:
        self.runner = runner
        self.owner = owner
        self.id = task_id
        self.peer = peer  # the connection the task was created on
        self.finished = asyncio.Event()
        self.cancelled = False  # by tasks/cancel
        self.expired = False  # its ttl elapsed while it ran
        self.expiry: asyncio.TimerHandle | None = None
        self._waiters: list[_Waiter] = []
        self._waiter_came: asyncio.Event | None = None
        self._asking = 0  # requests to the requestor in flight
        self._last_progress: float | None = None
        self.work: asyncio.Task[None] | None = None

    # --------------------------------------------------------------- routing

    @contextmanager
    def waiting(self, peer: Peer, request_id: RequestId) -> Generator[None]:
        """While a `tasks/result` call is open, the task's messages travel related to it."""
        waiter = _Waiter(peer, request_id)
        self._waiters.append(waiter)
        if self._waiter_came is not None:
            self._waiter_came.set()
            self._waiter_came = None
        try:
            yield
        finally:
            self._waiters.remove(waiter)

    def current(self) -> _Waiter | None:
        """The latest `tasks/result` call whose connection is open."""
        for waiter in reversed(self._waiters):
            if not waiter.peer.closed:
                return waiter
        return None

    async def _next_waiter(self) -> _Waiter:
        while (waiter := self.current()) is None:
            if self._waiter_came is None:
                self._waiter_came = asyncio.Event()
            await self._waiter_came.wait()
        return waiter

    # ------------------------------------------------------------ operations

    async def request(
        self,
        method: str,
        params: Any,
        *,
        timeout: float | None,
        result_type: Any = None,
        related_task: bool = True,
    ) -> Any:
        """Ask the requestor (sampling, elicitation, roots) on the task's behalf: the task is
        `input_required` until the answer comes; the request goes out once the requestor
        calls `tasks/result` (at once if it already has). `related_task=False` for the
        `tasks/*` requests of a task asked of the requestor in turn: they name their task in
        their params and SHOULD NOT carry the meta ("Associating Task-Related Messages")."""
        if related_task:
            params = with_related_task(params, self.id)
        async with self.needing_input():
            try:
                async with asyncio.timeout(timeout):
                    waiter = await self._next_waiter()
            except TimeoutError:
                raise RequestTimeout(
                    f"{method}: the requestor did not call tasks/result for task {self.id} "
                    f"within {timeout:g} s to take this request"
                ) from None
            return await waiter.peer.request(
                method,
                params,
                timeout=timeout,
                related=waiter.request_id,
                result_type=result_type,
            )

    @asynccontextmanager
    async def needing_input(self) -> AsyncGenerator[None]:
        """The task is `input_required` while any of these is open (nested or concurrent:
        one change in, one change out, however many requests a question takes)."""
        self._asking += 1
        if self._asking == 1:
            await self.runner.set_status(self, "input_required")
        try:
            yield
        finally:
            self._asking -= 1
            if self._asking == 0 and not self.finished.is_set():
                await self.runner.set_status(self, "working")

    async def notify(self, method: str, params: Any) -> None:
        """Send a notification about the task: on the open `tasks/result` stream if any, else
        unrelated (the GET stream over HTTP); dropped if neither connection is open."""
        params = with_related_task(params, self.id)
        waiter = self.current()
        if waiter is not None:
            await waiter.peer.notify(method, params, related=waiter.request_id)
        elif not self.peer.closed:
            await self.peer.notify(method, params)

    async def progress(
        self, token: RequestId, progress: float, total: float | None, message: str | None
    ) -> None:
        """Progress on the request that created the task: its token stays valid for the
        task's lifetime ("Task Progress Notifications"), and still must increase."""
        if self._last_progress is not None and progress <= self._last_progress:
            raise LocalProtocolError(
                f"progress must increase with each notification ({progress} after "
                f"{self._last_progress})"
            )
        self._last_progress = progress
        params = ProgressNotificationParams(
            progress_token=token, progress=progress, total=total, message=message
        )
        await self.notify("notifications/progress", params)


Work = Callable[[TaskRun], Awaitable[Any]]
Failed = Callable[[Any], str | None]


class TaskRunner:
    """Runs task-augmented requests whose state lives in `store`, for any number of sessions.

    `failed(result)` says whether a successful result still means the task failed, with the
    status message to give (a tool result with `isError`: "Task Execution Errors").
    """

    def __init__(
        self,
        store: TaskStore,
        *,
        failed: Failed | None = None,
        status_notifications: bool = True,
    ) -> None:
        self.store = store
        self._failed = failed
        self._notify_status = status_notifications
        self._runs: dict[str, TaskRun] = {}

    def __len__(self) -> int:
        """Tasks running in this process now."""
        return len(self._runs)

    # ---------------------------------------------------------------- create

    async def start(self, owner: str, ttl: int | None, peer: Peer, work: Work) -> CreateTaskResult:
        """Create the task, start `work(run)` in the background, return the CreateTaskResult
        to answer the request with at once ("Result Retrieval")."""
        task = await self.store.create(owner, ttl=ttl)
        run = TaskRun(self, owner, task.task_id, peer)
        self._runs[run.id] = run
        loop = asyncio.get_running_loop()
        run.work = loop.create_task(self._drive(run, work), name=f"mcpkit task {run.id[:8]}")
        if task.ttl is not None:
            # Once the ttl has elapsed the store may delete the task and its result ("TTL
            # and Resource Management"): nobody could fetch what the work makes, and work
            # outliving its entry would escape the store's bound on tasks. So it stops then.
            run.expiry = loop.call_later(task.ttl / 1000, self._expire, run)
        return CreateTaskResult(task=task)

    def _expire(self, run: TaskRun) -> None:
        run.expiry = None
        run.expired = True
        if run.work is not None:
            run.work.cancel()

    async def _drive(self, run: TaskRun, work: Work) -> None:
        try:
            try:
                result = await work(run)
            except asyncio.CancelledError:
                if run.expired:
                    await self._finish(run, "failed", _error(codes.INTERNAL_ERROR, _EXPIRED))
                    await self.store.purge_expired()
                elif not run.cancelled:  # shutdown, not tasks/cancel: say so in the store
                    await self._finish(run, "failed", _error(codes.INTERNAL_ERROR, _SHUTDOWN))
                raise
            except McpError as exc:  # the error's message is the status message (_finish)
                await self._finish(run, "failed", _error(exc.code, exc.message, exc.data))
            except Exception as exc:
                logger.exception("task %s failed", run.id)
                error = _error(codes.INTERNAL_ERROR, f"Internal error: {exc}")
                await self._finish(run, "failed", error)
            else:
                raw: dict[str, Any] = msgspec.to_builtins(result)
                message = self._failed(result) if self._failed is not None else None
                status: Literal["completed", "failed"] = "failed" if message else "completed"
                await self._finish(run, status, TaskOutcome(result=raw), message)
        finally:
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

    async def get(self, owner: str, task_id: str) -> GetTaskResult:
        return _as(GetTaskResult, await self.store.get(owner, task_id))

    async def list(self, owner: str, cursor: str | None) -> ListTasksResult:
        tasks, next_cursor = await self.store.list(owner, cursor)
        return ListTasksResult(tasks=tasks, next_cursor=next_cursor)

    async def cancel(self, owner: str, task_id: str) -> CancelTaskResult:
        """Cancelled in the store before the answer ("Task Cancellation"), then the work is
        stopped (best effort: a `def` handler in a thread runs on, its outcome dropped)."""
        task = await self.store.cancel(owner, task_id, "The task was cancelled by request.")
        run = self._runs.get(task_id)
        if run is not None:
            run.cancelled = True
            if run.work is not None:
                run.work.cancel()
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
        """Stop every task still running here (each is marked failed in the store)."""
        runs = list(self._runs.values())
        for run in runs:
            if run.work is not None:
                run.work.cancel()
        for run in runs:
            if run.work is not None:
                await asyncio.gather(run.work, return_exceptions=True)


_SHUTDOWN = "The receiver shut down before the task finished"
_EXPIRED = "The task's ttl elapsed before it finished: it was stopped"


def _error(code: int, message: str, data: Any = None) -> TaskOutcome:
    error: dict[str, Any] = {"code": code, "message": message}
    if data is not None:
        error["data"] = msgspec.to_builtins(data)
    return TaskOutcome(error=error)


def _as(tp: type[_T], task: Task) -> _T:
    """A Task as one of the results that repeat its fields (GetTaskResult, CancelTaskResult)."""
    return msgspec.convert(msgspec.to_builtins(task), tp)
