"""The mcpkit client as task requestor against the mcpkit server as receiver, end to end over
the in-memory pair (basic/utilities/tasks): every state a task passes through, its progress
and status notifications, input_required answered by the client's elicitation handler, and a
client that reconnects and fetches a result by id."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import pytest

from mcpkit import Client, Context, McpError, Server, ToolError
from mcpkit.protocol import codes
from mcpkit.types import ElicitResult

# These tests are about the 2025-11-25 session (what the server sends the client, its errors
# and notifications as that revision has them): the client is pinned to it. docs/eras.md says
# what 2026-07-28 does instead; tests/server/test_modern_revision.py and
# tests/client/test_client_modern.py cover it.
Client = functools.partial(Client, protocol="2025-11-25")


RELATED = "io.modelcontextprotocol/related-task"


class Gate:
    """Lets a test decide when a tool may finish."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.go = asyncio.Event()
        self.cancelled = asyncio.Event()

    async def pass_(self) -> None:
        self.started.set()
        try:
            await self.go.wait()
        except asyncio.CancelledError:
            self.cancelled.set()
            raise


def make_server(gate: Gate) -> Server:
    server = Server("tasks")

    @server.tool(task=True)
    async def double(x: int) -> int:
        """Doubles x, when let."""
        await gate.pass_()
        return 2 * x

    @server.tool(task="required")
    async def steps(ctx: Context, n: int) -> str:
        await gate.pass_()
        for i in range(1, n + 1):
            await ctx.progress(i, n)
        return f"{n} steps"

    @server.tool(task=True)
    async def broken() -> str:
        await gate.pass_()
        raise ToolError("the disk is full")

    @server.tool(task=True)
    async def refusing() -> str:
        await gate.pass_()
        raise McpError(codes.INVALID_PARAMS, "no such thing", {"why": "test"})

    @server.tool(task="required")
    async def asking(ctx: Context) -> str:
        answer = await ctx.elicit(
            "Your name?", {"type": "object", "properties": {"n": {"type": "string"}}}
        )
        return f"hello {answer.data['n'] if answer.data else '?'}"

    return server


def elicit(params: Any) -> ElicitResult:
    return ElicitResult(action="accept", content={"n": "Ada"})


async def test_optional_and_required_tools_called_as_tasks_return_the_plain_result() -> None:
    gate = Gate()
    gate.go.set()
    async with Client(make_server(gate)) as client:
        plain = await client.call_tool("double", {"x": 21})
        as_task = await client.call_tool("double", {"x": 21}, task=True)
        assert (as_task.content, as_task.structured_content) == (plain.content, {"result": 42})
        assert as_task.meta is not None and RELATED in as_task.meta  # as tasks/result has it
        assert (await client.call_tool("steps", {"n": 2}, task=60_000)).text == "2 steps"
        with pytest.raises(McpError) as refused:  # required: a plain call is -32601
            await client.call_tool("steps", {"n": 2})
        assert refused.value.code == codes.METHOD_NOT_FOUND


async def test_a_handle_sees_working_then_completed_with_progress_after_creation() -> None:
    gate = Gate()
    seen: list[float] = []
    async with Client(make_server(gate)) as client:
        handle = await client.call_tool_as_task(
            "steps", {"n": 3}, ttl=60_000, progress=lambda p, t, m: seen.append(p)
        )
        assert handle.status == "working" and handle.task.ttl == 60_000
        await gate.started.wait()
        assert (await handle.refresh()).status == "working"
        gate.go.set()
        assert (await handle.wait(timeout=10)).status == "completed"
        assert (await handle.result(timeout=10)).text == "3 steps"
    assert seen == [1, 2, 3]


async def test_failures_a_tool_error_and_a_stored_json_rpc_error() -> None:
    gate = Gate()
    gate.go.set()
    async with Client(make_server(gate)) as client:
        broken = await client.call_tool_as_task("broken")
        final = await broken.wait(timeout=10)
        assert final.status == "failed" and "the disk is full" in (final.status_message or "")
        assert (await broken.result()).is_error
        with pytest.raises(McpError, match="no such thing") as caught:
            await client.call_tool("refusing", task=True, timeout=10)
        assert (caught.value.code, caught.value.data) == (codes.INVALID_PARAMS, {"why": "test"})


async def test_cancel_is_final_and_a_second_cancel_is_refused() -> None:
    gate = Gate()
    async with Client(make_server(gate)) as client:
        handle = await client.call_tool_as_task("double", {"x": 1})
        await gate.started.wait()
        assert (await handle.cancel()).status == "cancelled"
        with pytest.raises(McpError, match="terminal") as again:
            await handle.cancel()
        assert again.value.code == codes.INVALID_PARAMS
        with pytest.raises(McpError) as no_result:
            await handle.result(timeout=10)
        assert no_result.value.code == codes.INVALID_PARAMS
        with pytest.raises(McpError) as unknown:
            await client.get_task("no-such-task")
        assert unknown.value.code == codes.INVALID_PARAMS


async def test_input_required_is_answered_by_the_clients_elicitation_handler() -> None:
    statuses: list[str] = []

    def on_notification(method: str, params: Any) -> None:
        if method == "notifications/tasks/status":
            statuses.append(params.status)

    async with Client(
        make_server(Gate()), elicitation_handler=elicit, on_notification=on_notification
    ) as client:
        handle = await client.call_tool_as_task("asking")
        assert (await handle.wait(timeout=10)).status == "completed"
        assert (await handle.result(timeout=10)).text == "hello Ada"
        assert (await client.call_tool("asking", task=True, timeout=10)).text == "hello Ada"
    assert "input_required" in statuses and statuses[-1] == "completed"


async def test_a_reconnecting_client_fetches_the_result_by_id() -> None:
    gate = Gate()
    gate.go.set()
    server = make_server(gate)
    async with Client(server) as first:
        handle = await first.call_tool_as_task("double", {"x": 5})
        await handle.wait(timeout=10)
    async with Client(server) as second:
        again = await second.task_handle(handle.id)
        assert again.status == "completed"
        assert (await again.result(timeout=10)).structured_content == {"result": 10}


async def test_a_client_that_left_mid_task_fetches_the_result_on_a_new_connection() -> None:
    gate = Gate()
    server = make_server(gate)
    async with Client(server) as keeper:  # the in-process server lives while a session does
        async with Client(server) as first:
            task_id = (await first.call_tool_as_task("double", {"x": 5})).id
            await gate.started.wait()
        gate.go.set()
        async with Client(server) as second:
            handle = await second.task_handle(task_id)
            assert (await handle.result(timeout=10)).structured_content == {"result": 10}
            assert (await second.get_task(task_id)).status == "completed"
        await keeper.ping()


@pytest.mark.parametrize("how", ["task cancelled", "as_task cancelled", "timeout"])
async def test_a_caller_cancelled_while_its_task_is_made_cancels_that_task(how: str) -> None:
    # The caller gives up while the server's answer, the task it made, is on its way or read
    # already: the client sent notifications/cancelled for the request (which must not cancel
    # a task) or dropped the answer, and the server's task was left working. tasks/cancel is
    # the spec's way ("Cancellation"). A timeout that expires at the caller's first await is
    # the same: the request is out, or about to be.
    gate = Gate()
    async with asyncio.timeout(10), Client(make_server(gate)) as client:

        async def call() -> None:
            if how == "as_task cancelled":
                await client.call_tool_as_task("double", {"x": 2})
            elif how == "task cancelled":
                await client.call_tool("double", {"x": 2}, task=True)
            else:
                async with asyncio.timeout(0):
                    await client.call_tool("double", {"x": 2}, task=True)

        calling = asyncio.ensure_future(call())
        if how != "timeout":
            await gate.started.wait()  # the server's task runs: its answer is on its way
            calling.cancel()
        with pytest.raises(TimeoutError if how == "timeout" else asyncio.CancelledError):
            await calling
        await gate.cancelled.wait()  # the server's task was cancelled (tasks/cancel)
        gate.go.set()
        assert (await client.call_tool("double", {"x": 3}, task=True)).text == "6"


async def test_a_2026_call_followed_as_a_task_and_given_up_on_cancels_that_task() -> None:
    # Under 2026-07-28 the server makes the call a task (the tasks extension) and call_tool
    # follows it with tasks/get: a caller that gives up meanwhile cancels the task with
    # tasks/cancel, or it would run on with nobody to read what it comes to.
    gate = Gate()
    polled = asyncio.Event()

    async def seen(ctx: Context, params: Any, call_next: Any) -> Any:
        if ctx.method == "tasks/get":
            polled.set()
        return await call_next(params)

    server = make_server(gate)
    server.add_middleware(seen)
    async with asyncio.timeout(10), Client.func(server) as client:
        assert client.protocol_version == "2026-07-28"
        calling = asyncio.ensure_future(client.call_tool("double", {"x": 2}))
        await polled.wait()  # call_tool has the task's handle and follows it
        calling.cancel()
        with pytest.raises(asyncio.CancelledError):
            await calling
        await gate.cancelled.wait()  # the server's task was cancelled (tasks/cancel)
        gate.go.set()
        assert (await client.call_tool("double", {"x": 3})).text == "6"
