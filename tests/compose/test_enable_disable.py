"""`server.enable()` / `server.disable()`: by name, tag, version and kind, with an allowlist
mode; a hidden component is neither listed nor usable, in both eras, and each change that
alters a list reaches connected clients as list_changed (docs/compose.md)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from _heard import list_changes

from mcpkit import Client, McpError, Server

ERAS = ["2025-11-25", "2026-07-28"]
WAIT = 10


def catalog() -> Server:
    server = Server("catalog")

    @server.tool(tags={"public", "search"}, version="1")
    def find(text: str) -> str:
        return f"found {text}"

    @server.tool(tags={"admin"})
    def wipe() -> str:
        return "wiped"

    @server.tool(version="2")
    def plain() -> str:
        return "plain"

    @server.resource("notes://today", tags={"public"})
    def today() -> str:
        return "today"

    @server.resource("notes://secret", tags={"admin"})
    def secret() -> str:
        return "secret"

    @server.resource("notes://day/{day}", tags={"admin"})
    def day(day: str) -> str:
        return day

    @server.prompt(tags={"public"})
    def review(text: str) -> str:
        return text

    @server.prompt(tags={"admin"})
    def audit() -> str:
        return "audit"

    return server


async def shown(client: Client) -> dict[str, list[str]]:
    return {
        "tools": sorted(t.name for t in await client.list_tools()),
        "resources": sorted(r.uri for r in await client.list_resources()),
        "templates": sorted(t.uri_template for t in await client.list_resource_templates()),
        "prompts": sorted(p.name for p in await client.list_prompts()),
    }


async def refused(client: Client, kind: str, name: str) -> McpError:
    with pytest.raises(McpError) as info:
        if kind == "tool":
            await client.call_tool(name, {})
        elif kind == "prompt":
            await client.get_prompt(name)
        else:
            await client.read_resource(name)
    return info.value


@pytest.mark.parametrize("era", ERAS)
async def test_disabled_by_tag_is_neither_listed_nor_usable(era: str) -> None:
    server = catalog()
    server.disable(tags={"admin"})
    async with asyncio.timeout(WAIT), Client(server, protocol=era) as client:
        assert await shown(client) == {
            "tools": ["find", "plain"],
            "resources": ["notes://today"],
            "templates": [],
            "prompts": ["review"],
        }
        # The same errors as for components that do not exist at all.
        unknown_tool = await refused(client, "tool", "nope")
        hidden_tool = await refused(client, "tool", "wipe")
        assert (hidden_tool.code, hidden_tool.message) == (
            unknown_tool.code,
            unknown_tool.message.replace("nope", "wipe"),
        )
        hidden_prompt = await refused(client, "prompt", "audit")
        assert hidden_prompt.message == "Unknown prompt: audit"
        unknown_read = await refused(client, "resource", "notes://nope")
        for uri in ("notes://secret", "notes://day/monday"):
            hidden_read = await refused(client, "resource", uri)
            assert hidden_read.code == unknown_read.code
            assert hidden_read.message == unknown_read.message.replace("notes://nope", uri)
        assert (await client.call_tool("find", {"text": "x"})).content[0].text == "found x"  # type: ignore[union-attr]


@pytest.mark.parametrize("era", ERAS)
async def test_picking_by_name_version_and_kind(era: str) -> None:
    server = catalog()
    server.disable("wipe", "notes://secret", "notes://day/{day}", "audit")
    server.disable(version="2")
    server.disable(kinds={"prompt"})
    async with asyncio.timeout(WAIT), Client(server, protocol=era) as client:
        assert await shown(client) == {
            "tools": ["find"],
            "resources": ["notes://today"],
            "templates": [],
            "prompts": [],
        }
        server.enable("audit")  # the last rule that picks it decides
        assert [p.name for p in await client.list_prompts()] == ["audit"]
        assert (await client.get_prompt("audit")).messages[0].content.text == "audit"  # type: ignore[union-attr]


@pytest.mark.parametrize("era", ERAS)
async def test_criteria_combine_and_tags_match_any(era: str) -> None:
    server = catalog()
    server.disable(tags={"public", "admin"}, kinds={"tool"})
    async with asyncio.timeout(WAIT), Client(server, protocol=era) as client:
        listed = await shown(client)
        assert listed["tools"] == ["plain"]
        assert listed["prompts"] == ["audit", "review"]  # other kinds untouched


@pytest.mark.parametrize("era", ERAS)
async def test_only_is_an_allowlist(era: str) -> None:
    server = catalog()
    server.enable(tags={"public"}, only=True)
    async with asyncio.timeout(WAIT), Client(server, protocol=era) as client:
        assert await shown(client) == {
            "tools": ["find"],
            "resources": ["notes://today"],
            "templates": [],
            "prompts": ["review"],
        }
        await refused(client, "tool", "plain")
        # A later rule still speaks of what it picks.
        server.disable("find")
        assert (await shown(client))["tools"] == []
        # An allowlist of one kind leaves the others as they were.
        server.enable(kinds={"tool"}, tags={"admin"}, only=True)
        assert await shown(client) == {
            "tools": ["wipe"],
            "resources": ["notes://today"],
            "templates": [],
            "prompts": ["review"],
        }


def test_rules_that_are_overridden_are_dropped() -> None:
    server = catalog()
    for _ in range(50):
        server.disable("wipe")
        server.enable("wipe")
    assert len(server.visibility.rules) == 1
    server.disable(tags={"admin"})
    server.enable(tags={"public"}, only=True)  # speaks of every component
    assert len(server.visibility.rules) == 1


@pytest.mark.parametrize("era", ERAS)
async def test_a_connected_client_hears_list_changed(era: str) -> None:
    server = catalog()
    heard, on_notification = list_changes()

    async with (
        asyncio.timeout(WAIT),
        Client(server, protocol=era, on_notification=on_notification) as client,
    ):
        assert "wipe" in (await shown(client))["tools"]
        server.disable("wipe")
        assert await heard.get() == "notifications/tools/list_changed"
        assert "wipe" not in (await shown(client))["tools"]
        server.disable(tags={"admin"}, kinds={"prompt"})
        assert await heard.get() == "notifications/prompts/list_changed"
        server.disable("notes://secret")
        assert await heard.get() == "notifications/resources/list_changed"
        # A rule that changes nothing shown says nothing: the next thing heard is the
        # change after it.
        server.disable("no-such-tool")
        server.enable("wipe")
        assert await heard.get() == "notifications/tools/list_changed"
        assert "wipe" in (await shown(client))["tools"]
        assert heard.empty()


@pytest.mark.parametrize("era", ERAS)
async def test_rules_hold_for_components_registered_later(era: str) -> None:
    server = catalog()
    server.disable(tags={"beta"})
    server.add_tool(lambda: "new", name="fresh", tags={"beta"})
    async with asyncio.timeout(WAIT), Client(server, protocol=era) as client:
        assert "fresh" not in (await shown(client))["tools"]
        await refused(client, "tool", "fresh")


@pytest.mark.parametrize("era", ERAS)
async def test_mounted_components_follow_both_servers_rules(era: str) -> None:
    parent, child = Server("parent"), catalog()
    parent.mount(child, namespace="kid")
    child.disable("wipe")  # the child's own rule hides it from the parent too
    parent.disable(tags={"search"})  # the parent's rules see the mounted tags
    heard, on_notification = list_changes()

    async with (
        asyncio.timeout(WAIT),
        Client(parent, protocol=era, on_notification=on_notification) as client,
    ):
        assert (await shown(client))["tools"] == ["kid_plain"]
        await refused(client, "tool", "kid_wipe")
        await refused(client, "tool", "kid_find")
        child.enable("wipe")  # a mounted server's change reaches the parent's clients
        assert await heard.get() == "notifications/tools/list_changed"
        assert (await shown(client))["tools"] == ["kid_plain", "kid_wipe"]
        assert (await client.call_tool("kid_wipe", {})).content[0].text == "wiped"  # type: ignore[union-attr]


def test_a_hidden_component_can_still_be_removed() -> None:
    server = catalog()
    server.disable(tags={"admin"})
    server.remove_tool("wipe")
    server.remove_resource("notes://day/{day}")
    server.remove_resource("notes://secret")
    server.enable(tags={"admin"})
    assert [t.name for t in server.tools] == ["find", "plain"]


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda s: s.enable(), ValueError, "needs something to pick components by"),
        (lambda s: s.disable(), ValueError, "needs something to pick components by"),
        (lambda s: s.enable(only=True), ValueError, "needs something to pick"),
        (lambda s: s.enable(tag={"x"}), TypeError, "did you mean 'tags'"),
        (lambda s: s.disable("x", only=True), TypeError, "unknown option 'only'"),
        (lambda s: s.disable(kinds="tool"), TypeError, "kinds={'tool'}"),
        (lambda s: s.disable(kinds={"tools"}), ValueError, "not \\['tools'\\]"),
        (lambda s: s.disable(tags="admin"), TypeError, "tags={'admin'}"),
        (lambda s: s.disable(""), TypeError, "non-empty string"),
        (lambda s: s.disable(version=2), TypeError, "version is a string"),
    ],
)
def test_hostile_calls_are_refused_loudly(call: Any, error: type[Exception], message: str) -> None:
    server = catalog()
    with pytest.raises(error, match=message):
        call(server)
    assert server.visibility.rules == ()  # a refused call changes nothing
