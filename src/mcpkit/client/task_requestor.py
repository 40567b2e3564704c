"""The client as a task requestor (basic/utilities/tasks): `ClientTask` handles and the
`tasks/*` calls.

A task-augmented request is answered at once with a task; its outcome comes later from
`tasks/result`. A `ClientTask` follows one task: `refresh()` asks `tasks/get`, `wait()` polls
until the task ends (answering `input_required` by opening `tasks/result`, as the spec asks),
`result()` returns what the plain request would have (or raises its JSON-RPC error), and
`cancel()` asks `tasks/cancel`. `notifications/tasks/status` update a live handle early; they
are optional for the server, so nothing waits for one.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import weakref
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar, overload

from mcpkit.client.pages import MAX_PAGES, all_pages
from mcpkit.client.results import ToolResult
from mcpkit.errors import McpError, PeerError, RequestTimeout
from mcpkit.protocol import codes
from mcpkit.protocol.pending import MAX_TASK_ID_LENGTH
from mcpkit.types import (
    CancelTaskResult,
    GetTaskResult,
    ListTasksResult,
    Task,
    TaskStatusNotificationParams,
)

if TYPE_CHECKING:
    from mcpkit.client.request_path import RequestPath

__all__ = [
    "DEFAULT_POLL_INTERVAL",
    "MAX_POLL_INTERVAL",
    "MIN_POLL_INTERVAL",
    "TERMINAL_STATUSES",
    "ClientTask",
    "TaskRequests",
    "TaskSnapshot",
]

R = TypeVar("R")

#: Statuses a task never leaves ("Task Status Lifecycle").
TERMINAL_STATUSES: Final = frozenset({"completed", "failed", "cancelled"})
#: Seconds between polls when the server suggests no `pollInterval`.
DEFAULT_POLL_INTERVAL: Final = 1.0
#: Bounds on the server's `pollInterval` (seconds): a hostile 0 or a negative value must not
#: make us poll in a tight loop, nor a huge one leave `wait()` asleep for days.
MIN_POLL_INTERVAL: Final = 0.05
MAX_POLL_INTERVAL: Final = 60.0
_MAX_PAGES: Final = MAX_PAGES

#: A task's state as one of the messages about it has it.
TaskSnapshot = Task | GetTaskResult | CancelTaskResult | TaskStatusNotificationParams


def _as_task(snapshot: TaskSnapshot, *, method: str) -> Task:
    """A task's state as the schema's `Task`, refusing ids no honest server sends."""
    task_id = snapshot.task_id
    if not task_id or len(task_id) > MAX_TASK_ID_LENGTH:
        raise PeerError(
            codes.INVALID_PARAMS,
            f"Invalid result for {method}: the server sent a task id of {len(task_id)} "
            f"characters (1 to {MAX_TASK_ID_LENGTH} are accepted); the server is at fault",
        )
    if type(snapshot) is Task:
        return snapshot
    return Task(
        task_id=task_id,
        status=snapshot.status,
        status_message=snapshot.status_message,
        created_at=snapshot.created_at,
        last_updated_at=snapshot.last_updated_at,
        ttl=snapshot.ttl,
        poll_interval=snapshot.poll_interval,
    )


def _poll_delay(task: Task) -> float:
    """Seconds to wait before the next `tasks/get`: the server's `pollInterval` ("Requestors
    SHOULD respect this value"), kept within MIN_POLL_INTERVAL and MAX_POLL_INTERVAL."""
    if task.poll_interval is None:
        return DEFAULT_POLL_INTERVAL
    return min(max(task.poll_interval / 1000, MIN_POLL_INTERVAL), MAX_POLL_INTERVAL)


class ClientTask(Generic[R]):
    """A task the server runs for us; `R` is what its request returns (`ToolResult`).

    `id` is the server's task id, `task` the latest state we saw (from the answer that created
    it, `tasks/get`, `tasks/cancel` or a status notification), `meta` the `_meta` of the
    answer that created it. Close the handle (`aclose()`, or `async with`) when done with it
    early: it stops taking progress for the task and gives up a `tasks/result` in flight.
    """

    def __init__(
        self,
        calls: TaskRequests,
        task: Task,
        result_type: type[R],
        *,
        meta: dict[str, Any] | None = None,
    ) -> None:
        self._calls = calls
        self.id: str = task.task_id
        self.task: Task = task
        self.meta = meta
        self.result_type = result_type
        self._wake = asyncio.Event()
        self._outcome: asyncio.Task[R] | None = None
        if self.done:
            self._release()

    def __repr__(self) -> str:
        return f"<ClientTask {self.id!r} {self.task.status}>"

    async def __aenter__(self) -> ClientTask[R]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    @property
    def status(self) -> str:
        return self.task.status

    @property
    def done(self) -> bool:
        """Whether the task is in a terminal status (completed, failed or cancelled)."""
        return self.task.status in TERMINAL_STATUSES

    @property
    def immediate_response(self) -> str | None:
        """The server's `io.modelcontextprotocol/model-immediate-response`, a text a host
        may hand the model while the task runs (basic/utilities/tasks, Creating Tasks)."""
        value = (self.meta or {}).get("io.modelcontextprotocol/model-immediate-response")
        return value if isinstance(value, str) else None

    # ------------------------------------------------------------------ calls

    async def refresh(self) -> Task:
        """Ask the server for the task's state (`tasks/get`)."""
        state: GetTaskResult = await self._calls.request("tasks/get", {"taskId": self.id})
        return self.update(state, method="tasks/get")

    async def cancel(self) -> Task:
        """Ask the server to cancel the task (`tasks/cancel`). A task already ended is
        refused with McpError -32602, as the spec has it."""
        state: CancelTaskResult = await self._calls.request("tasks/cancel", {"taskId": self.id})
        return self.update(state, method="tasks/cancel")

    async def result(self, timeout: float | None = None) -> R:
        """What the request returns, once the task ends (`tasks/result` blocks until then):
        a `ToolResult` for a tool call, whose `is_error` tells of a failed tool; a JSON-RPC
        error stored for the task raises McpError, as the plain request would.

        `timeout` seconds bound the wait (None: until the task ends; the task's `ttl` bounds
        it on the server); past it RequestTimeout is raised and the task goes on."""
        outcome = self._start_result()
        try:
            return await asyncio.wait_for(asyncio.shield(outcome), timeout)
        except TimeoutError:
            raise RequestTimeout(
                f"task {self.id!r} did not end within {timeout:g} s; it goes on on the "
                "server: call result() again to keep waiting, or cancel() it"
            ) from None

    async def wait(self, timeout: float | None = None) -> Task:
        """Poll `tasks/get` until the task ends and return its last state. The server's
        `pollInterval` is honoured (within bounds), a status notification wakes us early,
        and `input_required` opens `tasks/result` for the server's requests (the spec's
        "SHOULD preemptively call tasks/result"), whose handlers answer them.

        `timeout` seconds bound the wait (None: until the task ends); past it
        RequestTimeout is raised and the task goes on."""
        try:
            async with asyncio.timeout(timeout):
                await self._poll_until_done()
        except TimeoutError:
            raise RequestTimeout(
                f"task {self.id!r} did not end within {timeout:g} s (last status "
                f"{self.task.status!r}); it goes on on the server"
            ) from None
        return self.task

    async def _poll_until_done(self) -> None:
        loop = asyncio.get_running_loop()
        last_poll = loop.time()
        while not self.done:
            if self.task.status == "input_required":
                self._start_result()
            # Cleared before waiting: what woke us since is already in `self.task`.
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), _poll_delay(self.task))
            if self.done:
                return
            # However often notifications wake us, at most one poll per MIN_POLL_INTERVAL.
            early = last_poll + MIN_POLL_INTERVAL - loop.time()
            if early > 0:
                await asyncio.sleep(early)
            await self.refresh()
            last_poll = loop.time()

    async def aclose(self) -> None:
        """Forget the task here (the server keeps it until its ttl): stop taking its
        progress, and give up a `tasks/result` in flight."""
        self._release()
        outcome, self._outcome = self._outcome, None
        if outcome is not None and not outcome.done():
            outcome.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await outcome

    # -------------------------------------------------------------- internals

    def update(self, state: TaskSnapshot, *, method: str, wake: bool = False) -> Task:
        """Take a newer state of this task; a terminal one is final (a late or reordered
        message never moves the task out of it). `wake`, or an end, wakes `wait()`."""
        task = _as_task(state, method=method)
        if task.task_id != self.id:
            raise PeerError(
                codes.INVALID_PARAMS,
                f"Invalid result for {method}: it is about task {task.task_id[:80]!r}, not "
                f"{self.id!r}; the server is at fault",
            )
        if self.done and task.status not in TERMINAL_STATUSES:
            return self.task
        self.task = task
        if self.done:
            self._release()
        if wake or self.done:
            self._wake.set()
        return task

    def _start_result(self) -> asyncio.Task[R]:
        """The one `tasks/result` request in flight for this handle (started if needed); its
        outcome is kept, so asking again costs nothing."""
        outcome = self._outcome
        if outcome is not None and not (outcome.done() and _retryable(outcome)):
            return outcome
        outcome = asyncio.get_running_loop().create_task(self._fetch_result())
        outcome.add_done_callback(self._result_done)
        self._outcome = outcome
        return outcome

    async def _fetch_result(self) -> R:
        # No request timeout: tasks/result blocks until the task ends (Result Retrieval).
        # Through the client's request, so its middleware sees it as any other request.
        result: R = await self._calls.request(
            "tasks/result", {"taskId": self.id}, timeout=math.inf, result_type=self.result_type
        )
        return result

    def _result_done(self, outcome: asyncio.Task[R]) -> None:
        if not outcome.cancelled() and outcome.exception() is None:
            self._release()  # the task has ended: no more progress is due
        self._wake.set()  # wait() polls at once: the task has ended, or tasks/result failed

    def _release(self) -> None:
        self._calls.forget_task(self.id)


def _retryable(outcome: asyncio.Task[Any]) -> bool:
    """A finished `tasks/result` worth asking again: it was cancelled or failed locally (the
    connection, say); a result or the server's JSON-RPC error is the task's outcome."""
    if outcome.cancelled():
        return True
    exc = outcome.exception()
    return exc is not None and not isinstance(exc, McpError)


class TaskRequests:
    """The `tasks/*` calls of a requestor, also for tasks made earlier or on another
    connection (a client that reconnects fetches a result by id), and the live handles of its
    tasks. Sends through the client's request path; `Client` holds one."""

    def __init__(self, requests: RequestPath[Any]) -> None:
        self._requests = requests
        self._live_tasks: weakref.WeakValueDictionary[str, ClientTask[Any]] = (
            weakref.WeakValueDictionary()
        )

    def request(
        self,
        method: str,
        params: Any = None,
        *,
        timeout: float | None = None,
        result_type: Any = None,
    ) -> Awaitable[Any]:
        """A request through the client's path (its middleware sees it as any other)."""
        return self._requests.request(method, params, timeout=timeout, result_type=result_type)

    def _session_tasks(self, what: str) -> None:
        """Refuse a call of 2025-11-25's tasks on a client that speaks a modern revision,
        where tasks are the extension the server starts and `call_tool` follows."""
        self._requests.era.refuse_session_tasks(what)

    async def get_task(self, task_id: str) -> GetTaskResult:
        """The task's state (`tasks/get`); an unknown or expired id raises McpError -32602."""
        self._session_tasks("get_task")
        result: GetTaskResult = await self.request("tasks/get", {"taskId": task_id})
        return result

    @overload
    async def task_result(self, task_id: str, *, timeout: float | None = None) -> ToolResult: ...

    @overload
    async def task_result(
        self, task_id: str, *, result_type: type[R], timeout: float | None = None
    ) -> R: ...

    async def task_result(
        self, task_id: str, *, result_type: Any = ToolResult, timeout: float | None = None
    ) -> Any:
        """The outcome of a task (`tasks/result`, which blocks until it ends), decoded as
        `result_type` (a tool call's by default); a stored JSON-RPC error raises McpError.
        `timeout` seconds bound the wait (None: until the task ends)."""
        self._session_tasks("task_result")
        return await self.request(
            "tasks/result",
            {"taskId": task_id},
            timeout=math.inf if timeout is None else timeout,
            result_type=result_type,
        )

    async def list_tasks(self, *, max_pages: int = _MAX_PAGES) -> list[Task]:
        """Every task the server lists for us (`tasks/list`, all pages, at most `max_pages`)."""
        self._session_tasks("list_tasks")
        return await all_pages(self.list_tasks_page, "tasks", max_pages)

    async def list_tasks_page(self, cursor: str | None = None) -> ListTasksResult:
        self._session_tasks("list_tasks_page")
        params = {"cursor": cursor} if cursor is not None else None
        result: ListTasksResult = await self.request("tasks/list", params)
        return result

    async def cancel_task(self, task_id: str) -> CancelTaskResult:
        """Cancel a task (`tasks/cancel`); one already ended raises McpError -32602."""
        self._session_tasks("cancel_task")
        result: CancelTaskResult = await self.request("tasks/cancel", {"taskId": task_id})
        live = self._live_tasks.get(task_id)
        if live is not None:
            live.update(result, method="tasks/cancel")
        return result

    @overload
    async def task_handle(self, task_id: str) -> ClientTask[ToolResult]: ...

    @overload
    async def task_handle(self, task_id: str, *, result_type: type[R]) -> ClientTask[R]: ...

    async def task_handle(self, task_id: str, *, result_type: Any = ToolResult) -> Any:
        """A handle for a task made earlier, perhaps on another connection (its state is
        fetched first); `result_type` is what its request returns (a tool call's by default)."""
        state = await self.get_task(task_id)
        return self.track_task(state, result_type)

    def track_task(
        self,
        state: TaskSnapshot,
        result_type: type[R],
        meta: dict[str, Any] | None = None,
        *,
        method: str = "tasks/get",
    ) -> ClientTask[R]:
        """A live handle for the task in `state` (status notifications reach it while it is
        referenced); `method` names the answer it came in, for errors."""
        handle = ClientTask(self, _as_task(state, method=method), result_type, meta=meta)
        self._live_tasks[handle.id] = handle
        return handle

    def forget_task(self, task_id: str) -> None:
        """Stop passing progress about `task_id` on (see `Connection.release_task_progress`)."""
        self._requests.release_task_progress(task_id)

    def status_received(self, params: Any) -> None:
        """A `notifications/tasks/status` from the server: update the task's live handle."""
        if not isinstance(params, TaskStatusNotificationParams):
            return
        live = self._live_tasks.get(params.task_id)
        if live is not None:
            with contextlib.suppress(McpError):  # a hostile notification changes nothing
                live.update(params, method="notifications/tasks/status", wake=True)
