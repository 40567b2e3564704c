"""Handlers for tasks/get, tasks/result, tasks/list and tasks/cancel (basic/utilities/tasks).

The session layer refuses them with -32601 where the server declared no tasks; each looks the
task up for the caller's owner (`mcpkit.server.tasks.augmented.owner_of`), so another
requestor's task is answered as unknown (-32602). The polls (get, list, cancel) ask for a plain
JSON answer where the transport offers a choice (Streamable HTTP), tasks/result never does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mcpkit.server.catalog.feature_server import FeatureServer
from mcpkit.server.session import Peer, session_of
from mcpkit.server.tasks.augmented import owner_of
from mcpkit.stores.task_runner import TaskRunner
from mcpkit.types import (
    CancelTaskRequestParams,
    CancelTaskResult,
    GetTaskPayloadRequestParams,
    GetTaskRequestParams,
    GetTaskResult,
    ListTasksResult,
    PaginatedRequestParams,
    RequestId,
)

if TYPE_CHECKING:
    from mcpkit.server.context import Context

__all__ = ["cancel_task", "get_task", "list_tasks", "polled", "task_result"]


def _runner(server: FeatureServer) -> TaskRunner:
    """The runner holding the server's tasks; a mounted server's is its parent's, so a task
    started through a mount is found by the same polls."""
    return server.task_runner


def polled(peer: Peer, request_id: RequestId) -> None:
    """Ask for a plain JSON answer: "where possible, servers SHOULD NOT upgrade to an SSE
    stream in response to a tasks/get request, as the client has indicated it wishes to poll"
    ("Input Required Status"), where the transport has the choice (`Peer.answer_as_json`)."""
    peer.answer_as_json(request_id)


def _polled(ctx: Context) -> None:
    """`polled` for the request of `ctx`."""
    polled(ctx.session, ctx.request_id)


async def get_task(
    server: FeatureServer, ctx: Context, params: GetTaskRequestParams
) -> GetTaskResult:
    """tasks/get: the task's current state, for the requestor that created it."""
    _polled(ctx)
    return await _runner(server).get(owner_of(ctx), params.task_id)


async def task_result(
    server: FeatureServer, ctx: Context, params: GetTaskPayloadRequestParams
) -> dict[str, Any]:
    """Blocks until the task is terminal; meanwhile the task's own requests to the client
    travel related to this call (over HTTP: on its SSE stream, "Input Required Status").

    Needs the session's connection (the 2025-11-25 tasks, whose requests all have a
    session): the task's requests to the client are sent on it, related to this call."""
    return await _runner(server).result(
        owner_of(ctx),
        params.task_id,
        session_of(ctx.session, "tasks/result").connection,
        ctx.request_id,
    )


async def list_tasks(
    server: FeatureServer, ctx: Context, params: PaginatedRequestParams
) -> ListTasksResult:
    """tasks/list: one page of this requestor's tasks; another's are never listed."""
    _polled(ctx)
    return await _runner(server).list(owner_of(ctx), params.cursor)


async def cancel_task(
    server: FeatureServer, ctx: Context, params: CancelTaskRequestParams
) -> CancelTaskResult:
    """tasks/cancel: stop the task and answer its state; the task store refuses a task already
    in a terminal state with -32602, as the spec asks."""
    _polled(ctx)
    return await _runner(server).cancel(owner_of(ctx), params.task_id)
