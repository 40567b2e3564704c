"""Tasks under 2026-07-28: the tasks extension, `io.modelcontextprotocol/tasks` (SEP-2663).

The same `@server.tool(task=...)` tools serve both eras, from the one task store. Under
2025-11-25 the client asks for a task (`params.task`); under 2026-07-28 the server decides: a
tool that supports tasks, called by a request whose `_meta` client capabilities declare the
extension, is answered at once with a task handle (`resultType: "task"`, the task's fields
flat), and runs on as the task; the client polls tasks/get (`handlers.tasks_extension`). A
client that did not declare the extension gets the tool's result in the call itself, or, for
a tool that requires a task, -32021 naming the extension.

Inside such a task `ctx.elicit()` and the other asks wait in the task's `inputRequests` until
the client answers with tasks/update (`asks.PolledTaskAsking`). A tool registered with
`task_begins="in_handler"` runs in the call itself until it calls `ctx.begin_task()`: what it
asks before goes the multi round-trip way (`round_trip`), and the call is answered with the
task handle only from there on (SEP-2663: resolve the round trips before creating the task).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, cast

import msgspec

from mcpkit.errors import McpError
from mcpkit.protocol.extensions import declares
from mcpkit.protocol.modern import missing_capability
from mcpkit.runtime.task_augmented import quietly
from mcpkit.server.catalog.listeners import MAX_RESOURCE_SUBSCRIPTIONS
from mcpkit.server.tasks.augmented import owner_of
from mcpkit.server.tasks.status import detailed
from mcpkit.stores.task_run import Notified
from mcpkit.stores.task_runner import UNANSWERED, TaskRun, TaskRunner
from mcpkit.types import CallToolResult, Task
from mcpkit.types.tasks_extension import EXTENSION_ID

if TYPE_CHECKING:
    from mcpkit.server.catalog.feature_server import FeatureServer
    from mcpkit.server.catalog.tools import ToolSpec
    from mcpkit.server.context import Context

__all__ = [
    "TaskStarter",
    "call_tool_as_extension",
    "followed_tasks",
    "task_handle",
]

RunTool = Callable[["Context"], Awaitable[CallToolResult]]


async def followed_tasks(server: FeatureServer, ctx: Context, task_ids: Any) -> list[str]:
    """subscriptions/listen's `taskIds`: those of the caller's tasks that exist (at most
    1000); -32021 for a request that does not declare the extension (SEP-2663)."""
    if not declares(ctx.client_capabilities, EXTENSION_ID):
        raise missing_capability(("extensions", EXTENSION_ID))
    owner = owner_of(ctx)
    found: list[str] = []
    listed = cast("list[object]", task_ids) if isinstance(task_ids, list) else []
    wanted = [t for t in listed if isinstance(t, str)]
    for task_id in wanted[:MAX_RESOURCE_SUBSCRIPTIONS]:
        try:
            await server.task_runner.store.get(owner, task_id)
        except McpError:
            continue  # unknown, ended and purged, or another's: not followed
        found.append(task_id)
    return found


def task_handle(task: Task) -> dict[str, Any]:
    """The CreateTaskResult answering a call the server made a task of: flat, no `result`,
    `error`, `inputRequests` or `requestState` (those are tasks/get's, or MRTR's)."""
    handle: dict[str, Any] = msgspec.to_builtins(detailed(task))
    handle["resultType"] = "task"
    return handle


async def call_tool_as_extension(
    ctx: Context, runner: TaskRunner, spec: ToolSpec, run_tool: RunTool
) -> CallToolResult | dict[str, Any]:
    """A 2026-07-28 tools/call of a tool with `execution.taskSupport`: a task where the
    request declares the extension and the tool supports one, else the plain call."""
    support = spec.task_support
    if support == "forbidden":
        return await run_tool(ctx)
    if not declares(ctx.client_capabilities, EXTENSION_ID):
        if support == "required":
            # SEP-2663, "Capability Negotiation": the call cannot be served without a task.
            raise missing_capability(("extensions", EXTENSION_ID))
        return await run_tool(ctx)
    if spec.task_begins == "in_handler":
        return await _call_until_task(ctx, runner, run_tool)

    async def work(run: TaskRun) -> CallToolResult:
        return await run_tool(_task_context(ctx, run))

    # No ttl: under the extension the client asks for none, so the store grants its
    # default (and caps any ttl at its maximum). `polled`: its questions wait for
    # tasks/update and no status goes to the connection of this request, answered already.
    created = await runner.start(owner_of(ctx), None, ctx.session, work, polled=True)
    return task_handle(created.task)


def _task_context(ctx: Context, run: TaskRun) -> Context:
    """The call's Context as the task runs it: tied to `run`, so its progress and questions
    travel with the task instead of the request that started it."""
    task_ctx = ctx.derive(task=run)
    task_ctx.leave_round_trip()  # a task's questions wait for tasks/update, not a retry
    return task_ctx


class TaskStarter:
    """What `ctx.begin_task()` needs to turn the running call into a task."""

    __slots__ = ("began", "call", "owner", "peer", "runner")

    def __init__(self, runner: TaskRunner, owner: str, peer: Notified) -> None:
        # `began` resolves with the task handle the call answers with; `call` is the tool's
        # own coroutine, which goes on as the task once `begin` made it one.
        self.runner = runner
        self.owner = owner
        self.peer = peer
        self.began: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.call: asyncio.Future[CallToolResult] | None = None

    async def begin(self, ctx: Context) -> bool:
        """`ctx.begin_task()`: make the rest of the handler the task (see the module's text)."""
        # Once per call, and only from the call it was made for: a second `begin_task()`, or
        # one from a Context that was derived elsewhere, changes nothing and says so.
        call = self.call
        if call is None or ctx.task_starter is not self:
            return False
        ctx.task_starter = None

        async def work(run: TaskRun) -> CallToolResult:
            return await call

        created = await self.runner.start(self.owner, None, self.peer, work, polled=True)
        run = self.runner.running(created.task.task_id)
        if run is not None:
            ctx.task = run
        ctx.leave_round_trip()  # its questions from here on wait for tasks/update
        self.began.set_result(task_handle(created.task))
        return True


async def _call_until_task(
    ctx: Context, runner: TaskRunner, run_tool: RunTool
) -> CallToolResult | dict[str, Any]:
    """Run the tool in the call until it calls `ctx.begin_task()` (then answer with the task
    handle, the tool running on as the task), returns (its result, at once), or asks what the
    client has not answered (the InputRequiredResult, raised on as InputRequired)."""
    starter = TaskStarter(runner, owner_of(ctx), ctx.session)
    ctx.task_starter = starter
    call = asyncio.ensure_future(run_tool(ctx))
    starter.call = call
    try:
        await asyncio.wait((call, starter.began), return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        if starter.began.done():
            # The task was made, and its handle will be answered to nobody (the client cannot
            # know a call became a task): cancelled as tasks/cancel would, not left running
            # with nobody to poll, answer or cancel it.
            task_id = starter.began.result()["taskId"]
            try:
                await quietly(runner.cancel(starter.owner, task_id, UNANSWERED), task_id)
            finally:
                call.cancel()
        else:
            ctx.task_starter = None  # a tool that runs on regardless begins no task
            call.cancel()
        raise
    if starter.began.done():
        return starter.began.result()
    ctx.task_starter = None
    return call.result()
