"""A per-request rule (`server.add_visibility_rule`, both eras) or a session's own rule
(`ctx.disable_components(version=)`) that hides one version of a name registered in several
(`version=`) hides that version alone: the request sees, lists and calls the highest version
left to it, as `server.disable(version=)` does for everyone (docs/compose.md, "Versions")."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mcpkit import Client, Context, McpError, Server
from mcpkit.server import ResponseCache
from mcpkit.server.catalog.visibility.rules import Component, make_rule

ERAS = ["2025-11-25", "2026-07-28"]
WAIT = 10


def versioned() -> Server:
    server = Server("versioned")

    @server.tool(name="calc", version="1")
    def calc_one() -> str:
        return "calc 1"

    @server.tool(name="calc", version="2")
    def calc_two() -> str:
        return "calc 2"

    @server.prompt(name="greet", version="1")
    def greet_one() -> str:
        return "hello 1"

    @server.prompt(name="greet", version="2")
    def greet_two() -> str:
        return "hello 2"

    @server.tool()
    async def stay_on_one(ctx: Context) -> str:
        await ctx.disable_components(version="2")
        return "on 1"

    return server


def beta_for(client_name: str) -> Any:
    """Version 2 of anything for the client named `client_name` alone."""

    def rule(ctx: Context, component: Component) -> bool:
        info = ctx.client_info
        return component.version != "2" or (info is not None and info.name == client_name)

    return rule


async def seen(client: Client) -> tuple[str, str]:
    """What the client lists (one calc, one greet) and what calling each runs."""
    assert [t.name for t in await client.list_tools()].count("calc") == 1
    assert [p.name for p in await client.list_prompts()] == ["greet"]
    called = (await client.call_tool("calc", {})).content[0]
    got = (await client.get_prompt("greet")).messages[0].content
    return called.text, got.text  # type: ignore[union-attr]


@pytest.mark.parametrize("era", ERAS)
async def test_a_rule_hiding_one_version_leaves_the_others(era: str) -> None:
    server = versioned()
    server.add_visibility_rule(beta_for("tester"))
    async with (
        asyncio.timeout(WAIT),
        Client(server, protocol=era, name="guest") as guest,
        Client(server, protocol=era, name="tester") as tester,
    ):
        assert await seen(guest) == ("calc 1", "hello 1")
        assert await seen(tester) == ("calc 2", "hello 2")


@pytest.mark.parametrize("era", ERAS)
async def test_a_rule_hiding_every_version_hides_the_name(era: str) -> None:
    server = versioned()
    server.add_visibility_rule(lambda ctx, component: component.key != "calc")
    async with asyncio.timeout(WAIT), Client(server, protocol=era) as client:
        assert "calc" not in [t.name for t in await client.list_tools()]
        with pytest.raises(McpError, match="Unknown tool"):
            await client.call_tool("calc", {})


@pytest.mark.parametrize("era", ERAS)
async def test_the_server_and_the_request_rules_combine(era: str) -> None:
    # Version 1 is retired for everyone; a request that may not see version 2 sees none.
    server = versioned()
    server.disable(version="1")
    server.add_visibility_rule(beta_for("tester"))
    async with (
        asyncio.timeout(WAIT),
        Client(server, protocol=era, name="guest") as guest,
        Client(server, protocol=era, name="tester") as tester,
    ):
        assert "calc" not in [t.name for t in await guest.list_tools()]
        with pytest.raises(McpError):
            await guest.call_tool("calc", {})
        assert await seen(tester) == ("calc 2", "hello 2")


async def test_a_session_hiding_one_version_keeps_the_others() -> None:
    server = versioned()
    async with (
        asyncio.timeout(WAIT),
        Client(server, protocol="2025-11-25") as mine,
        Client(server, protocol="2025-11-25") as other,
    ):
        assert (await mine.call_tool("stay_on_one", {})).content[0].text == "on 1"  # type: ignore[union-attr]
        assert await seen(mine) == ("calc 1", "hello 1")
        assert await seen(other) == ("calc 2", "hello 2")


@pytest.mark.parametrize("era", ERAS)
async def test_a_shared_cache_keeps_each_version_apart(era: str) -> None:
    # One answer for everyone, per version: the guest never gets the tester's version 2.
    server = versioned()
    server.add_middleware(ResponseCache(scope="shared"))
    server.add_visibility_rule(beta_for("tester"))
    async with (
        asyncio.timeout(WAIT),
        Client(server, protocol=era, name="guest") as guest,
        Client(server, protocol=era, name="tester") as tester,
    ):
        assert await seen(tester) == ("calc 2", "hello 2")
        assert await seen(guest) == ("calc 1", "hello 1")


def test_the_scopes_a_session_needs_are_those_of_the_version_it_sees() -> None:
    # A protected HTTP endpoint asks for a tool's scopes up front (403 to step up): for a
    # session that hides version 2, those of the version 1 it is served.
    server = Server("scoped")

    @server.tool(name="calc", version="1", scopes={"calc:legacy"})
    def calc_one() -> str:
        return "calc 1"

    @server.tool(name="calc", version="2")
    def calc_two() -> str:
        return "calc 2"

    hides_two = (make_rule("test", False, (), None, "2", None, False),)
    assert server.scopes_for("tools/call", "calc", ()) == frozenset()
    assert server.scopes_for("tools/call", "calc", hides_two) == {"calc:legacy"}
    hides_both = (*hides_two, make_rule("test", False, (), None, "1", None, False))
    assert server.scopes_for("tools/call", "calc", hides_both) == frozenset()
