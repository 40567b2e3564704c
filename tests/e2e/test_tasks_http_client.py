"""Tasks over Streamable HTTP with mcpkit's own Client, through its generic `request` (the wire
as the spec writes it) and its requestor API (`call_tool_as_task`, `ClientTask`): a task
created and fetched, a task that elicits answered by the client's handler on the tasks/result
stream, a cancellation, and a result fetched by a new client after the first one closed, in
SSE and in JSON answers."""

from __future__ import annotations

import asyncio
import functools
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))

from _serving import WAIT, serving
from _tasks_http import RELATED, Gate, make_server

from mcpkit import Client
from mcpkit.client.results import ToolResult
from mcpkit.errors import McpError
from mcpkit.protocol import codes
from mcpkit.types import CreateTaskResult, ElicitResult, GetTaskResult

# These tests are about the 2025-11-25 session (what the server sends the client, its errors
# and notifications as that revision has them): the client is pinned to it. docs/eras.md says
# what 2026-07-28 does instead; tests/server/test_modern_revision.py and
# tests/client/test_client_modern.py cover it.
Client = functools.partial(Client, protocol="2025-11-25")


MODES = pytest.mark.parametrize("json_response", [False, True], ids=["sse", "json"])


def elicit(params: Any) -> ElicitResult:
    assert params.meta is not None and RELATED in params.meta  # the task's request
    return ElicitResult(action="accept", content={"n": "Grace"})


async def create(client: Client, name: str, args: dict[str, Any]) -> str:
    params = {"name": name, "arguments": args, "task": {"ttl": 60_000}}
    created = await client.request("tools/call", params)
    assert isinstance(created, CreateTaskResult) and created.task.status == "working"
    return created.task.task_id


@MODES
async def test_a_task_created_polled_and_fetched(json_response: bool) -> None:
    gate = Gate()
    app = make_server(gate).http_app(json_response=json_response)
    async with asyncio.timeout(WAIT), serving(app) as base, Client(base + "/mcp") as client:
        tid = await create(client, "slow", {"x": 7})
        got = await client.request("tasks/get", {"taskId": tid})
        assert isinstance(got, GetTaskResult) and got.status == "working"
        gate.go.set()
        result = await client.request("tasks/result", {"taskId": tid}, result_type=ToolResult)
        assert isinstance(result, ToolResult) and result.structured_content == {"result": 14}
        assert (await client.request("tasks/get", {"taskId": tid})).status == "completed"


@MODES
async def test_a_task_that_elicits_is_answered_by_the_clients_handler(json_response: bool) -> None:
    gate = Gate()
    gate.go.set()
    app = make_server(gate).http_app(json_response=json_response)
    async with asyncio.timeout(WAIT), serving(app) as base:
        async with Client(base + "/mcp", elicitation_handler=elicit) as client:
            tid = await create(client, "asking", {})
            result = await client.request("tasks/result", {"taskId": tid}, result_type=ToolResult)
    assert result.text == "hello Grace"


async def test_cancel_and_then_the_result_is_an_error() -> None:
    gate = Gate()
    app = make_server(gate).http_app()
    async with asyncio.timeout(WAIT), serving(app) as base, Client(base + "/mcp") as client:
        tid = await create(client, "slow", {"x": 1})
        await gate.started.wait()
        cancelled = await client.request("tasks/cancel", {"taskId": tid})
        assert cancelled.status == "cancelled"
        await gate.cancelled.wait()
        with pytest.raises(McpError) as caught:
            await client.request("tasks/result", {"taskId": tid}, result_type=ToolResult)
        assert caught.value.code == codes.INVALID_PARAMS


async def test_a_new_client_fetches_what_a_closed_one_started() -> None:
    gate = Gate()
    app = make_server(gate).http_app()
    async with asyncio.timeout(WAIT), serving(app) as base:
        async with Client(base + "/mcp") as first:
            tid = await create(first, "slow", {"x": 8})
        assert len(app.sessions) == 0  # closed: DELETE ended its session
        gate.go.set()
        async with Client(base + "/mcp") as second:
            result = await second.request("tasks/result", {"taskId": tid}, result_type=ToolResult)
    assert result.structured_content == {"result": 16}


@MODES
async def test_the_requestor_api_over_http(json_response: bool) -> None:
    gate = Gate()
    app = make_server(gate).http_app(json_response=json_response)
    async with asyncio.timeout(WAIT), serving(app) as base:
        async with Client(base + "/mcp", elicitation_handler=elicit) as client:
            handle = await client.call_tool_as_task("slow", {"x": 10}, ttl=60_000)
            assert handle.status == "working" and (await handle.refresh()).status == "working"
            stopped = await client.call_tool_as_task("slow", {"x": 0})
            assert (await stopped.cancel()).status == "cancelled"
            gate.go.set()
            assert (await handle.result()).structured_content == {"result": 20}
            assert handle.done and handle.status == "completed"
            # call_tool(task=True): the plain call's result, by way of a task.
            assert (await client.call_tool("asking", {}, task=True)).text == "hello Grace"
            started = await client.call_tool_as_task("slow", {"x": 11})
        # Another client takes the task up by its id, from a session of its own.
        async with Client(base + "/mcp") as other:
            again = await other.task_handle(started.id)
            assert (await again.result()).structured_content == {"result": 22}
            with pytest.raises(McpError) as caught:
                await other.cancel_task(started.id)
            assert caught.value.code == codes.INVALID_PARAMS
