"""A tools/call finds its tool among those no rule, view or scope can refuse, worked out once
per change (`handlers.features.served_tool`): every change of the catalog or of its rules is
seen by the very next call, in both eras, and a judged lookup answers as `served` does."""

from __future__ import annotations

import asyncio

import pytest

from mcpkit import Client, Context, McpError, Server
from mcpkit.protocol import codes
from mcpkit.server.catalog.visibility.rules import Component
from mcpkit.testing import connected
from mcpkit.types import CallToolResult, TextContent

ERAS = ["2025-11-25", "2026-07-28"]
WAIT = 10


def text_of(result: object) -> str:
    assert isinstance(result, CallToolResult)
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


async def refused(client: Client, name: str) -> McpError:
    with pytest.raises(McpError) as caught:
        await client.call_tool(name, {})
    assert caught.value.code == codes.INVALID_PARAMS
    return caught.value


def answering(text: str) -> object:
    async def answer() -> str:
        return text

    return answer


@pytest.mark.parametrize("revision", ERAS)
async def test_a_tool_added_removed_or_replaced_is_seen_by_the_next_call(revision: str) -> None:
    server = Server("changing")
    server.add_tool(answering("one"), name="one")
    async with asyncio.timeout(WAIT), connected(server, protocol_version=revision) as client:
        assert text_of(await client.call_tool("one", {})) == "one"
        await refused(client, "two")
        server.add_tool(answering("two"), name="two")
        assert text_of(await client.call_tool("two", {})) == "two"
        server.remove_tool("one")
        assert "one" in str(await refused(client, "one"))
        server.remove_tool("two")
        server.add_tool(answering("two, again"), name="two")
        assert text_of(await client.call_tool("two", {})) == "two, again"


@pytest.mark.parametrize("revision", ERAS)
async def test_a_server_rule_or_a_tag_change_is_seen_by_the_next_call(revision: str) -> None:
    server = Server("labelled")
    server.add_tool(answering("wiped"), name="wipe", tags={"admin"})
    async with asyncio.timeout(WAIT), connected(server, protocol_version=revision) as client:
        assert text_of(await client.call_tool("wipe", {})) == "wiped"
        server.disable(tags={"admin"})
        await refused(client, "wipe")
        # The same name, registered again without the tag the rule hides.
        server.remove_tool("wipe")
        server.add_tool(answering("wiped, plainly"), name="wipe", tags={"plain"})
        assert text_of(await client.call_tool("wipe", {})) == "wiped, plainly"
        server.remove_tool("wipe")
        server.add_tool(answering("wiped"), name="wipe", tags={"admin"})
        await refused(client, "wipe")
        server.enable(tags={"admin"})
        assert text_of(await client.call_tool("wipe", {})) == "wiped"


@pytest.mark.parametrize("revision", ERAS)
async def test_a_per_request_rule_added_while_serving_judges_the_next_call(revision: str) -> None:
    server = Server("judged")
    server.add_tool(answering("wiped"), name="wipe", tags={"admin"})
    async with asyncio.timeout(WAIT), connected(server, protocol_version=revision) as client:
        assert text_of(await client.call_tool("wipe", {})) == "wiped"

        @server.add_visibility_rule
        def no_admin(ctx: Context, component: Component) -> bool:
            return "admin" not in component.tags

        await refused(client, "wipe")


@pytest.mark.parametrize("revision", ERAS)
async def test_a_mounted_servers_change_and_rule_are_seen_by_the_parents_next_call(
    revision: str,
) -> None:
    parent, child = Server("parent"), Server("child")
    parent.add_tool(answering("own"), name="own")
    child.add_tool(answering("early"), name="early", tags={"admin"})
    parent.mount(child, namespace="kid")
    async with asyncio.timeout(WAIT), connected(parent, protocol_version=revision) as client:
        assert text_of(await client.call_tool("kid_early", {})) == "early"
        child.remove_tool("early")
        await refused(client, "kid_early")
        child.add_tool(answering("late"), name="late", tags={"admin"})
        assert text_of(await client.call_tool("kid_late", {})) == "late"

        @child.add_visibility_rule
        def no_admin(ctx: Context, component: Component) -> bool:
            return "admin" not in component.tags

        await refused(client, "kid_late")


async def test_a_sessions_own_rule_is_seen_by_its_next_call() -> None:
    server = Server("per session")
    server.add_tool(answering("wiped"), name="wipe", tags={"admin"})

    @server.tool
    async def hide_admin(ctx: Context) -> str:
        await ctx.disable_components(tags={"admin"})
        return "hidden"

    async with asyncio.timeout(WAIT), connected(server, protocol_version="2025-11-25") as client:
        assert text_of(await client.call_tool("wipe", {})) == "wiped"
        await client.call_tool("hide_admin", {})
        await refused(client, "wipe")
