"""Aliases for renamed tools (`aliases=`: the old name still callable, listed as deprecated)
and tombstones for removed components (`server.tombstone()`: an error naming the
replacement), in both eras (docs/compose.md, "Tags and visibility")."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mcpkit import Client, McpError, Server
from mcpkit.server.catalog.visibility.renames import ALIAS_OF_META_KEY
from mcpkit.server.catalog.visibility.tags import TAGS_META_KEY

ERAS = ["2025-11-25", "2026-07-28"]
WAIT = 10


def renamed() -> Server:
    server = Server("renamed")

    @server.tool(aliases=["find_notes", "lookup"], tags={"search"})
    def search_notes(text: str) -> str:
        """Search the notes."""
        return f"found {text}"

    return server


@pytest.mark.parametrize("era", ERAS)
async def test_an_alias_is_listed_as_deprecated_and_still_callable(era: str) -> None:
    async with asyncio.timeout(WAIT), Client(renamed(), protocol=era) as client:
        tools = {t.name: t for t in await client.list_tools()}
        assert list(tools) == ["search_notes", "find_notes", "lookup"]
        old = tools["find_notes"]
        assert old.description == (
            "Deprecated: 'find_notes' is the old name of 'search_notes'; call 'search_notes' "
            "instead. Search the notes."
        )
        assert old.meta == {TAGS_META_KEY: ["search"], ALIAS_OF_META_KEY: "search_notes"}
        assert old.input_schema == tools["search_notes"].input_schema
        assert tools["search_notes"].description == "Search the notes."
        for name in ("search_notes", "find_notes", "lookup"):
            result = await client.call_tool(name, {"text": "milk"})
            assert result.content[0].text == "found milk"  # type: ignore[union-attr]


def test_removing_a_tool_removes_its_aliases() -> None:
    server = renamed()
    server.remove_tool("lookup")  # one alias alone
    assert [t.name for t in server.tools] == ["search_notes", "find_notes"]
    server.remove_tool("search_notes")
    assert [t.name for t in server.tools] == []


def test_an_alias_that_collides_adds_nothing() -> None:
    server = renamed()
    with pytest.raises(ValueError, match="'lookup' is already registered"):
        server.add_tool(lambda: 1, name="fresh", aliases=["lookup"])
    assert "fresh" not in server.tools


@pytest.mark.parametrize(
    ("aliases", "error", "message"),
    [
        ("old", TypeError, "aliases=\\['old'\\]"),
        ([1], TypeError, "an alias is a tool name"),
        (["bad name"], ValueError, "invalid tool name"),
        (["t"], ValueError, "not its own"),
    ],
)
def test_bad_aliases_are_refused(aliases: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        Server("s").add_tool(lambda: 1, name="t", aliases=aliases)


@pytest.mark.parametrize("era", ERAS)
async def test_a_tombstone_names_the_replacement(era: str) -> None:
    server = renamed()

    @server.prompt()
    def brief() -> str:
        return "brief"

    @server.resource("notes://new")
    def new_notes() -> str:
        return "new"

    server.tombstone("delete_note", replacement="archive_note")
    server.tombstone("summary", replacement="brief", kind="prompt")
    server.tombstone("notes://old", replacement="notes://new", kind="resource")
    server.tombstone("gone", kind="prompt")
    async with asyncio.timeout(WAIT), Client(server, protocol=era) as client:
        assert "delete_note" not in [t.name for t in await client.list_tools()]
        with pytest.raises(McpError) as tool:
            await client.call_tool("delete_note", {})
        assert tool.value.message == (
            "Unknown tool: delete_note (tool 'delete_note' was removed: use 'archive_note' instead)"
        )
        assert tool.value.data == {"removed": "delete_note", "replacement": "archive_note"}
        with pytest.raises(McpError) as prompt:
            await client.get_prompt("summary")
        assert "use 'brief' instead" in prompt.value.message
        with pytest.raises(McpError) as gone:
            await client.get_prompt("gone")
        assert gone.value.message == "Unknown prompt: gone (prompt 'gone' was removed)"
        with pytest.raises(McpError) as resource:
            await client.read_resource("notes://old")
        assert "resource 'notes://old' was removed: use 'notes://new'" in resource.value.message
        assert resource.value.data["replacement"] == "notes://new"  # type: ignore[index]
        with pytest.raises(McpError) as unknown:
            await client.call_tool("never_was", {})
        assert unknown.value.message == "Unknown tool: never_was"


@pytest.mark.parametrize("era", ERAS)
async def test_a_parent_tombstone_covers_a_mounted_name(era: str) -> None:
    parent = Server("parent")
    parent.mount(renamed(), namespace="kid")
    parent.tombstone("kid_old_search", replacement="kid_search_notes")
    async with asyncio.timeout(WAIT), Client(parent, protocol=era) as client:
        with pytest.raises(McpError) as refused:
            await client.call_tool("kid_old_search", {})
        assert "use 'kid_search_notes' instead" in refused.value.message
        assert (await client.call_tool("kid_lookup", {"text": "x"})).content[0].text == "found x"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda s: s.tombstone("search_notes"), ValueError, "remove it first"),
        (lambda s: s.tombstone("x", kind="template"), ValueError, "kind is 'tool'"),
        (lambda s: s.tombstone("x", replacment="y"), TypeError, "did you mean 'replacement'"),
        (lambda s: s.tombstone(""), TypeError, "non-empty string"),
        (lambda s: s.tombstone("x", replacement=3), TypeError, "non-empty string"),
    ],
)
def test_hostile_tombstones_are_refused(call: Any, error: type[Exception], message: str) -> None:
    server = renamed()
    with pytest.raises(error, match=message):
        call(server)
    assert server.visibility.tombstones == {}
