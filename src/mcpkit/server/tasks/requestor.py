"""The server as task requestor (spec: basic/utilities/tasks, "Task-Augmented Sampling Request"):
ask the client for sampling or elicitation as a task, then wait for the task's result.

The wait is `tasks/result`, which blocks until the task ends ("Result Retrieval"). Should that
call fail while the task still runs (a receiver that cannot hold it open, a cut stream), the
task is polled with `tasks/get` at its `pollInterval` ("Getting Tasks"), then its result
fetched. A caller that gives up (timeout, cancellation) cancels the client's task.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from mcpkit.errors import (
    ConnectionClosed,
    McpError,
    McpkitError,
    RequestTimeout,
    TransportError,
)
from mcpkit.protocol import codes
from mcpkit.runtime.background import answer_after_all, start_alone
from mcpkit.stores.task_runner import Peer
from mcpkit.stores.tasks import is_terminal
from mcpkit.types import CreateTaskResult, GetTaskResult, RequestId, Task, TaskMetadata

__all__ = [
    "POLL_CEILING",
    "POLL_DEFAULT",
    "POLL_FLOOR",
    "TaskOption",
    "ask_as_task",
    "cancel_quietly",
    "metadata",
    "poll_seconds",
]

logger = logging.getLogger("mcpkit.server")

#: What `task=` accepts: True (the client's default ttl), a ttl in ms, or the wire metadata.
TaskOption = bool | int | TaskMetadata
#: Seconds between `tasks/get` polls: the task's pollInterval, kept within these bounds (a
#: hostile 0 must not make us spin, a huge one must not outlast the caller's timeout unseen).
POLL_FLOOR = 0.05
POLL_CEILING = 30.0
POLL_DEFAULT = 1.0
_CANCEL_WAIT = 5.0  # seconds for the best-effort tasks/cancel of an abandoned task

#: Sends one request to the client as the caller's requests go: (method, params, result type).
Send = Callable[[str, Any, Any], Awaitable[Any]]
#: Cancels the client's task, best effort (never raises): `cancel_quietly` with a route.
Cancel = Callable[[str], Awaitable[None]]


def metadata(task: TaskOption) -> TaskMetadata:
    """The `task` field of the request for a `task=` option."""
    if isinstance(task, TaskMetadata):
        return task
    if task is True:
        return TaskMetadata()
    if isinstance(task, bool) or task <= 0:
        raise ValueError(f"task must be True, a ttl in ms > 0 or a TaskMetadata, not {task!r}")
    return TaskMetadata(ttl=task)


async def ask_as_task(
    send: Send,
    cancel: Cancel,
    method: str,
    params: dict[str, Any],
    result_type: Any,
    *,
    task: TaskMetadata,
    timeout: float | None,
) -> Any:
    """Send `method` with `task`, then return the task's result decoded as `result_type`
        (a JSON-RPC error stored for it is raised as that error, as the plain request would
        have). `timeout` bounds the whole wait; on it, or on cancellation, the task is cancelled
    (a task answer not yet read is waited for at most _CANCEL_WAIT seconds more, to know it)."""
    params = {**params, "task": task}
    # Sent from a task of its own, which the caller's cancellation does not cancel: the answer
    # may have come unread, or be on its way, when the caller gives up, and the task it names
    # is then cancelled with tasks/cancel, as a task-augmented request is ("Cancellation"),
    # not left working (a busy server reads the answer and the caller's cancellation at once).
    creating = start_alone(send(method, params, None))
    created: CreateTaskResult | None = None
    try:
        async with asyncio.timeout(timeout):
            created = _task_made(method, await asyncio.shield(creating))
            return await _result_of(send, created.task, result_type)
    except TimeoutError:
        if created is None:  # (its answer may be on its way: waited for as on cancellation)
            created = await _made_after_all(creating, _CANCEL_WAIT)
        if created is None:
            raise RequestTimeout(
                f"{method}: the client did not answer within {timeout} s"
            ) from None
        await cancel(created.task.task_id)
        raise RequestTimeout(
            f"{method}: the client's task did not finish within {timeout} s; it was cancelled"
        ) from None
    except asyncio.CancelledError:
        if created is None:
            created = await _made_after_all(creating, _CANCEL_WAIT)
        if created is not None:
            await cancel(created.task.task_id)
        raise


def _task_made(method: str, answer: object) -> CreateTaskResult:
    """The client's answer to a task-augmented request: the task it made."""
    if not isinstance(answer, CreateTaskResult):
        raise McpError(codes.INTERNAL_ERROR, f"the client answered {method} with no task")
    return answer


async def _made_after_all(creating: asyncio.Future[Any], wait: float) -> CreateTaskResult | None:
    """The task a request its caller gave up on made after all: its answer, read already or
    within `wait` seconds (a client answers a task-augmented request at once); None past
    that (the request is then cancelled), for a failed request or an answer with no task."""
    answer = await answer_after_all(creating, wait)
    return answer if isinstance(answer, CreateTaskResult) else None


async def _result_of(send: Send, task: Task, result_type: Any) -> Any:
    task_id = task.task_id
    try:
        return await send("tasks/result", {"taskId": task_id}, result_type)
    except ConnectionClosed:
        raise
    except (McpError, TransportError) as exc:
        # Either the handler's own error (the task failed: raise it, as the plain request
        # would have) or tasks/result itself failed while the task ran on: poll, then fetch.
        status = await _poll_until_terminal(send, task_id)
        if isinstance(exc, McpError) and status.status != "completed":
            raise
    return await send("tasks/result", {"taskId": task_id}, result_type)


async def _poll_until_terminal(send: Send, task_id: str) -> GetTaskResult:
    """`tasks/get` at the task's pollInterval until it is terminal ("Getting Tasks")."""
    while True:
        status: GetTaskResult = await send("tasks/get", {"taskId": task_id}, None)
        if is_terminal(status.status):
            return status
        await asyncio.sleep(poll_seconds(status.poll_interval))


async def cancel_quietly(peer: Peer, related: RequestId | None, task_id: str) -> None:
    """`tasks/cancel` for a task whose result nobody waits for any more ("Task Cancellation"),
    for at most a few seconds: it may have just ended, or the connection be going away."""
    try:
        async with asyncio.timeout(_CANCEL_WAIT):
            await peer.request("tasks/cancel", {"taskId": task_id}, related=related)
    except (McpkitError, TimeoutError) as exc:
        logger.debug("could not cancel the client's task %s: %s", task_id, exc)


def poll_seconds(poll_interval: float | None) -> float:
    """Seconds to wait before the next `tasks/get`, for a task's `pollInterval` (ms)."""
    if poll_interval is None:
        return POLL_DEFAULT
    return min(max(poll_interval / 1000, POLL_FLOOR), POLL_CEILING)
