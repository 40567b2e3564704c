"""Handlers for the tasks extension's tasks/get, tasks/update and tasks/cancel (2026-07-28,
SEP-2663; `mcpkit.server.tasks.extension` makes the tasks).

The session serves them only to a request that declares the extension (else -32021). They
read the one task store the 2025-11-25 handlers (`handlers.tasks`) read, for the caller's
owner: an unknown or foreign task is -32602. tasks/get inlines what the task came to (the
request's `result` once completed, the JSON-RPC `error` once failed, the open
`inputRequests` while input_required); tasks/update and tasks/cancel answer with an empty
acknowledgement. A task's open questions live in the process that runs it, which is why
SEP-2663 has the client name the task in the `Mcp-Name` header: a load balancer sends every
request about it to that process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mcpkit.errors import McpError
from mcpkit.protocol import codes
from mcpkit.server.catalog.feature_server import FeatureServer
from mcpkit.server.tasks.augmented import owner_of
from mcpkit.server.tasks.status import detailed_task
from mcpkit.stores.task_run import TaskRun
from mcpkit.stores.tasks import is_terminal
from mcpkit.types.tasks_extension import CancelTaskParams, GetTaskParams, UpdateTaskParams

if TYPE_CHECKING:
    from mcpkit.server.context import Context

__all__ = ["cancel_task", "get_task", "update_task"]


def _run(server: FeatureServer, owner: str, task_id: str) -> TaskRun | None:
    """The task's run in this process, if it runs here and for `owner`; None otherwise, so
    one requestor can never hand answers to another's task that shares its id."""
    run = server.task_runner.running(task_id)
    return run if run is not None and run.owner == owner else None


async def get_task(server: FeatureServer, ctx: Context, params: GetTaskParams) -> dict[str, Any]:
    """tasks/get: the task with what it came to inlined, as the module says."""
    return await detailed_task(server.task_runner, owner_of(ctx), params.task_id)


async def update_task(
    server: FeatureServer, ctx: Context, params: UpdateTaskParams
) -> dict[str, Any]:
    """tasks/update: the client's `inputResponses` to the task's open questions.

    Looked up in the store first, so that an unknown or foreign task is -32602 even where
    no run is held here. A task no longer running in this process (it ended, or another
    process runs it) takes nothing: the acknowledgement is the same, and tasks/get shows
    whether the task still waits for input."""
    owner = owner_of(ctx)
    await server.task_runner.store.get(owner, params.task_id)  # -32602 for an unknown task
    run = _run(server, owner, params.task_id)
    if run is not None:
        run.answer(params.input_responses)
    return {}


async def cancel_task(
    server: FeatureServer, ctx: Context, params: CancelTaskParams
) -> dict[str, Any]:
    """Acknowledged whatever the task's status: cancelling an ended task changes nothing
    (SEP-2663 keeps -32602 for unknown tasks)."""
    owner = owner_of(ctx)
    runner = server.task_runner
    task = await runner.store.get(owner, params.task_id)
    if not is_terminal(task.status):
        try:
            await runner.cancel(owner, params.task_id)
        except McpError as exc:
            if exc.code != codes.INVALID_PARAMS:
                raise
            # It ended meanwhile: the same acknowledgement.
    return {}
