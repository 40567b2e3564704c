"""A 2025-11-25 request to a stateless HTTP app (`http_app(stateless=True)`, `--stateless`)
is served by a session made for it alone: what is kept per caller (state, a result's
overflow, an approval) must not be kept for that session, which no later request reaches,
but for the token's owner or the client's key, as for a 2026-07-28 request."""

from __future__ import annotations

import asyncio
import re
import secrets
from typing import Any

import httpx
import pytest
from _serving import WAIT, serving

from mcpkit import Client, Context, Server
from mcpkit.errors import McpError
from mcpkit.server import ResultBudget
from mcpkit.server.state.caller import STATE_KEY_META
from mcpkit.types import ResourceLink, TextContent

BIG = "".join(f"line {n:04d}\n" for n in range(500))


def make_server(done: list[str]) -> Server:
    server = Server("stateless-callers")

    @server.tool()
    async def remember(ctx: Context, note: str) -> list[str]:
        notes: list[str] = await ctx.get_state("notes", [])
        notes.append(note)
        await ctx.set_state("notes", notes)
        return notes

    @server.tool(max_result=ResultBudget(bytes=2048, overflow="resource"))
    def report() -> str:
        return BIG

    @server.tool(when_cannot_ask="url")
    async def deploy(env: str, ctx: Context) -> str:
        answer = await ctx.elicit(f"Deploy to {env}?", bool)
        if answer.action != "accept" or not answer.data:
            return f"not deployed: {answer.action}"
        done.append(env)
        return f"deployed to {env}"

    return server


def text_of(result: Any) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


async def test_state_is_the_keys_not_the_one_request_session() -> None:
    mine = {STATE_KEY_META: secrets.token_urlsafe(32)}
    app = make_server([]).http_app(stateless=True)
    async with asyncio.timeout(WAIT), serving(app) as base:
        async with Client(f"{base}/mcp", protocol="2025-11-25") as client:
            with pytest.raises(McpError, match="no session"):  # kept for no one: refused
                await client.call_tool("remember", {"note": "lost"})
            await client.call_tool("remember", {"note": "milk"}, meta=mine)
            again = await client.call_tool("remember", {"note": "eggs"}, meta=mine)
    assert again.structured_content == {"result": ["milk", "eggs"]}


async def test_an_overflow_is_readable_by_the_next_request() -> None:
    app = make_server([]).http_app(stateless=True)
    async with asyncio.timeout(WAIT), serving(app) as base:
        async with Client(f"{base}/mcp", protocol="2025-11-25") as client:
            result = await client.call_tool("report")
            (link,) = [b for b in result.content if isinstance(b, ResourceLink)]
            read = await client.read_resource(link.uri)
    assert read.contents


async def test_an_approval_is_taken_by_the_call_made_again() -> None:
    done: list[str] = []
    app = make_server(done).http_app(stateless=True)
    async with asyncio.timeout(WAIT), serving(app) as base:
        async with Client(f"{base}/mcp", protocol="2025-11-25") as client:
            first = await client.call_tool("deploy", {"env": "prod"})
            found = re.search(r"open (http://\S+) and approve", text_of(first))
            assert found is not None, text_of(first)
            async with httpx.AsyncClient() as web:
                page = await web.get(found[1])
                fields = dict(re.findall(r'name="(\w)" value="([^"]+)"', page.text))
                url = found[1].split("?")[0]
                # A browser's POST from the page (the page decides on no other).
                browser = {"origin": base, "sec-fetch-site": "same-origin"}
                form = {**fields, "decision": "approve"}
                posted = await web.post(url, data=form, headers=browser)
                assert posted.status_code == 200, posted.text
            after = await client.call_tool("deploy", {"env": "prod"})
    assert text_of(after) == "deployed to prod" and done == ["prod"]
