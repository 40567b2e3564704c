"""Task-augmented tools/call on the server (basic/utilities/tasks), on the wire: a raw peer
speaks JSON-RPC to a real Server over the in-memory pair."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mcpkit import Context, Server, ToolError
from mcpkit.errors import McpError
from mcpkit.protocol import codes
from mcpkit.stores.tasks import MemoryTaskStore
from mcpkit.testing import raw_session

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


def make_server(gate: Gate, **options: Any) -> Server:
    server = Server("tasks", **options)

    @server.tool(task=True)
    async def slow(x: int) -> int:
        """Doubles x, when let."""
        await gate.pass_()
        return 2 * x

    @server.tool(task="required")
    async def must(ctx: Context) -> str:
        await gate.pass_()
        return "done"

    @server.tool
    def plain() -> str:
        return "plain"

    @server.tool(task=True)
    async def broken() -> str:
        await gate.pass_()
        raise ToolError("the disk is full")

    @server.tool(task=True)
    async def refusing() -> str:
        await gate.pass_()
        raise McpError(codes.INVALID_PARAMS, "no such thing", {"why": "test"})

    @server.tool(task=True)
    async def asking(ctx: Context) -> str:
        answer = await ctx.elicit(
            "Your name?", {"type": "object", "properties": {"n": {"type": "string"}}}
        )
        await ctx.progress(1, 2)
        await ctx.info("asked")
        return f"hello {answer.data['n'] if answer.data else '?'}"

    return server


def ok(reply: dict[str, Any]) -> Any:
    assert "result" in reply, reply
    return reply["result"]


def error_of(reply: dict[str, Any]) -> dict[str, Any]:
    assert "error" in reply, reply
    return reply["error"]


async def created(peer: Any, name: str, args: dict[str, Any] | None = None, **task: Any) -> str:
    result = ok(
        await peer.request("tools/call", {"name": name, "arguments": args or {}, "task": task})
    )
    assert result["task"]["status"] == "working"
    return str(result["task"]["taskId"])


async def test_capabilities_and_tool_execution_are_declared() -> None:
    server = make_server(Gate())
    async with raw_session(server, initialize=False) as peer:
        init = await peer.initialize()
        assert init["capabilities"]["tasks"] == {"cancel": {}, "requests": {"tools": {"call": {}}}}
        tools = {t["name"]: t for t in ok(await peer.request("tools/list"))["tools"]}
        assert tools["slow"]["execution"] == {"taskSupport": "optional"}
        assert tools["must"]["execution"] == {"taskSupport": "required"}
        assert "execution" not in tools["plain"]
        # Without authorization requestors cannot be told apart: no tasks/list (Security).
        assert error_of(await peer.request("tasks/list"))["code"] == codes.METHOD_NOT_FOUND


async def test_a_server_without_task_tools_ignores_the_task_field() -> None:
    server = Server("plain")

    @server.tool
    def add(a: int, b: int) -> int:
        return a + b

    async with raw_session(server, initialize=False) as peer:
        init = await peer.initialize()
        assert "tasks" not in init["capabilities"]
        reply = await peer.request(
            "tools/call", {"name": "add", "arguments": {"a": 1, "b": 2}, "task": {}}
        )
        assert ok(reply)["structuredContent"] == {"result": 3}
        assert (
            error_of(await peer.request("tasks/get", {"taskId": "x"}))["code"]
            == codes.METHOD_NOT_FOUND
        )


async def test_working_then_completed_then_the_plain_calls_result() -> None:
    gate = Gate()
    async with raw_session(make_server(gate)) as peer:
        reply = ok(
            await peer.request(
                "tools/call", {"name": "slow", "arguments": {"x": 21}, "task": {"ttl": 60000}}
            )
        )
        task = reply["task"]
        assert task["ttl"] == 60000 and task["pollInterval"] == 1000
        assert task["createdAt"].endswith("Z") and task["lastUpdatedAt"]
        tid = task["taskId"]
        await gate.started.wait()
        got = ok(await peer.request("tasks/get", {"taskId": tid}))
        assert got["status"] == "working" and got["taskId"] == tid
        gate.go.set()
        result = ok(await peer.request("tasks/result", {"taskId": tid}))
        assert result.pop("_meta") == {RELATED: {"taskId": tid}}
        plain = ok(await peer.request("tools/call", {"name": "slow", "arguments": {"x": 21}}))
        assert result == plain  # exactly what the plain call returns
        assert ok(await peer.request("tasks/get", {"taskId": tid}))["status"] == "completed"
        # Fetching twice gives the same answer.
        assert ok(await peer.request("tasks/result", {"taskId": tid}))["structuredContent"] == {
            "result": 42
        }


async def test_tasks_result_blocks_until_the_task_ends() -> None:
    gate = Gate()
    async with raw_session(make_server(gate)) as peer:
        tid = await created(peer, "slow", {"x": 1})
        await peer.send(
            {"jsonrpc": "2.0", "id": "r", "method": "tasks/result", "params": {"taskId": tid}}
        )
        await gate.started.wait()
        waiting = asyncio.ensure_future(peer.response_to("r"))
        await asyncio.sleep(0)
        for _ in range(5):
            await asyncio.sleep(0)
        assert not waiting.done()
        gate.go.set()
        assert ok(await waiting)["structuredContent"] == {"result": 2}


async def test_status_notifications_follow_the_task() -> None:
    gate = Gate()
    gate.go.set()
    async with raw_session(make_server(gate)) as peer:
        tid = await created(peer, "slow", {"x": 1})
        ok(await peer.request("tasks/result", {"taskId": tid}))
        note = await peer.receive()
        assert note["method"] == "notifications/tasks/status"
        assert note["params"]["taskId"] == tid and note["params"]["status"] == "completed"
        assert RELATED not in note["params"].get("_meta", {})


async def test_a_tool_error_fails_the_task_with_the_result_kept() -> None:
    gate = Gate()
    gate.go.set()
    async with raw_session(make_server(gate)) as peer:
        tid = await created(peer, "broken")
        result = ok(await peer.request("tasks/result", {"taskId": tid}))
        assert result["isError"] is True
        assert "the disk is full" in result["content"][0]["text"]
        got = ok(await peer.request("tasks/get", {"taskId": tid}))
        assert got["status"] == "failed"
        assert "the disk is full" in got["statusMessage"]


async def test_a_protocol_error_is_returned_as_that_error() -> None:
    gate = Gate()
    gate.go.set()
    async with raw_session(make_server(gate)) as peer:
        tid = await created(peer, "refusing")
        err = error_of(await peer.request("tasks/result", {"taskId": tid}))
        assert err == {
            "code": codes.INVALID_PARAMS,
            "message": "no such thing",
            "data": {"why": "test"},
        }
        assert ok(await peer.request("tasks/get", {"taskId": tid}))["status"] == "failed"


async def test_cancel_stops_the_work_and_is_final() -> None:
    gate = Gate()
    async with raw_session(make_server(gate)) as peer:
        tid = await created(peer, "slow", {"x": 1})
        await gate.started.wait()
        cancelled = ok(await peer.request("tasks/cancel", {"taskId": tid}))
        assert cancelled["status"] == "cancelled" and cancelled["taskId"] == tid
        await asyncio.wait_for(gate.cancelled.wait(), 5)
        again = error_of(await peer.request("tasks/cancel", {"taskId": tid}))
        assert again["code"] == codes.INVALID_PARAMS and "terminal" in again["message"]
        assert ok(await peer.request("tasks/get", {"taskId": tid}))["status"] == "cancelled"
        err = error_of(await peer.request("tasks/result", {"taskId": tid}))
        assert err["code"] == codes.INVALID_PARAMS and "cancelled" in err["message"]


async def test_cancel_wakes_a_waiting_tasks_result() -> None:
    gate = Gate()
    async with raw_session(make_server(gate)) as peer:
        tid = await created(peer, "slow", {"x": 1})
        await peer.send(
            {"jsonrpc": "2.0", "id": "r", "method": "tasks/result", "params": {"taskId": tid}}
        )
        await gate.started.wait()
        ok(await peer.request("tasks/cancel", {"taskId": tid}))
        assert error_of(await peer.response_to("r"))["code"] == codes.INVALID_PARAMS


async def test_task_support_is_enforced_per_tool() -> None:
    gate = Gate()
    gate.go.set()
    async with raw_session(make_server(gate)) as peer:
        plain = await peer.request("tools/call", {"name": "plain", "arguments": {}, "task": {}})
        assert error_of(plain)["code"] == codes.METHOD_NOT_FOUND
        must = await peer.request("tools/call", {"name": "must", "arguments": {}})
        assert error_of(must)["code"] == codes.METHOD_NOT_FOUND
        assert "task" in error_of(must)["message"]
        tid = await created(peer, "must")
        assert (
            ok(await peer.request("tasks/result", {"taskId": tid}))["content"][0]["text"] == "done"
        )
        # Optional: both ways work.
        assert ok(await peer.request("tools/call", {"name": "slow", "arguments": {"x": 2}}))[
            "structuredContent"
        ] == {"result": 4}


@pytest.mark.parametrize("method", ["tasks/get", "tasks/result", "tasks/cancel"])
async def test_unknown_tasks_are_invalid_params(method: str) -> None:
    async with raw_session(make_server(Gate())) as peer:
        err = error_of(await peer.request(method, {"taskId": "no-such-task"}))
        assert err["code"] == codes.INVALID_PARAMS and "not found" in err["message"]


async def test_ttl_is_capped_and_an_expired_task_is_gone() -> None:
    now = [1_700_000_000.0]
    store = MemoryTaskStore(clock=lambda: now[0], default_ttl=5_000, max_ttl=10_000)
    gate = Gate()
    gate.go.set()
    async with raw_session(make_server(gate, task_store=store)) as peer:
        reply = ok(
            await peer.request(
                "tools/call", {"name": "slow", "arguments": {"x": 1}, "task": {"ttl": 99_999_999}}
            )
        )
        tid = reply["task"]["taskId"]
        assert reply["task"]["ttl"] == 10_000
        ok(await peer.request("tasks/result", {"taskId": tid}))
        now[0] += 11
        err = error_of(await peer.request("tasks/get", {"taskId": tid}))
        assert err["code"] == codes.INVALID_PARAMS
        bad = error_of(
            await peer.request(
                "tools/call", {"name": "slow", "arguments": {"x": 1}, "task": {"ttl": -5}}
            )
        )
        assert bad["code"] == codes.INVALID_PARAMS


async def test_input_required_then_the_request_travels_with_tasks_result() -> None:
    server = make_server(Gate())
    caps = {"elicitation": {"form": {}}}
    async with raw_session(server, initialize=False) as peer:
        await peer.initialize(capabilities=caps)
        call = {"name": "asking", "arguments": {}, "task": {}, "_meta": {"progressToken": "p1"}}
        tid = ok(await peer.request("tools/call", call))["task"]["taskId"]
        # The tool is waiting for its elicitation: input_required, announced.
        note = await peer.receive()
        assert note["method"] == "notifications/tasks/status"
        assert note["params"]["status"] == "input_required"
        assert ok(await peer.request("tasks/get", {"taskId": tid}))["status"] == "input_required"
        await peer.send(
            {"jsonrpc": "2.0", "id": "r", "method": "tasks/result", "params": {"taskId": tid}}
        )
        ask = await peer.receive()
        assert ask["method"] == "elicitation/create"
        assert ask["params"]["_meta"][RELATED] == {"taskId": tid}
        await peer.send(
            {
                "jsonrpc": "2.0",
                "id": ask["id"],
                "result": {"action": "accept", "content": {"n": "Ada"}},
            }
        )
        result = ok(await peer.response_to("r"))
        assert result["content"][0]["text"] == "hello Ada"
        seen = []
        while True:
            try:
                seen.append(await asyncio.wait_for(peer.receive(), 0.5))
            except TimeoutError:
                break
        methods = [m.get("method") for m in seen]
        assert "notifications/progress" in methods and "notifications/message" in methods
        progress = next(m for m in seen if m.get("method") == "notifications/progress")
        assert progress["params"]["progressToken"] == "p1"
        assert progress["params"]["_meta"][RELATED] == {"taskId": tid}
        statuses = [
            m["params"]["status"] for m in seen if m.get("method") == "notifications/tasks/status"
        ]
        assert statuses == ["working", "completed"]


async def test_a_def_tool_runs_as_a_task_in_a_worker_thread() -> None:
    """`def` tools run in worker threads as tasks too; a cancelled one runs on in its thread
    (threads cannot be stopped) and its outcome is dropped: the task stays cancelled."""
    import threading

    server = Server("sync-tasks")
    release = threading.Event()
    started = threading.Event()
    returned = threading.Event()

    @server.tool(task=True)
    def blocking(x: int) -> int:
        started.set()
        release.wait(5)
        returned.set()
        return x + 1

    async with raw_session(server) as peer:
        tid = await created(peer, "blocking", {"x": 1})
        await asyncio.to_thread(started.wait, 5)
        assert ok(await peer.request("tasks/get", {"taskId": tid}))["status"] == "working"
        release.set()
        assert ok(await peer.request("tasks/result", {"taskId": tid}))["structuredContent"] == {
            "result": 2
        }
        release.clear()
        started.clear()
        tid = await created(peer, "blocking", {"x": 1})
        await asyncio.to_thread(started.wait, 5)
        ok(await peer.request("tasks/cancel", {"taskId": tid}))
        returned.clear()
        release.set()  # the thread finishes; its result must not revive the task
        assert await asyncio.to_thread(returned.wait, 5)
        assert ok(await peer.request("tasks/get", {"taskId": tid}))["status"] == "cancelled"
