"""`StateKey`, the client middleware that sends a caller's state key (docs/server.md, "State")
with every request that runs a handler: the server's per-caller state then works under
2026-07-28 without a token, for tools, resources and prompts alike."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from mcpkit import Client, Context, McpError, Server
from mcpkit.client.middleware import StateKey
from mcpkit.protocol.meta_keys import STATE_KEY_META

WAIT = 5.0  # seconds; a bound on hangs, not a performance assertion


def counter() -> Server:
    server = Server("counter")

    @server.tool()
    async def bump(ctx: Context) -> int:
        count: int = await ctx.get_state("count", 0) + 1
        await ctx.set_state("count", count)
        return count

    @server.resource("count://mine")
    async def mine(ctx: Context) -> str:
        return str(await ctx.get_state("count", 0))

    @server.prompt()
    async def recount(ctx: Context) -> str:
        return f"count {await ctx.get_state('count', 0)}"

    return server


async def test_the_key_reaches_tools_resources_and_prompts() -> None:
    server, key = counter(), StateKey(secrets.token_urlsafe(32))
    async with asyncio.timeout(WAIT):
        async with Client(server, protocol="2026-07-28", middleware=[key]) as client:
            assert (await client.call_tool("bump")).structured_content == {"result": 1}
            assert (await client.call_tool("bump")).structured_content == {"result": 2}
            assert (await client.read_resource("count://mine")).contents[0].text == "2"  # type: ignore[union-attr]
            prompt = await client.get_prompt("recount")
            assert "count 2" in str(prompt.messages[0].content)
            other = {STATE_KEY_META: secrets.token_urlsafe(32)}  # the call's own meta wins
            assert (await client.call_tool("bump", meta=other)).structured_content == {"result": 1}
        async with Client(server, protocol="2026-07-28") as keyless:
            with pytest.raises(McpError, match="StateKey"):
                await keyless.call_tool("bump")


def test_a_short_key_is_refused_where_it_is_written() -> None:
    with pytest.raises(ValueError, match=r"StateKey: .* 32 to 256 characters, not 5:"):
        StateKey("short")
