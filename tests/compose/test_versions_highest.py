"""Several versions of one tool or prompt under one name: the highest the server's rules show is
listed and called, a lower one stands in when `disable()` hides it, and the mistakes that were
refused before versions (a second unversioned one, the same version twice) still are; through
`Client` in both eras (docs/compose.md, "Tags and visibility")."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from mcpkit import Client, McpError, Server
from mcpkit.types import TextContent

ERAS = ["2025-11-25", "2026-07-28"]
WAIT = 10


def saying(text: str) -> Callable[[], str]:
    def say() -> str:
        return text

    return say


def versioned() -> Server:
    server = Server("versioned")
    for version in ("1.9", "1.10", "1"):  # registered out of order: 1.10 is the highest
        server.add_tool(saying(f"search {version}"), name="search", version=version)
        server.add_prompt(saying(f"review {version}"), name="review", version=version)
    server.add_tool(lambda: "plain", name="plain")
    return server


async def answer(client: Client, name: str) -> str:
    block = (await client.call_tool(name, {})).content[0]
    assert isinstance(block, TextContent)
    return block.text


async def shown(client: Client) -> list[tuple[str, object]]:
    tools = await client.list_tools()
    return [(t.name, (t.meta or {}).get("io.mcpkit/version")) for t in tools]


@pytest.mark.parametrize("protocol", ERAS)
async def test_the_highest_version_is_listed_and_called(protocol: str) -> None:
    server = versioned()
    async with asyncio.timeout(WAIT), Client(server, protocol=protocol) as client:
        assert await shown(client) == [("search", "1.10"), ("plain", None)]
        assert await answer(client, "search") == "search 1.10"
        (prompt,) = await client.list_prompts()
        assert (prompt.meta or {})["io.mcpkit/version"] == "1.10"
        got = await client.get_prompt("review")
        assert got.messages[0].content.text == "review 1.10"  # type: ignore[union-attr]


@pytest.mark.parametrize("protocol", ERAS)
async def test_hiding_the_highest_shows_the_next(protocol: str) -> None:
    server = versioned()
    async with asyncio.timeout(WAIT), Client(server, protocol=protocol) as client:
        server.disable(version=">=1.10")
        assert await shown(client) == [("search", "1.9"), ("plain", None)]
        assert await answer(client, "search") == "search 1.9"
        server.enable(version="1", only=True, kinds={"tool"})
        assert await shown(client) == [("search", "1")]
        assert await answer(client, "search") == "search 1"
        server.disable("search")  # the name: every version
        with pytest.raises(McpError):
            await answer(client, "search")


@pytest.mark.parametrize("protocol", ERAS)
async def test_a_mounted_server_s_highest_version_is_its_parent_s(protocol: str) -> None:
    parent = Server("parent")
    parent.mount(versioned(), namespace="kid")
    async with asyncio.timeout(WAIT), Client(parent, protocol=protocol) as client:
        assert await shown(client) == [("kid_search", "1.10"), ("kid_plain", None)]
        assert await answer(client, "kid_search") == "search 1.10"


def test_removing_the_name_removes_every_version() -> None:
    server = versioned()
    server.remove_tool("search")
    assert "search" not in server.tools
    server.add_tool(lambda: "again", name="search")  # free again, versions and all
    assert [t.name for t in server.tools] == ["plain", "search"]


@pytest.mark.parametrize(
    ("first", "second"),
    [(None, None), ("1", None), (None, "1"), ("2", "2")],
    ids=["unversioned", "then-unversioned", "after-unversioned", "same-version"],
)
def test_a_name_is_still_refused_without_distinct_versions(
    first: str | None, second: str | None
) -> None:
    server = Server("twice")
    server.add_tool(lambda: "a", name="dup", version=first)
    with pytest.raises(ValueError, match="already registered"):
        server.add_tool(lambda: "b", name="dup", version=second)
    server.add_prompt(lambda: "a", name="p", version=first)
    with pytest.raises(ValueError, match="already registered"):
        server.add_prompt(lambda: "b", name="p", version=second)
