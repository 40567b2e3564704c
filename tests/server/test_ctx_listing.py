"""`ctx.list_resources()`, `ctx.list_resource_templates()`, `ctx.list_prompts()` and
`ctx.get_prompt()`: a handler sees its server's lists and prompts as its caller would, in both
eras, the visibility rules applied."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mcpkit import Client, Context, McpError, Server
from mcpkit.errors import PeerError
from mcpkit.server.catalog.visibility.rules import Component
from mcpkit.types import GetPromptResult, TextContent

ERAS = ["2025-11-25", "2026-07-28"]


def make_server(seen: dict[str, Any]) -> Server:
    server = Server("lists")

    @server.resource("notes://today")
    def today() -> str:
        return "today"

    @server.resource("notes://secret", tags={"staff"})
    def secret_note() -> str:
        return "secret"

    @server.resource("notes://old")
    def old() -> str:
        return "old"

    @server.resource("users://{user}/profile")
    def profile(user: str) -> str:
        return user

    @server.prompt
    def greet(name: str) -> str:
        """Greet someone."""
        return f"Hello, {name}!"

    @server.prompt(tags={"staff"})
    def payroll() -> str:
        return "the payroll"

    @server.prompt
    async def who(ctx: Context) -> str:
        return f"asked by {ctx.client_info.name if ctx.client_info else '?'}"

    @server.tool
    async def look(ctx: Context) -> str:
        seen["resources"] = [r.uri for r in await ctx.list_resources()]
        seen["templates"] = [t.uri_template for t in await ctx.list_resource_templates()]
        seen["prompts"] = [p.name for p in await ctx.list_prompts()]
        seen["greet"] = await ctx.get_prompt("greet", {"name": "Ada"})
        seen["who"] = await ctx.get_prompt("who")
        try:
            await ctx.get_prompt("payroll")
        except McpError as exc:
            seen["payroll"] = exc.message
        else:
            seen["payroll"] = "shown"
        return "looked"

    server.disable("notes://old")  # hidden from everyone

    @server.add_visibility_rule
    def staff_only(ctx: Any, component: Component) -> bool:
        info = ctx.client_info
        return "staff" not in component.tags or (info is not None and info.name == "staff")

    return server


def text_of(result: GetPromptResult) -> str:
    content = result.messages[0].content
    assert isinstance(content, TextContent)
    return content.text


@pytest.mark.parametrize("era", ERAS)
@pytest.mark.parametrize("caller", ["guest", "staff"])
async def test_a_handler_lists_what_its_caller_would_be_listed(era: str, caller: str) -> None:
    seen: dict[str, Any] = {}
    server = make_server(seen)
    async with asyncio.timeout(10), Client(server, protocol=era, name=caller) as client:
        assert (await client.call_tool("look")).text == "looked"
        assert seen["resources"] == [r.uri for r in await client.list_resources()]
        assert seen["templates"] == [t.uri_template for t in await client.list_resource_templates()]
        assert seen["prompts"] == [p.name for p in await client.list_prompts()]
        assert seen["greet"] == await client.get_prompt("greet", {"name": "Ada"})
    staff = caller == "staff"
    assert seen["resources"] == ["notes://today", *(["notes://secret"] if staff else [])]
    assert seen["templates"] == ["users://{user}/profile"]
    assert seen["prompts"] == ["greet", *(["payroll"] if staff else []), "who"]
    assert text_of(seen["greet"]) == "Hello, Ada!"
    assert text_of(seen["who"]) == f"asked by {caller}"  # rendered with the caller's Context
    assert seen["payroll"] == ("shown" if staff else "Unknown prompt: payroll")


async def test_a_session_s_own_rules_hide_from_its_handlers_too() -> None:
    seen: dict[str, Any] = {}
    server = make_server(seen)

    @server.tool
    async def hide_greet(ctx: Context) -> str:
        await ctx.disable_components("greet")
        return "hidden"

    async with asyncio.timeout(10), Client(server, protocol="2025-11-25") as client:
        await client.call_tool("hide_greet")
        # get_prompt("greet") raises as for an unknown prompt, and the McpError goes out
        with pytest.raises(PeerError, match="Unknown prompt: greet"):
            await client.call_tool("look")
    assert seen["prompts"] == ["who"]


@pytest.mark.parametrize("era", ERAS)
async def test_a_mounted_server_s_prompt_is_rendered_by_it(era: str) -> None:
    inner = Server("inner")

    @inner.prompt
    async def where(ctx: Context) -> str:
        return f"rendered by {ctx.server.name}"

    @inner.resource("docs://guide")
    def guide() -> str:
        return "the guide"

    outer = Server("outer")
    outer.mount(inner, "in")
    got: dict[str, Any] = {}

    @outer.tool
    async def look(ctx: Context) -> str:
        got["prompts"] = [p.name for p in await ctx.list_prompts()]
        got["resources"] = [r.uri for r in await ctx.list_resources()]
        got["where"] = text_of(await ctx.get_prompt("in_where"))
        return "ok"

    async with asyncio.timeout(10), Client(outer, protocol=era) as client:
        assert (await client.call_tool("look")).text == "ok"
    assert got == {
        "prompts": ["in_where"],
        "resources": ["docs://in/guide"],
        "where": "rendered by inner",
    }
