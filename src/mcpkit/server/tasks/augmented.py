"""Tasks on the server (spec: basic/utilities/tasks): task-augmented `tools/call`, who owns a
task, and what the server declares.

A task belongs to the authorization context that created it ("Task Isolation and Access
Control"): on a protected endpoint, the token's issuer and subject (or client); without
authorization, to every requestor alike, so that a client that reconnects can still fetch a
result by its id (192 random bits, unguessable), and `tasks/list` is not declared (it would
show every requestor's tasks).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

from mcpkit.errors import McpError
from mcpkit.protocol import codes
from mcpkit.protocol.jsonrpc import field_of
from mcpkit.server.context import Context
from mcpkit.stores.task_runner import TaskRun, TaskRunner
from mcpkit.types import CallToolResult, CreateTaskResult, TaskMetadata

if TYPE_CHECKING:
    from mcpkit.server.catalog.tools import ToolSpec

__all__ = [
    "ANONYMOUS",
    "check_task_support",
    "owner_of",
    "start_tool_task",
    "task_of_answer",
]

#: The owner of tasks created without authorization. Empty, so it can never equal an
#: identity's owner, which is JSON text and never empty.
ANONYMOUS = ""


def owner_of(ctx: Context) -> str:
    """The task owner of the caller: its verified identity, else `ANONYMOUS`."""
    import json  # (here: a server that keeps no tasks never loads it)

    from mcpkit.auth.server.resource import identity_of

    identity = identity_of(ctx.auth)
    # json's spelling, not msgspec's: task records a store kept before name owners this way.
    return ANONYMOUS if identity is None else json.dumps(identity)


def check_task_support(spec: ToolSpec, task: TaskMetadata | None) -> None:
    """server/tools x tasks, "Tool-Level Negotiation": -32601 for a task of a tool that
    forbids it, and for a plain call of a tool that requires one."""
    support = spec.task_support
    if task is not None and support == "forbidden":
        raise McpError(
            codes.METHOD_NOT_FOUND,
            f"Method not found: tool {spec.name!r} cannot be called as a task "
            "(its execution.taskSupport is forbidden); call it without `task`",
        )
    if task is None and support == "required":
        raise McpError(
            codes.METHOD_NOT_FOUND,
            f"Method not found: tool {spec.name!r} must be called as a task (its "
            'execution.taskSupport is required); add "task": {} to the params',
        )


async def start_tool_task(
    ctx: Context, runner: TaskRunner, ttl: float | None, run_tool: Any
) -> CreateTaskResult:
    """Answer a task-augmented tools/call at once; `run_tool(task_ctx)` runs in the
    background with a Context whose messages travel with the task."""

    async def work(run: TaskRun) -> Any:
        return await run_tool(ctx.derive(task=run))

    # schema.ts's ttl is a number of milliseconds; the stores keep whole ones.
    whole = None if ttl is None else math.ceil(ttl)
    return await runner.start(owner_of(ctx), whole, ctx.session, work)


async def task_of_answer(ctx: Context, server: Any, params: Any, answer: Awaitable[Any]) -> Any:
    """`answer` to a tools/call that asked for a task; a plain `CallToolResult` (a middleware
    answered it itself) becomes a task ended with that result, which the client fetches from
    `tasks/result` as it would the tool's own, after the tool's task support is checked as
    it would be without the middleware."""
    found = await answer
    # Not a plain result: the handler's own answer, which made the task itself (a
    # CreateTaskResult), goes up as it is; a task made twice would orphan the first.
    if not isinstance(found, CallToolResult):
        return found
    spec = server.tools.get(str(field_of(params, "name")))
    if spec is None:
        return found
    task = field_of(params, "task")
    check_task_support(spec, task)

    async def ended(_: Context) -> CallToolResult:
        return found

    return await start_tool_task(ctx, server.task_runner, field_of(task, "ttl"), ended)
