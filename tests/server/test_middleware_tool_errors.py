"""A `ToolError` a middleware raises on a tools/call is the call's error result (isError), as
when the tool raises it, in both eras, from a plain layer, a typed hook and a mounted server's
layer; the layers outside it see that result. Through the real client."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mcpkit import Client, Context, Server
from mcpkit.errors import McpError, ToolError
from mcpkit.server.middleware import CallNext, CallToolNext, TypedMiddleware

ERAS = ["2025-11-25", "2026-07-28"]
WAIT = 10.0


async def quota(ctx: Context, params: Any, call_next: CallNext) -> Any:
    if ctx.method == "tools/call" and params.name == "add":
        raise ToolError("quota exceeded: try again tomorrow")
    return await call_next(params)


class Guard(TypedMiddleware):
    async def on_call_tool(
        self, ctx: Context, name: str, arguments: dict[str, Any], call_next: CallToolNext
    ) -> Any:
        if arguments.get("a") == 13:
            raise ToolError("13 is unlucky")
        return await call_next(name, arguments)


def server_with(*middleware: Any, **options: Any) -> Server:
    server = Server("mw", middleware=middleware, **options)

    @server.tool
    def add(a: int, b: int) -> int:
        return a + b

    @server.tool
    def mul(a: int, b: int) -> int:
        return a * b

    return server


@pytest.mark.parametrize("era", ERAS)
async def test_a_tool_error_from_a_layer_is_the_tools_error_result(era: str) -> None:
    seen: list[Any] = []

    async def outer(ctx: Context, params: Any, call_next: CallNext) -> Any:
        result = await call_next(params)
        seen.append(bool(result.is_error))
        return result

    server = server_with(outer, quota)
    async with asyncio.timeout(WAIT), Client(server, protocol=era) as client:
        result = await client.call_tool("add", {"a": 1, "b": 2})
        assert result.is_error
        assert result.text == "quota exceeded: try again tomorrow"
        assert (await client.call_tool("mul", {"a": 2, "b": 3})).structured_content == {"result": 6}
    assert seen == [True, False]  # the outer layer saw a result, as for the tool's own error


@pytest.mark.parametrize("era", ERAS)
async def test_a_typed_hooks_tool_error_is_the_result_with_the_servers_prefix(era: str) -> None:
    server = server_with(Guard(), tool_error_prefix=True)
    async with asyncio.timeout(WAIT), Client(server, protocol=era) as client:
        result = await client.call_tool("mul", {"a": 13, "b": 1})
        assert result.is_error
        assert result.text is not None and result.text.endswith("13 is unlucky")
        assert "mul" in result.text  # the prefix names the tool, as for the tool's own


@pytest.mark.parametrize("era", ERAS)
async def test_a_mounted_servers_layer_raising_a_tool_error_is_the_result(era: str) -> None:
    parent = Server("parent")
    parent.mount(server_with(quota), "kid")
    async with asyncio.timeout(WAIT), Client(parent, protocol=era) as client:
        result = await client.call_tool("kid_add", {"a": 1, "b": 2})
        assert result.is_error and result.text == "quota exceeded: try again tomorrow"


async def test_a_call_that_asked_for_a_task_gets_one_ended_with_the_error() -> None:
    """2025-11-25's tasks: the client asked for one, so it gets one, whose result is the error
    result, as when the tool raises in its task; a tool that forbids tasks is refused as it
    would be without the middleware."""

    async def closed(ctx: Context, params: Any, call_next: CallNext) -> Any:
        if ctx.method == "tools/call":
            raise ToolError("closed for maintenance")
        return await call_next(params)

    server = server_with(closed)

    @server.tool(task=True)
    def slow_add(a: int, b: int) -> int:
        return a + b

    async with asyncio.timeout(WAIT), Client(server, protocol="2025-11-25") as client:
        result = await client.call_tool("slow_add", {"a": 1, "b": 2}, task=True)
        assert result.is_error and result.text == "closed for maintenance"
        with pytest.raises(McpError, match="cannot be called as a task") as refused:
            await client.call_tool("add", {"a": 1, "b": 2}, task=True)
        assert refused.value.code == -32601
