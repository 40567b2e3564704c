"""The tool search's regex mode (docs/compose.md, "Large catalogs: tool search") runs on
google-re2 (`mcpkit[re2]`): a client's pattern is answered, or refused by its work budget,
without holding another client's requests; a pattern re2 cannot take is a clear error; and
without the extra the mode is refused where it is configured."""

from __future__ import annotations

import asyncio
import random
import string
import sys
import time

import pytest
import re2

from mcpkit import Client, Server
from mcpkit.errors import MissingExtra

# The finding's patterns (the first took 131 s on 400 tools of ~600 characters, the second
# 4.6-6.7 s), the costliest RE2 compiles, and one within the budget that keeps RE2 busy
# longest, each with the start of its answer: RE2 refuses more than 1,000 repeats, the
# budget programs of hundreds of instructions over 240,000 bytes.
FINDING = [
    ("([a-z].{99}){19}s", "Invalid query: the pattern is not one RE2 takes: invalid repetition"),
    ("(e.{30}){3}f", "Invalid query: the pattern compiles to 728 instructions"),
    ("([a-z].{49}){19}s", "Invalid query: the pattern compiles to 7569 instructions"),
    ("[a-z].{20}#", None),
]


def catalog(tools: int = 400, length: int = 600) -> Server:
    server = Server("catalog")
    words = random.Random(64)
    for i in range(tools):
        text = "".join(words.choice(string.ascii_lowercase + "  ") for _ in range(length))
        server.add_tool(lambda: "", name=f"tool_{i}", description=text)
    server.add_tool_search("regex", max_results=3)
    return server


async def slowest_ping_while(search: asyncio.Task[object], other: Client) -> float:
    """The longest another client waited for a ping while `search` ran."""
    slowest = 0.0
    while not search.done():
        sent = time.perf_counter()
        await other.ping(timeout=30)
        slowest = max(slowest, time.perf_counter() - sent)
    return slowest


@pytest.mark.parametrize(("pattern", "refused"), FINDING)
async def test_a_costly_pattern_holds_no_other_clients_request(
    pattern: str, refused: str | None
) -> None:
    server = catalog()
    async with asyncio.timeout(30), Client(server) as searcher, Client(server) as other:
        await other.ping()
        started = time.perf_counter()
        search = asyncio.create_task(searcher.call_tool("search_tools", {"query": pattern}))
        slowest = await slowest_ping_while(search, other)
        result = await search
        # (bounds far above what these take, ~2-200 ms, so a busy machine does not fail
        # them, and far below what the first pattern cost before: 26-131 s, every other
        # request waiting behind it)
        assert time.perf_counter() - started < 20, "the search took its whole cost"
        assert slowest < 5.0, f"a ping waited {slowest:.2f} s behind the search"
        if refused is None:
            assert not result.is_error and result.structured_content == {"tools": []}
        else:
            assert result.is_error
            assert result.content[0].text.startswith(refused)  # type: ignore[union-attr]


def test_without_re2_the_regex_mode_is_refused_where_it_is_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "re2", None)  # as if google-re2 were not installed
    server = Server("catalog")
    with pytest.raises(MissingExtra) as refused:
        server.add_tool_search("regex")
    assert str(refused.value) == (
        "add_tool_search('regex') needs google-re2, which is not installed: "
        "pip install 'mcpkit[re2]'"
    )
    assert server.tool_search is None
    server.add_tool_search("bm25")  # the default mode needs nothing more


async def test_a_pattern_re2_cannot_take_is_an_error_result_that_says_why() -> None:
    server = catalog(tools=3)
    async with asyncio.timeout(10), Client(server) as client:
        for pattern, why in [
            ("(", "missing ): ("),
            ("x{1001}", "invalid repetition size: {1001}"),
            ("[z-a]", "invalid character class range: z-a"),
        ]:
            result = await client.call_tool("search_tools", {"query": pattern})
            assert result.is_error
            assert result.content[0].text == (  # type: ignore[union-attr]
                f"Invalid query: the pattern is not one RE2 takes: {why}"
            )
        found = await client.call_tool("search_tools", {"query": "^TOOL_[0-2]$"})
        assert [tool["name"] for tool in found.structured_content["tools"]] == [  # type: ignore[index]
            "tool_0",
            "tool_1",
            "tool_2",
        ]


async def test_a_clients_pattern_stays_out_of_re2s_cache_and_leaves_the_apps_in_it() -> None:
    own = re2.compile(r"order-\d+")  # the application's own pattern, kept by re2's cache
    cached = re2._Regexp._make.cache_info().currsize
    server = catalog(tools=3)
    async with asyncio.timeout(10), Client(server) as client:
        found = await client.call_tool("search_tools", {"query": "^TOOL_1$"})
        assert [tool["name"] for tool in found.structured_content["tools"]] == ["tool_1"]  # type: ignore[index]
        refused = await client.call_tool("search_tools", {"query": "("})
        assert refused.is_error
    assert re2.compile(r"order-\d+") is own, "the client's search emptied re2's cache"
    assert re2._Regexp._make.cache_info().currsize == cached, "a client's pattern was kept"
