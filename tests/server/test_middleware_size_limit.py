"""ResponseSizeLimit (mcpkit.server.middleware.size_limit): a tool's oversized result becomes a tool
error, any other oversized result a JSON-RPC error, and a result is encoded once."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest

from mcpkit import Client, Context, Server
from mcpkit.errors import McpError
from mcpkit.server.middleware import CallNext
from mcpkit.server.middleware.size_limit import RESPONSE_TOO_LARGE, ResponseSizeLimit
from mcpkit.testing import raw_session

TEXT_RESULT_OVERHEAD = len(b'{"content":[{"type":"text","text":""}]}')


def make_server(*layers: Any) -> Server:
    server = Server("sized", middleware=list(layers))

    @server.tool()
    def text(n: int) -> str:
        return "x" * n

    @server.tool(task=True)
    async def slow_text(n: int) -> str:
        return "y" * n

    @server.resource("blob://{n}")
    def blob(n: str) -> str:
        return "z" * int(n)

    return server


async def test_a_tools_result_over_the_limit_becomes_a_tool_error_at_the_exact_byte() -> None:
    limit = 100
    fits = limit - TEXT_RESULT_OVERHEAD
    async with Client(make_server(ResponseSizeLimit(limit))) as client:
        ok = await client.call_tool("text", {"n": fits})
        assert ok.is_error is not True and ok.content[0].text == "x" * fits  # type: ignore[union-attr]
        refused = await client.call_tool("text", {"n": fits + 1})
        assert refused.is_error is True
        message = refused.content[0].text  # type: ignore[union-attr]
        assert f"was {limit + 1} bytes, over this server's limit of {limit} bytes" in message
        assert "asking for less" in message


async def test_any_other_result_over_the_limit_is_a_json_rpc_error() -> None:
    async with Client(make_server(ResponseSizeLimit(200))) as client:
        assert len((await client.read_resource("blob://50")).contents) == 1
        with pytest.raises(McpError) as refused:
            await client.read_resource("blob://500")
        assert refused.value.code == RESPONSE_TOO_LARGE == -31413
        assert refused.value.data is not None and refused.value.data["limit"] == 200
        assert refused.value.data["size"] > 500
        await client.ping()  # the session goes on


async def test_only_the_methods_chosen_are_checked() -> None:
    server = make_server(ResponseSizeLimit(100, methods={"tools/call"}))
    async with Client(server) as client:
        assert len((await client.read_resource("blob://5000")).contents) == 1
        assert (await client.call_tool("text", {"n": 500})).is_error is True


async def test_a_tool_tasks_result_over_the_limit_is_a_tool_error_too() -> None:
    # (2025-11-25's tasks: the client asks for them)
    async with Client(
        make_server(ResponseSizeLimit(400)), protocol="2025-11-25"
    ) as client:  # the task fits
        result = await client.call_tool("slow_text", {"n": 1000}, task=True)
        assert result.is_error is True
        assert "over this server's limit" in result.content[0].text  # type: ignore[union-attr]
        small = await client.call_tool("slow_text", {"n": 3}, task=True)
        assert small.content[0].text == "yyy"  # type: ignore[union-attr]


async def test_the_result_is_encoded_once_and_sent_as_those_bytes() -> None:
    seen: list[Any] = []

    async def outer(ctx: Context, params: Any, call_next: CallNext) -> Any:
        result = await call_next(params)
        seen.append(result)
        return result

    async with raw_session(make_server(outer, ResponseSizeLimit(1000))) as peer:
        reply = await peer.request("tools/call", {"name": "text", "arguments": {"n": 3}})
    assert reply["result"] == {"content": [{"type": "text", "text": "xxx"}]}
    assert isinstance(seen[0], msgspec.Raw)
    assert bytes(seen[0]) == b'{"content":[{"type":"text","text":"xxx"}]}'


async def test_an_older_revision_still_gets_its_shape() -> None:
    server = make_server(ResponseSizeLimit(1000))

    @server.tool()
    def pair() -> dict[str, int]:
        return {"a": 1}

    async with raw_session(server, protocol_version="2024-11-05") as peer:
        reply = await peer.request("tools/call", {"name": "pair", "arguments": {}})
    assert "structuredContent" not in reply["result"]  # 2024-11-05 had none
    assert reply["result"]["content"][0]["type"] == "text"


async def test_a_cancelled_call_passes_through() -> None:
    entered = asyncio.Event()
    server = make_server(ResponseSizeLimit(10))

    @server.tool()
    async def hang() -> None:
        entered.set()
        await asyncio.Event().wait()

    async with Client(server) as client:
        call = asyncio.create_task(client.call_tool("hang"))
        await asyncio.wait_for(entered.wait(), 5)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        await client.ping()


def test_the_limit_is_checked() -> None:
    with pytest.raises(ValueError, match="max_bytes must be a positive"):
        ResponseSizeLimit(0)
