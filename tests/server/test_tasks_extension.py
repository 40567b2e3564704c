"""The tasks extension (2026-07-28, SEP-2663) through the real server: requests that carry
their own terms, beside a 2025-11-25 session on the same store."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest

from mcpkit import Context, Server, ToolError
from mcpkit.errors import McpError
from mcpkit.protocol import codes
from mcpkit.stores.task_runner import UNANSWERED
from mcpkit.stores.tasks import MemoryTaskStore
from mcpkit.testing import raw_session

EXT = "io.modelcontextprotocol/tasks"
REVISION = "2026-07-28"
RELATED = "io.modelcontextprotocol/related-task"
SCHEMA = {"type": "object", "properties": {"name": {"type": "string"}}}


class Gate:
    """Lets a test hold a tool until it says go."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.go = asyncio.Event()

    async def pass_(self) -> None:
        self.started.set()
        await self.go.wait()


def make_server(gate: Gate) -> Server:
    server = Server("tasks-ext")

    @server.tool
    def greet(name: str) -> str:
        return f"Hello, {name}!"

    @server.tool(task=True)
    async def slow(x: int) -> int:
        await gate.pass_()
        return x * 2

    @server.tool(task="required")
    async def must() -> str:
        return "done"

    @server.tool(task=True)
    async def tool_error() -> str:
        raise ToolError("no luck")

    @server.tool(task=True)
    async def broken() -> str:
        raise McpError(codes.INVALID_PARAMS, "bad input, found late")

    @server.tool(task=True)
    async def asking(ctx: Context) -> str:
        first, second = await asyncio.gather(
            ctx.elicit("First?", SCHEMA), ctx.elicit("Second?", SCHEMA)
        )
        return f"{first.data}/{second.data}"

    @server.tool(task="required", task_begins="in_handler")
    async def ask_then_task(ctx: Context) -> str:
        answer = await ctx.elicit("Name?", SCHEMA, key="who")
        began = await ctx.begin_task()
        return f"{answer.data['name'] if answer.data else '?'} began={began}"

    @server.tool(task=True, task_begins="in_handler")
    async def maybe_task(ctx: Context) -> str:
        return f"began={await ctx.begin_task()}"

    return server


def meta(extension: bool = True, **capabilities: Any) -> dict[str, Any]:
    caps: dict[str, Any] = dict(capabilities)
    if extension:
        caps["extensions"] = {EXT: {}}
    return {
        "io.modelcontextprotocol/protocolVersion": REVISION,
        "io.modelcontextprotocol/clientCapabilities": caps,
    }


async def call(peer: Any, method: str, params: dict[str, Any], **how: Any) -> dict[str, Any]:
    reply: dict[str, Any] = await peer.request(method, {**params, "_meta": meta(**how)})
    return reply


def ok(reply: dict[str, Any]) -> Any:
    assert "result" in reply, reply
    return reply["result"]


def error_of(reply: dict[str, Any]) -> dict[str, Any]:
    assert "error" in reply, reply
    return reply["error"]


async def get(peer: Any, task_id: str) -> dict[str, Any]:
    got: dict[str, Any] = ok(await call(peer, "tasks/get", {"taskId": task_id}))
    return got


async def until(peer: Any, task_id: str, *statuses: str) -> dict[str, Any]:
    """tasks/get until the task is in one of `statuses` (bounded, as a client polls)."""
    for _ in range(500):
        got = await get(peer, task_id)
        if got["status"] in statuses:
            return got
        await asyncio.sleep(0.01)
    raise AssertionError(f"task {task_id} never reached {statuses}: {got}")


async def test_discover_lists_the_extension_and_a_2025_handshake_keeps_its_tasks() -> None:
    server = make_server(Gate())
    async with raw_session(server, initialize=False) as peer:
        caps = ok(await call(peer, "server/discover", {}))["capabilities"]
        assert caps["extensions"] == {EXT: {}} and "tasks" not in caps
    async with raw_session(server, initialize=False) as peer:
        init = await peer.initialize()
        assert "tasks" in init["capabilities"] and "extensions" not in init["capabilities"]


@pytest.mark.parametrize("method", ["tasks/get", "tasks/update", "tasks/cancel"])
async def test_the_methods_need_the_extension_in_the_request(method: str) -> None:
    async with raw_session(make_server(Gate()), initialize=False) as peer:
        params: dict[str, Any] = {"taskId": "t", "inputResponses": {}}
        error = error_of(await call(peer, method, params, extension=False))
        assert error["code"] == codes.MISSING_REQUIRED_CLIENT_CAPABILITY
        assert error["data"] == {"requiredCapabilities": {"extensions": {EXT: {}}}}
        # With it, an unknown task is invalid params.
        assert error_of(await call(peer, method, params))["code"] == codes.INVALID_PARAMS


@pytest.mark.parametrize("method", ["tasks/result", "tasks/list"])
async def test_the_2025_only_methods_do_not_exist_under_2026(method: str) -> None:
    async with raw_session(make_server(Gate()), initialize=False) as peer:
        reply = await call(peer, method, {"taskId": "t"})
        assert error_of(reply)["code"] == codes.METHOD_NOT_FOUND


async def test_without_the_extension_a_call_is_served_in_the_call() -> None:
    gate = Gate()
    gate.go.set()
    async with raw_session(make_server(gate), initialize=False) as peer:
        plain = ok(
            await call(peer, "tools/call", {"name": "slow", "arguments": {"x": 2}}, extension=False)
        )
        assert plain["resultType"] == "complete" and plain["structuredContent"] == {"result": 4}
        error = error_of(await call(peer, "tools/call", {"name": "must"}, extension=False))
        assert error["code"] == codes.MISSING_REQUIRED_CLIENT_CAPABILITY
        assert error["data"]["requiredCapabilities"] == {"extensions": {EXT: {}}}
        # A tool without task support is never a task, even with the legacy `task` field.
        greeted = ok(
            await call(
                peer, "tools/call", {"name": "greet", "arguments": {"name": "A"}, "task": {}}
            )
        )
        assert greeted["resultType"] == "complete" and "taskId" not in greeted


async def test_a_task_is_created_then_polled_to_its_inlined_result() -> None:
    gate = Gate()
    async with raw_session(make_server(gate), initialize=False) as peer:
        handle = ok(await call(peer, "tools/call", {"name": "slow", "arguments": {"x": 21}}))
        assert handle["resultType"] == "task" and handle["status"] == "working"
        assert isinstance(handle["ttlMs"], int) and handle["pollIntervalMs"] == 1000
        assert not {"task", "ttl", "pollInterval", "result", "requestState"} & handle.keys()
        tid = handle["taskId"]
        await gate.started.wait()
        working = await get(peer, tid)
        assert working["status"] == "working" and working["resultType"] == "complete"
        assert "result" not in working
        gate.go.set()
        done = await until(peer, tid, "completed")
        assert done["result"]["structuredContent"] == {"result": 42}
        assert RELATED not in (done["result"].get("_meta") or {})


async def test_tool_errors_complete_and_protocol_errors_fail() -> None:
    async with raw_session(make_server(Gate()), initialize=False) as peer:
        tid = ok(await call(peer, "tools/call", {"name": "tool_error"}))["taskId"]
        done = await until(peer, tid, "completed", "failed")
        assert done["status"] == "completed" and done["result"]["isError"] is True
        tid = ok(await call(peer, "tools/call", {"name": "broken"}))["taskId"]
        failed = await until(peer, tid, "completed", "failed")
        assert failed["status"] == "failed" and "result" not in failed
        assert failed["error"] == {"code": codes.INVALID_PARAMS, "message": "bad input, found late"}


async def test_cancel_is_an_empty_ack_even_for_an_ended_task() -> None:
    gate = Gate()
    async with raw_session(make_server(gate), initialize=False) as peer:
        tid = ok(await call(peer, "tools/call", {"name": "slow", "arguments": {"x": 1}}))["taskId"]
        await gate.started.wait()
        ack = ok(await call(peer, "tasks/cancel", {"taskId": tid}))
        assert ack.keys() == {"resultType", "_meta"} and ack["resultType"] == "complete"
        assert (await get(peer, tid))["status"] == "cancelled"
        again = ok(await call(peer, "tasks/cancel", {"taskId": tid}))
        assert again["resultType"] == "complete" and "status" not in again


async def test_questions_wait_in_input_requests_until_tasks_update() -> None:
    async with raw_session(make_server(Gate()), initialize=False) as peer:
        tid = ok(await call(peer, "tools/call", {"name": "asking"}, elicitation={}))["taskId"]
        for _ in range(500):
            waiting = await get(peer, tid)
            if len(waiting.get("inputRequests") or {}) == 2:
                break
            await asyncio.sleep(0.01)
        assert waiting["status"] == "input_required"
        first, second = waiting["inputRequests"]
        assert waiting["inputRequests"][first]["method"] == "elicitation/create"
        answer = {"action": "accept", "content": {"name": "one"}}
        update = {"taskId": tid, "inputResponses": {first: answer, "never-asked": {}}}
        ack = ok(await call(peer, "tasks/update", update))
        assert ack.keys() == {"resultType", "_meta"}
        partial = await get(peer, tid)
        assert partial["status"] == "input_required"
        assert list(partial["inputRequests"]) == [second]
        answer = {"action": "accept", "content": {"name": "two"}}
        ok(await call(peer, "tasks/update", {"taskId": tid, "inputResponses": {second: answer}}))
        done = await until(peer, tid, "completed")
        assert done["result"]["content"][0]["text"] == "{'name': 'one'}/{'name': 'two'}"


async def test_a_tool_asks_in_the_call_then_goes_on_as_a_task() -> None:
    async with raw_session(make_server(Gate()), initialize=False) as peer:
        params: dict[str, Any] = {"name": "ask_then_task"}
        first = ok(await call(peer, "tools/call", params, elicitation={}))
        assert first["resultType"] == "input_required" and "taskId" not in first
        assert list(first["inputRequests"]) == ["who"]
        retry = {
            **params,
            "inputResponses": {"who": {"action": "accept", "content": {"name": "Ada"}}},
            "requestState": first["requestState"],
        }
        handle = ok(await call(peer, "tools/call", retry, elicitation={}))
        assert handle["resultType"] == "task" and "requestState" not in handle
        done = await until(peer, handle["taskId"], "completed")
        assert done["result"]["content"][0]["text"] == "Ada began=True"


async def test_begin_task_is_a_no_op_where_the_call_is_served_in_the_call() -> None:
    server = make_server(Gate())
    async with raw_session(server) as session:  # 2025-11-25
        reply = ok(await session.request("tools/call", {"name": "maybe_task"}))
        assert reply["content"][0]["text"] == "began=False"
    async with raw_session(server, initialize=False) as peer:
        plain = ok(await call(peer, "tools/call", {"name": "maybe_task"}, extension=False))
        assert plain["content"][0]["text"] == "began=False"
        handle = ok(await call(peer, "tools/call", {"name": "maybe_task"}))
        done = await until(peer, handle["taskId"], "completed")
        assert done["result"]["content"][0]["text"] == "began=True"


async def test_both_eras_share_the_one_task_store() -> None:
    server = make_server(Gate())
    async with raw_session(server) as session:  # 2025-11-25
        created = ok(await session.request("tools/call", {"name": "must", "task": {}}))
        tid = created["task"]["taskId"]
        result = ok(await session.request("tasks/result", {"taskId": tid}))
        assert result["content"][0]["text"] == "done"
    async with raw_session(server, initialize=False) as peer:
        got = await get(peer, tid)
        assert got["status"] == "completed" and got["result"]["content"][0]["text"] == "done"


async def test_a_listen_that_follows_a_task_gets_its_status_changes() -> None:
    gate = Gate()
    async with raw_session(make_server(gate), initialize=False) as peer:
        tid = ok(await call(peer, "tools/call", {"name": "slow", "arguments": {"x": 5}}))["taskId"]
        await gate.started.wait()
        refused = await call(
            peer, "subscriptions/listen", {"notifications": {"taskIds": [tid]}}, extension=False
        )
        assert error_of(refused)["code"] == codes.MISSING_REQUIRED_CLIENT_CAPABILITY
        follow = {"notifications": {"taskIds": [tid, "not-a-task"]}, "_meta": meta()}
        await peer.send(
            {"jsonrpc": "2.0", "id": "L", "method": "subscriptions/listen", "params": follow}
        )
        ack = await peer.receive()
        assert ack["method"] == "notifications/subscriptions/acknowledged"
        assert ack["params"]["notifications"] == {"taskIds": [tid]}
        gate.go.set()
        status = await peer.receive()
        assert status["method"] == "notifications/tasks"
        assert status["params"]["taskId"] == tid and status["params"]["status"] == "completed"
        assert status["params"]["result"]["structuredContent"] == {"result": 10}
        assert status["params"]["_meta"] == {"io.modelcontextprotocol/subscriptionId": "L"}
        await peer.notify("notifications/cancelled", {"requestId": "L"})


async def test_a_server_without_task_tools_serves_no_extension() -> None:
    server = Server("plain")

    @server.tool
    def add(a: int, b: int) -> int:
        return a + b

    async with raw_session(server, initialize=False) as peer:
        caps = ok(await call(peer, "server/discover", {}))["capabilities"]
        assert "extensions" not in caps
        error = error_of(await call(peer, "tasks/get", {"taskId": "t"}))
        assert error["code"] == codes.METHOD_NOT_FOUND


def calls_of(server: Server) -> list[asyncio.Task[Any]]:
    """The asyncio tasks that serve `server`'s tools/call requests, as they come: a test
    cancels one as its connection's going would."""
    calls: list[asyncio.Task[Any]] = []

    async def note_the_call(ctx: Context, params: Any, call_next: Any) -> Any:
        if ctx.method == "tools/call":
            task = asyncio.current_task()
            assert task is not None
            calls.append(task)
        return await call_next(params)

    server.add_middleware(note_the_call)
    return calls


async def send_call(peer: Any, tool: str) -> None:
    """A 2026 tools/call declaring the extension, its answer not waited for."""
    params = {"name": tool, "_meta": meta()}
    await peer.send({"jsonrpc": "2.0", "id": "c", "method": "tools/call", "params": params})


async def test_a_call_cancelled_as_its_task_began_cancels_the_task() -> None:
    """The call (its connection gone) is cancelled the moment `ctx.begin_task()` made the
    task, before the handle was answered: nobody could ever poll or cancel that task, so it
    is cancelled, and its work stopped."""
    server = Server("orphans")
    calls = calls_of(server)
    began: list[str] = []
    stopped = asyncio.Event()

    @server.tool(task="required", task_begins="in_handler")
    async def begins(ctx: Context) -> str:
        await ctx.begin_task()
        assert ctx.task is not None
        began.append(ctx.task.id)
        calls[0].cancel()  # the call goes: its handle is answered to nobody
        try:
            await asyncio.sleep(3600)
        finally:
            stopped.set()
        return "never"

    async with raw_session(server, initialize=False) as peer:
        await send_call(peer, "begins")
        async with asyncio.timeout(5):
            await stopped.wait()
        got = await until(peer, began[0], "cancelled", "completed", "failed")
        assert got["status"] == "cancelled" and got["statusMessage"] == UNANSWERED


async def test_a_call_given_up_on_before_its_task_began_begins_none() -> None:
    """The call is cancelled while the tool still runs in it, and the tool swallows the
    cancellation and calls `ctx.begin_task()`: there is no call left to answer with the
    handle, so no task begins (False), rather than one nobody will ever know of."""
    server = Server("late-begin")
    calls = calls_of(server)
    waiting = asyncio.Event()
    began: list[bool] = []

    @server.tool(task="required", task_begins="in_handler")
    async def stubborn(ctx: Context) -> str:
        waiting.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            pass  # (a tool that will not stop)
        began.append(await ctx.begin_task())
        return "done"

    async with raw_session(server, initialize=False) as peer:
        await send_call(peer, "stubborn")
        async with asyncio.timeout(5):
            await waiting.wait()
            calls[0].cancel()
            while not began:
                await asyncio.sleep(0.01)
        assert began == [False]
        assert len(server.task_runner) == 0
        assert len(cast("MemoryTaskStore", server.task_runner.store)) == 0
