"""A task's status as clients read it: the extension's `DetailedTask` of a stored task
(tasks/get, `notifications/tasks`), the failure a tool's result makes of its task, and the
announcement of a polled task's change to the listens that follow it. Kept apart from the
tasks' requests (`augmented`, `extension`), which take a Context: the server's task runner
is built with these, and the Context names that server."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import msgspec

from mcpkit.errors import McpError
from mcpkit.protocol import codes
from mcpkit.types import CallToolResult, Task, TextContent
from mcpkit.types.tasks_extension import DetailedTask

if TYPE_CHECKING:
    from mcpkit.server.catalog.listeners import Listeners
    from mcpkit.stores.task_runner import TaskRun, TaskRunner

__all__ = ["Announcing", "announce", "detailed", "detailed_task", "tool_failed"]


class Announcing(Protocol):
    """What `announce` reads of a server: its listens and its task runner."""

    @property
    def listeners(self) -> Listeners: ...

    @property
    def task_runner(self) -> TaskRunner: ...


def tool_failed(result: Any) -> str | None:
    """A tool result with `isError` fails its task ("Task Execution Errors"): the status
    message to fail it with, or None for a result that does not fail it.

    The message carries the result's first text only: it is shown beside the task's
    status, and the whole result stays retrievable as the task's outcome."""
    if isinstance(result, CallToolResult) and result.is_error:
        first = result.content[0] if result.content else None
        text = first.text if isinstance(first, TextContent) else None
        return f"Tool execution failed: {text}" if text else "Tool execution failed"
    return None


def detailed(task: Task, **inlined: Any) -> DetailedTask:
    """A stored task in the extension's shape (`ttlMs`, `pollIntervalMs`: whole ms).

    One store serves both revisions: tasks are kept in 2025-11-25's shape and converted
    here, when a 2026-07-28 client reads one."""
    return DetailedTask(
        task_id=task.task_id,
        status=task.status,
        status_message=task.status_message,
        created_at=task.created_at,
        last_updated_at=task.last_updated_at,
        ttl_ms=None if task.ttl is None else int(task.ttl),
        poll_interval_ms=None if task.poll_interval is None else int(task.poll_interval),
        **inlined,
    )


async def detailed_task(runner: TaskRunner, owner: str, task_id: str) -> dict[str, Any]:
    """The task as tasks/get (and `notifications/tasks`) show it: what it came to inlined,
    the result once completed, the JSON-RPC error once failed, the open questions while
    input_required (those of a task running in this process)."""
    store = runner.store
    task = await store.get(owner, task_id)
    inlined: dict[str, Any] = {}
    # Only a run in this process, of this owner, has the open questions: another process's
    # are not known here (SEP-2663 routes every request about a task to its process), and
    # another owner's are not ours to show.
    if task.status == "input_required":
        run = runner.running(task_id)
        inlined["input_requests"] = dict(run.input_requests) if run and run.owner == owner else {}
    elif task.status in ("completed", "failed"):
        outcome = await store.outcome(owner, task_id)
        if outcome is not None and outcome.error is not None:
            inlined["error"] = outcome.error
        elif outcome is not None and task.status == "completed":
            inlined["result"] = outcome.result or {}
        elif task.status == "failed":
            # A 2025-11-25 task that failed with a tool's isError result: no JSON-RPC error
            # was stored, and a failed task shows one.
            message = task.status_message or "The task failed"
            inlined["error"] = {"code": codes.INTERNAL_ERROR, "message": message}
    shaped: dict[str, Any] = msgspec.to_builtins(detailed(task, **inlined))
    return shaped


async def announce(server: Announcing, run: TaskRun) -> None:
    """A polled task's status changed: `notifications/tasks` (the whole DetailedTask) to the
    open listens of this process that follow it (SEP-2663, "Task Status Notifications")."""
    # Cheap check first: most task changes are followed by no listen, and building the
    # DetailedTask reads the store.
    if not server.listeners.follows(run.id):
        return
    try:
        task = await detailed_task(server.task_runner, run.owner, run.id)
    except McpError:
        # Purged meanwhile: the listen learns nothing more of it, and tasks/get will say
        # it is unknown.
        return
    server.listeners.deliver_task(run.id, task)
