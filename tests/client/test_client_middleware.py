"""Client middleware (mcpkit.client.middleware): layers around every request a Client sends,
end to end through the real server over the in-memory pair."""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

import msgspec
import pytest

from mcpkit import Client, Server
from mcpkit.client.middleware import CallNext, OutgoingRequest, RequestLogging
from mcpkit.errors import McpError, RequestTimeout, ToolError
from mcpkit.protocol import codes

# These tests are about the 2025-11-25 session (what the server sends the client, its errors
# and notifications as that revision has them): the client is pinned to it. docs/eras.md says
# what 2026-07-28 does instead; tests/server/test_modern_revision.py and
# tests/client/test_client_modern.py cover it.
Client = functools.partial(Client, protocol="2025-11-25")


def make_server() -> Server:
    server = Server("cmw")

    @server.tool()
    async def add(a: int, b: int) -> int:
        return a + b

    return server


async def test_first_given_is_outermost_and_sees_method_and_params() -> None:
    trail: list[str] = []

    def layer(name: str) -> Any:
        async def mw(request: OutgoingRequest, params: Any, call_next: CallNext) -> Any:
            trail.append(f"{name}> {request.method} {params}")
            result = await call_next(params)
            trail.append(f"<{name}")
            return result

        return mw

    async with Client(make_server(), middleware=[layer("a")]) as client:
        client.add_middleware(layer("b"))
        await client.call_tool("add", {"a": 1, "b": 2})
    call = "tools/call {'name': 'add', 'arguments': {'a': 1, 'b': 2}}"
    assert trail == [f"a> {call}", f"b> {call}", "<b", "<a"]


async def test_a_layer_changes_params_and_replaces_the_result() -> None:
    async def double_a(request: OutgoingRequest, params: Any, call_next: CallNext) -> Any:
        if request.method == "tools/call":
            params = {**params, "arguments": {**params["arguments"], "a": 10}}
        return await call_next(params)

    async def first_tool_only(request: OutgoingRequest, params: Any, call_next: CallNext) -> Any:
        result = await call_next(params)
        if request.method == "tools/list":
            result = msgspec.structs.replace(result, tools=result.tools[:1])
        return result

    async with Client(make_server(), middleware=[first_tool_only, double_a]) as client:
        result = await client.call_tool("add", {"a": 1, "b": 2})
        assert result.structured_content == {"result": 12}
        assert [t.name for t in await client.list_tools()] == ["add"]


async def test_a_layer_may_answer_without_sending() -> None:
    sent: list[str] = []

    async def cache(request: OutgoingRequest, params: Any, call_next: CallNext) -> Any:
        sent.append(request.method)
        if request.method == "ping":
            return {}
        return await call_next(params)

    async with Client(make_server(), middleware=[cache]) as client:
        await client.ping()
        assert client.connection.session is not None
    assert sent == ["ping"]


async def test_a_layer_raising_reaches_the_caller_and_the_client_goes_on() -> None:
    async def deny(request: OutgoingRequest, params: Any, call_next: CallNext) -> Any:
        if request.method == "tools/call" and params["name"].startswith("delete_"):
            raise McpError(codes.INVALID_PARAMS, "deletes are off in this client")
        return await call_next(params)

    async with Client(make_server(), middleware=[deny]) as client:
        with pytest.raises(McpError, match="deletes are off") as caught:
            await client.call_tool("delete_all")
        assert caught.value.code == codes.INVALID_PARAMS
        assert (await client.call_tool("add", {"a": 1, "b": 1})).structured_content == {"result": 2}


async def test_server_errors_and_timeouts_pass_through_the_layers(fake_clock: Any) -> None:
    seen: list[str] = []

    async def watch(request: OutgoingRequest, params: Any, call_next: CallNext) -> Any:
        try:
            return await call_next(params)
        except RequestTimeout:  # an McpError too: caught first
            seen.append(f"{request.method} timeout")
            raise
        except McpError as exc:
            seen.append(f"{request.method} {exc.code}")
            raise

    server = make_server()

    @server.tool()
    async def hang() -> None:
        await asyncio.Event().wait()

    @server.resource("config://app")
    def config() -> str:
        return "{}"

    async with Client(server, middleware=[watch]) as client:
        with pytest.raises(McpError):
            await client.read_resource("nothing://here")
        with pytest.raises(RequestTimeout):
            await client.call_tool("hang", timeout=0.05)
        await client.ping()
    assert seen == [f"resources/read {codes.RESOURCE_NOT_FOUND}", "tools/call timeout"]


async def test_cancelling_the_caller_cancels_the_layers_and_the_request() -> None:
    entered, layer_cancelled, tool_cancelled = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def watch(request: OutgoingRequest, params: Any, call_next: CallNext) -> Any:
        try:
            return await call_next(params)
        except asyncio.CancelledError:
            layer_cancelled.set()
            raise

    server = make_server()

    @server.tool()
    async def hang() -> None:
        entered.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            tool_cancelled.set()
            raise

    async with Client(server, middleware=[watch]) as client:
        call = asyncio.create_task(client.call_tool("hang"))
        await asyncio.wait_for(entered.wait(), 5)
        call.cancel()
        await asyncio.wait_for(layer_cancelled.wait(), 5)
        await asyncio.wait_for(tool_cancelled.wait(), 5)  # notifications/cancelled went out
        await client.ping()


async def test_the_request_names_its_client() -> None:
    clients: list[Client] = []

    async def record(request: OutgoingRequest, params: Any, call_next: CallNext) -> Any:
        clients.append(request.client)
        return await call_next(params)

    async with Client(make_server(), middleware=[record]) as client:
        await client.list_tools()
        assert clients == [client]
        assert clients[0].server_info.name == "cmw"


async def test_no_middleware_sends_as_before() -> None:
    async with Client(make_server()) as client:
        assert client.middleware == ()
        assert (await client.call_tool("add", {"a": 2, "b": 2})).structured_content == {"result": 4}


async def test_request_logging_writes_one_record_per_request(
    caplog: pytest.LogCaptureFixture, fake_clock: Any
) -> None:
    server = make_server()

    @server.tool()
    def broken() -> None:
        raise ToolError("no luck")

    @server.prompt()
    def hello() -> str:
        return "hello"

    @server.tool()
    async def hang() -> None:
        await asyncio.Event().wait()

    ticks = iter(range(0, 1000, 2))
    logging_layer = RequestLogging(clock=lambda: next(ticks) / 1000)
    with caplog.at_level(logging.INFO, logger="mcpkit.client.requests"):
        async with Client(server, middleware=[logging_layer]) as client:
            await client.call_tool("add", {"a": 1, "b": 2})
            await client.call_tool("broken")
            with pytest.raises(McpError):
                await client.get_prompt("missing")
            with pytest.raises(RequestTimeout):
                await client.call_tool("hang", timeout=1)
    records = [r for r in caplog.records if r.name == "mcpkit.client.requests"]
    assert [r.getMessage() for r in records] == [
        "tools/call add ok 2.0 ms",
        "tools/call broken tool_error 2.0 ms",
        "prompts/get missing error 2.0 ms",
        "tools/call hang timeout 2.0 ms",
    ]
    assert records[2].mcp == {  # type: ignore[attr-defined]
        "method": "prompts/get",
        "target": "missing",
        "outcome": "error",
        "code": codes.INVALID_PARAMS,
        "duration_ms": 2.0,
    }
    assert "arguments" not in records[0].mcp  # type: ignore[attr-defined]


async def test_request_logging_costs_nothing_when_its_level_is_off(
    caplog: pytest.LogCaptureFixture,
) -> None:
    quiet = RequestLogging(level=logging.DEBUG)
    with caplog.at_level(logging.INFO, logger="mcpkit.client.requests"):
        async with Client(make_server(), middleware=[quiet]) as client:
            await client.call_tool("add", {"a": 1, "b": 2})
    assert not [r for r in caplog.records if r.name == "mcpkit.client.requests"]


async def test_task_requests_pass_through_the_layers_too() -> None:
    """tasks/result waits without a bound (math.inf), through the middleware like any other."""
    server = Server("cmw-tasks")

    @server.tool(task=True)
    async def slow(x: int) -> int:
        return 2 * x

    seen: list[str] = []

    async def record(request: OutgoingRequest, params: Any, call_next: CallNext) -> Any:
        seen.append(request.method)
        return await call_next(params)

    async with Client(server, middleware=[record], timeout=5) as client:
        task = await client.call_tool_as_task("slow", {"x": 21})
        assert (await task.result()).structured_content == {"result": 42}
        again = await client.task_result(task.id)
        assert again.structured_content == {"result": 42}
    assert seen.count("tasks/result") >= 2
    assert "tools/call" in seen
