"""A task-augmented request given up on the spec's way (basic/utilities/tasks, "Task
Cancellation"; basic/utilities/cancellation): its requestor cancels the task it made with
`tasks/cancel`, never with `notifications/cancelled`, which would leave the task working.

Whoever sends one (the client's request path, a server session's raw request) sends it with
no deadline of the connection's, whose expiry sends `notifications/cancelled` and drops a
later answer, and awaits it with `created_or_cancelled`: when its timeout passes or its caller
is cancelled, the answer (read already, or within `CANCEL_WAIT` seconds) names the task to
cancel; past that wait the request itself is cancelled (`answer_after_all`). `quietly` is
the bounded, best-effort wait for that tasks/cancel (or any other of a task nobody waits for).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final

import msgspec

from mcpkit.errors import RequestTimeout
from mcpkit.runtime.background import answer_after_all, start_alone
from mcpkit.types import CreateTaskResult

__all__ = ["CANCEL_WAIT", "created_or_cancelled", "quietly", "task_made"]

logger = logging.getLogger("mcpkit.tasks")

#: Seconds a requestor that gave up on a task-augmented request waits for the answer that
#: names the task to cancel (and, where it says so, for that tasks/cancel).
CANCEL_WAIT: Final = 5.0


async def created_or_cancelled(
    method: str,
    sending: Awaitable[Any],
    timeout: float | None,
    cancel: Callable[[str], Awaitable[None]],
) -> Any:
    """The answer of the task-augmented request `sending` (sent with no deadline of its own,
    from a task of its own, which the caller's cancellation does not cancel), within
    `timeout` seconds (None: no bound). Given up on (the timeout passed, or the caller
    cancelled), the task its answer names is cancelled with `cancel(task_id)` (best effort:
    it must not raise), then
    `RequestTimeout` is raised (or the cancellation goes on). The timeout is counted from
    here: neither progress nor the peer's own requests meanwhile restart it."""
    creating = start_alone(sending)
    try:
        await asyncio.wait((creating,), timeout=timeout)
    except asyncio.CancelledError:
        await _give_up(creating, cancel)
        raise
    if not creating.done():
        await _give_up(creating, cancel)
        raise RequestTimeout(
            f"{method} got no response within {timeout:g} s; the task it made was cancelled"
        )
    return creating.result()


async def _give_up(creating: asyncio.Future[Any], cancel: Callable[[str], Awaitable[None]]) -> None:
    task_id = task_made(await answer_after_all(creating, CANCEL_WAIT))
    if task_id is not None:
        await cancel(task_id)


async def quietly(cancelling: Awaitable[Any], task_id: str) -> None:
    """Await `cancelling`, the tasks/cancel of task `task_id` nobody waits for any more, for at
    most CANCEL_WAIT seconds: best effort (the task may have just ended, the peer not offer
    tasks/cancel, or be going away), its failure logged, never raised."""
    try:
        async with asyncio.timeout(CANCEL_WAIT):
            await cancelling
    except Exception as exc:
        logger.debug("could not cancel task %s: %s", task_id, exc)


def task_made(answer: object) -> str | None:
    """The id of the task a task-augmented request's answer names, however it was decoded
    (a `CreateTaskResult`, a dict, `msgspec.Raw`), or None (no answer, or one with no task)."""
    if isinstance(answer, CreateTaskResult):
        return answer.task.task_id
    try:
        if isinstance(answer, msgspec.Raw):
            return msgspec.json.decode(answer, type=CreateTaskResult).task.task_id
        if isinstance(answer, dict):
            return msgspec.convert(answer, CreateTaskResult).task.task_id
    except (msgspec.DecodeError, msgspec.ValidationError):
        pass
    return None
