"""A session's own rules come after the server's (FastMCP's per-session visibility):
`ctx.enable_components()` shows that session what `server.disable()` hides, listed and
usable, a mounted server's components too (routed to it); other sessions still do not see
them; a 2026-07-28 request, which has no session, is told so. Through the real client."""

from __future__ import annotations

import asyncio

import pytest
from _heard import list_changes
from test_per_request_visibility import WAIT, names, switchboard

from mcpkit import Client, Context, McpError, Server


def locked() -> Server:
    server = switchboard()
    server.disable(tags={"admin"})
    return server


async def test_a_session_shows_itself_what_the_server_hides() -> None:
    heard, on_notification = list_changes()
    server = locked()
    async with (
        asyncio.timeout(WAIT),
        Client(server, protocol="2025-11-25", on_notification=on_notification) as mine,
        Client(server, protocol="2025-11-25") as other,
    ):
        assert await names(mine) == (["echo", "hide_admin", "show_admin"], [], [])
        assert (await mine.call_tool("show_admin", {})).text == "shown"
        got = {await heard.get() for _ in range(3)}
        assert got == {
            "notifications/tools/list_changed",
            "notifications/prompts/list_changed",
            "notifications/resources/list_changed",
        }
        assert await names(mine) == (
            ["echo", "hide_admin", "show_admin", "wipe"],
            ["audit"],
            ["notes://admin"],
        )
        assert (await mine.call_tool("wipe", {})).text == "wiped"
        assert (await mine.get_prompt("audit")).messages[0].content.text == "audit"  # type: ignore[union-attr]
        read = await mine.read_resource("notes://admin")
        assert read.contents[0].text == "secret"  # type: ignore[union-attr]
        # Another session still sees what the server shows, and cannot use the rest.
        assert await names(other) == (["echo", "hide_admin", "show_admin"], [], [])
        with pytest.raises(McpError, match="Unknown tool: wipe"):
            await other.call_tool("wipe", {})
        # The session's later rule hides them again.
        assert (await mine.call_tool("hide_admin", {})).text == "hidden"
        assert await names(mine) == (["echo", "hide_admin", "show_admin"], [], [])
        with pytest.raises(McpError, match="Unknown tool: wipe"):
            await mine.call_tool("wipe", {})


async def test_a_session_shows_itself_a_mounted_tool_the_parent_hides() -> None:
    calls: list[str] = []
    child = Server("child")

    @child.tool(tags={"admin"})
    def purge(ctx: Context) -> str:
        calls.append(ctx.server.name)
        return "purged"

    parent = Server("parent")
    parent.mount(child, "kid")
    parent.disable(tags={"admin"})

    @parent.tool
    async def unlock(ctx: Context) -> str:
        await ctx.enable_components(tags={"admin"})
        return "unlocked"

    async with asyncio.timeout(WAIT), Client(parent, protocol="2025-11-25") as client:
        assert [t.name for t in await client.list_tools()] == ["unlock"]
        with pytest.raises(McpError, match="Unknown tool: kid_purge"):
            await client.call_tool("kid_purge", {})
        await client.call_tool("unlock", {})
        assert [t.name for t in await client.list_tools()] == ["unlock", "kid_purge"]
        assert (await client.call_tool("kid_purge", {})).text == "purged"
    assert calls == ["child"]  # routed to the server it lives in, as a shown one is


async def test_a_mounted_servers_own_rule_still_hides_what_a_session_shows_itself() -> None:
    child = Server("child")
    child.add_tool(lambda: "purged", name="purge", tags={"admin"})
    child.add_visibility_rule(lambda ctx, component: "admin" not in component.tags)
    parent = Server("parent")
    parent.mount(child, "kid")
    parent.disable(tags={"admin"})

    @parent.tool
    async def unlock(ctx: Context) -> str:
        await ctx.enable_components(tags={"admin"})
        return "unlocked"

    async with asyncio.timeout(WAIT), Client(parent, protocol="2025-11-25") as client:
        await client.call_tool("unlock", {})
        assert [t.name for t in await client.list_tools()] == ["unlock"]
        with pytest.raises(McpError, match="Unknown tool: kid_purge"):
            await client.call_tool("kid_purge", {})


async def test_a_2026_request_cannot_show_what_the_server_hides_and_is_told_so() -> None:
    async with asyncio.timeout(WAIT), Client(locked(), protocol="2026-07-28") as client:
        result = await client.call_tool("show_admin", {})
        assert result.is_error
        assert result.text is not None
        assert "ctx.enable_components() changes what one session sees" in result.text
        assert "add_visibility_rule" in result.text
        assert "wipe" not in (await names(client))[0]
