"""The server as task requestor (spec: basic/utilities/tasks, "Task-Augmented Sampling Request"):
ask the client for sampling or elicitation as a task, then wait for the task's result.

The wait is `tasks/result`, which blocks until the task ends ("Result Retrieval"). Should that
call fail while the task still runs (a receiver that cannot hold it open, a cut stream), the
task is polled with `tasks/get` at its `pollInterval` ("Getting Tasks"), then its result
fetched. A caller that gives up (timeout, cancellation) cancels the client's task.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from mcpkit.errors import ConnectionClosed, McpError, RequestTimeout, TransportError
from mcpkit.protocol import codes
from mcpkit.runtime.task_augmented import created_or_cancelled, quietly, task_made
from mcpkit.stores.task_runner import Peer
from mcpkit.stores.tasks import is_terminal
from mcpkit.types import GetTaskResult, RequestId, TaskMetadata

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

#: What `task=` accepts: True (the client's default ttl), a ttl in ms, or the wire metadata.
TaskOption = bool | int | TaskMetadata
#: Seconds between `tasks/get` polls: the task's pollInterval, kept within these bounds (a
#: hostile 0 must not make us spin, a huge one must not outlast the caller's timeout unseen).
POLL_FLOOR = 0.05
POLL_CEILING = 30.0
POLL_DEFAULT = 1.0

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
    # `bool` first: to Python False is the int 0, and it must be refused for what it means
    # (no task), not read as a ttl; a ttl of 0 or less would ask for a task already expired.
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
    have). `timeout` bounds the whole wait: the task's creation, then what is left of it its
    result; on it, or on cancellation, the task is cancelled (a task answer not yet read is
    waited for at most `CANCEL_WAIT` seconds more, to know it: `created_or_cancelled`)."""
    params = {**params, "task": task}
    deadline = None if timeout is None else asyncio.get_running_loop().time() + timeout
    # Awaited as every task-augmented request is (`runtime.task_augmented`): given up on,
    # the task its answer names (read already, or on its way) is cancelled with tasks/cancel
    # ("Cancellation"), not left working (a busy server reads the answer and the caller's
    # cancellation at once).
    answer = await created_or_cancelled(method, send(method, params, None), timeout, cancel)
    task_id = task_made(answer)
    # The client was asked for a task and answered with a plain result or nothing usable:
    # a fault of the client, and the caller has no task to wait for.
    if task_id is None:
        raise McpError(codes.INTERNAL_ERROR, f"the client answered {method} with no task")
    try:
        async with asyncio.timeout_at(deadline):
            return await _result_of(send, task_id, result_type)
    except TimeoutError:
        await cancel(task_id)
        raise RequestTimeout(
            f"{method}: the client's task did not finish within {timeout} s; it was cancelled"
        ) from None
    except asyncio.CancelledError:
        await cancel(task_id)
        raise


async def _result_of(send: Send, task_id: str, result_type: Any) -> Any:
    """The result of the client's task `task_id`, decoded as `result_type`.

    tasks/result first, which blocks until the task ends; if that call fails, the error
    is ambiguous, so the task is polled until terminal: a task that completed is fetched
    again, one that failed has its error raised. Only a closed connection ends it at once,
    since nothing more can be asked."""
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
    best effort (`quietly`): it may have just ended, or the connection be going away."""
    await quietly(peer.request("tasks/cancel", {"taskId": task_id}, related=related), task_id)


def poll_seconds(poll_interval: float | None) -> float:
    """Seconds to wait before the next `tasks/get`, for a task's `pollInterval` (ms)."""
    # Clamped: the interval is the client's to set, and neither a 0 (a busy loop of
    # tasks/get) nor an hour (a caller waiting long past the task's end) is acceptable.
    if poll_interval is None:
        return POLL_DEFAULT
    return min(max(poll_interval / 1000, POLL_FLOOR), POLL_CEILING)
