"""Tool search (`server.add_tool_search`, docs/compose.md "Large catalogs: tool search")
through `Client`, in both eras: the short list, the search pair, calls through the call tool
as direct calls, a catalog that changes, visibility, and hostile input."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from mcpkit import Client, Context, Server
from mcpkit.apps import HOST_EXTENSIONS
from mcpkit.errors import PeerError
from mcpkit.server.catalog.search.finder import MAX_QUERY_LENGTH, MAX_QUERY_TERMS, ToolSearch
from mcpkit.server.catalog.search.regex_search import MAX_PATTERN_LENGTH

ERAS = ["2025-11-25", "2026-07-28"]
RELATED_TASK = "io.modelcontextprotocol/related-task"
BENCH = Path(__file__).resolve().parents[2] / "bench" / "search_catalog.py"


def big_server(mode: str = "bm25") -> Server:
    server = Server("big")

    @server.tool
    def get_weather(city: str) -> str:
        """Current weather for a city."""
        return f"sunny in {city}"

    @server.tool
    def convert_currency(amount: float, to: str) -> str:
        """Convert money between currencies at today's exchange rate."""
        return f"{amount} {to}"

    @server.tool
    async def count_slowly(n: int, ctx: Context) -> int:
        """Count up to n, reporting progress."""
        for i in range(n):
            await ctx.progress(i + 1, n)
        return n

    @server.tool(view="ui://board", visibility=["app"])
    def refresh_board() -> str:
        """Refresh the weather board (for its view alone)."""
        return "refreshed"

    server.add_view("ui://board", "<html></html>")
    server.add_tool_search(mode, pinned=["convert_currency"], max_results=3)  # type: ignore[arg-type]
    return server


def names(result: Any) -> list[str]:
    return [tool["name"] for tool in result.structured_content["tools"]]


@pytest.mark.parametrize("era", ERAS)
async def test_the_list_holds_the_pinned_tools_and_the_pair_and_every_tool_stays_callable(
    era: str,
) -> None:
    async with asyncio.timeout(10), Client(big_server(), protocol=era) as client:
        listed = [tool.name for tool in await client.list_tools()]
        assert listed == ["convert_currency", "search_tools", "call_tool"]
        direct = await client.call_tool("get_weather", {"city": "Oslo"})
        assert direct.content[0].text == "sunny in Oslo"  # type: ignore[union-attr]


@pytest.mark.parametrize("era", ERAS)
async def test_search_returns_the_definitions_of_the_best_tools(era: str) -> None:
    async with asyncio.timeout(10), Client(big_server(), protocol=era) as client:
        found = await client.call_tool("search_tools", {"query": "weather in a city"})
        assert not found.is_error
        assert names(found)[0] == "get_weather"
        best = found.structured_content["tools"][0]  # type: ignore[index]
        assert best["description"] == "Current weather for a city."
        assert best["inputSchema"]["properties"] == {"city": {"type": "string"}}
        assert '"get_weather"' in found.content[0].text  # type: ignore[union-attr]
        # argument names are searched too; nothing matching is an empty answer
        assert names(await client.call_tool("search_tools", {"query": "amount"})) == [
            "convert_currency"
        ]
        assert names(await client.call_tool("search_tools", {"query": "zebra"})) == []


@pytest.mark.parametrize("era", ERAS)
async def test_the_call_tool_calls_as_a_direct_call_would(era: str) -> None:
    seen: list[tuple[str, str]] = []

    async def record(ctx: Context, params: Any, call_next: Any) -> Any:
        seen.append((ctx.method, getattr(params, "name", "")))
        return await call_next(params)

    server = big_server()
    server.add_middleware(record)
    progress: list[float] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append(done)

    async with asyncio.timeout(10), Client(server, protocol=era) as client:
        called = await client.call_tool(
            "call_tool", {"name": "count_slowly", "arguments": {"n": 3}}, progress=on_progress
        )
        assert not called.is_error and called.structured_content == {"result": 3}
        assert progress == [1, 2, 3]  # the Context is the request's: progress reaches the client
        # the middleware sees the named tool's call too, as it would a direct one
        assert ("tools/call", "count_slowly") in seen
        invalid = await client.call_tool("call_tool", {"name": "get_weather", "arguments": {}})
        assert invalid.is_error
        assert "Invalid arguments for tool 'get_weather'" in invalid.content[0].text  # type: ignore[union-attr]


@pytest.mark.parametrize("era", ERAS)
async def test_hostile_input_gets_error_results_the_model_can_act_on(era: str) -> None:
    async with asyncio.timeout(10), Client(big_server(), protocol=era) as client:

        async def error_of(tool: str, arguments: dict[str, Any]) -> str:
            result = await client.call_tool(tool, arguments)
            assert result.is_error, result
            return result.content[0].text  # type: ignore[union-attr,no-any-return]

        assert "at most" in await error_of("search_tools", {"query": "w" * 10 * MAX_QUERY_LENGTH})
        assert "query must be a string" in await error_of("search_tools", {"query": ["w"]})
        # each distinct word walks its tools: how many a query holds is bounded as its length
        many = " ".join(f"word{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(33))
        assert await error_of("search_tools", {"query": many}) == (
            f"Invalid query: the query holds 33 distinct words; at most {MAX_QUERY_TERMS}"
        )
        assert not (await client.call_tool("search_tools", {"query": many[:-7]})).is_error
        assert "Unknown tool: 'nope'" in await error_of("call_tool", {"name": "nope"})
        assert "search_tools" in await error_of("call_tool", {"name": "nope"})
        assert "name must be a string" in await error_of("call_tool", {"name": 7})
        not_object = await error_of("call_tool", {"name": "get_weather", "arguments": [1, 2]})
        assert "arguments must be a JSON object" in not_object
        # the pair cannot call itself round and round
        assert "Unknown tool" in await error_of("call_tool", {"name": "call_tool"})
        # the session goes on
        assert names(await client.call_tool("search_tools", {"query": "weather"}))


@pytest.mark.parametrize("era", ERAS)
async def test_a_regex_search_is_linear_and_refuses_what_would_backtrack(era: str) -> None:
    server = big_server("regex")

    @server.tool(description="a" * 5000)  # a pathological pattern's favourite text
    def long_one() -> str:
        return ""

    async with asyncio.timeout(10), Client(server, protocol=era) as client:
        found = await client.call_tool("search_tools", {"query": "^(get|convert)_"})
        assert names(found) == ["get_weather", "convert_currency"]
        assert names(await client.call_tool("search_tools", {"query": "CURRENC(Y|IES)"})) == [
            "convert_currency"
        ]
        # nested repeats that make `re` take exponential (or high polynomial) time on the
        # long description answer at once here, finding nothing as they should
        for pattern in ["(a+)+b", "(a|aa)+#", "a.*a.*a.*a.*a.*#", "(a*a*)+#"]:
            result = await client.call_tool("search_tools", {"query": pattern})
            assert not result.is_error and names(result) == []
        for bad, why in [
            ("(a)\\1", "invalid escape sequence: \\1"),  # a backreference
            ("(?=a)", "invalid perl operator: (?="),  # a lookaround
            ("a**", "bad repetition operator"),
            ("x" * (MAX_PATTERN_LENGTH + 1), "at most"),
            ("(", "missing )"),
        ]:
            result = await client.call_tool("search_tools", {"query": bad})
            assert result.is_error and why in result.content[0].text  # type: ignore[union-attr]


@pytest.mark.parametrize("era", ERAS)
async def test_tools_added_removed_or_mounted_later_are_found(era: str) -> None:
    server = big_server()
    child = Server("child")
    server.mount(child, "maps")
    async with asyncio.timeout(10), Client(server, protocol=era) as client:
        assert names(await client.call_tool("search_tools", {"query": "route"})) == []

        @child.tool
        def plan_route(start: str, end: str) -> str:
            """Plan a driving route."""
            return f"{start}->{end}"

        @server.tool
        def book_flight(to: str) -> str:
            """Book a flight."""
            return to

        assert names(await client.call_tool("search_tools", {"query": "route"})) == [
            "maps_plan_route"
        ]
        called = await client.call_tool(
            "call_tool", {"name": "maps_plan_route", "arguments": {"start": "A", "end": "B"}}
        )
        assert called.content[0].text == "A->B"  # type: ignore[union-attr]
        assert names(await client.call_tool("search_tools", {"query": "flight"})) == ["book_flight"]
        server.remove_tool("book_flight")
        assert names(await client.call_tool("search_tools", {"query": "flight"})) == []


@pytest.mark.parametrize("era", ERAS)
async def test_a_tool_the_caller_cannot_list_is_neither_found_nor_called(era: str) -> None:
    # A tool for views alone is not listed to a client that renders none (MCP Apps): search
    # and the call tool keep to the same rule; a host that renders views finds it.
    async with asyncio.timeout(10), Client(big_server(), protocol=era) as client:
        assert "refresh_board" not in names(
            await client.call_tool("search_tools", {"query": "refresh board"})
        )
        refused = await client.call_tool("call_tool", {"name": "refresh_board"})
        assert refused.is_error and "Unknown tool" in refused.content[0].text  # type: ignore[union-attr]
    async with (
        asyncio.timeout(10),
        Client(big_server(), protocol=era, extensions=HOST_EXTENSIONS) as host,
    ):
        found = await host.call_tool("search_tools", {"query": "refresh board"})
        assert names(found)[0] == "refresh_board"


def test_the_search_keeps_to_the_names_it_is_told_the_caller_may_see() -> None:
    tools = list(big_server().tools.items())
    search = ToolSearch(max_results=5)
    assert [s.name for s in search.find(tools, "weather", {"get_weather"})] == ["get_weather"]
    assert search.find(tools, "weather", {"convert_currency"}) == []


def test_settings_are_checked_where_they_are_given() -> None:
    server = Server("s")

    @server.tool
    def search_tools() -> str:
        return ""

    with pytest.raises(ValueError, match="already registered"):
        server.add_tool_search()
    with pytest.raises(ValueError, match="max_results"):
        server.add_tool_search(max_results=0, search_tool_name="find")
    with pytest.raises(ValueError, match="mode"):
        server.add_tool_search("fuzzy", search_tool_name="find")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="different names"):
        server.add_tool_search(search_tool_name="x", call_tool_name="x")
    with pytest.raises(ValueError, match="invalid tool name"):
        server.add_tool_search(search_tool_name="find tools")
    with pytest.raises(TypeError):
        server.add_tool_search(pinnned=["x"])  # type: ignore[call-arg]


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("search_catalog", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("search_catalog", module)
    spec.loader.exec_module(module)
    return module


def test_the_right_tool_is_in_the_top_three_for_the_documented_queries() -> None:
    bench = _bench()
    # The bench measures 1,000 tools; the first 400 (two objects of each service, all their
    # verbs: each wanted tool among seven siblings) hold every query's tool.
    tools = bench.catalog(400)
    search = ToolSearch(max_results=3)
    wanted = {name for _, name in bench.QUERIES}
    assert wanted <= {spec.name for spec in tools}
    missed = [
        (query, name)
        for query, name in bench.QUERIES
        if bench.rank_of(search, tools, query, name) is None
    ]
    assert missed == []


@pytest.mark.parametrize("era", ERAS)
async def test_tasks_go_through_the_call_tool_as_they_go_directly(era: str) -> None:
    server = Server("tasks")

    @server.tool(task="required")
    async def crunch(n: int) -> int:
        """Crunch numbers for a long time."""
        return n * 2

    server.add_tool_search()
    call = {"name": "crunch", "arguments": {"n": 21}}
    async with asyncio.timeout(10), Client(server, protocol=era) as client:
        if era == "2025-11-25":
            # a task-required tool refuses a plain call, through the pair as directly...
            with pytest.raises(PeerError) as direct:
                await client.call_tool("crunch", {"n": 21})
            with pytest.raises(PeerError) as through:
                await client.call_tool("call_tool", call)
            assert through.value.code == direct.value.code
            # ...and runs as the task the client asks for
            tasked = await client.call_tool("call_tool", call, task=True)
            assert tasked.meta is not None and RELATED_TASK in tasked.meta
        else:
            # 2026-07-28: the server starts the task, as the client declared the extension (a
            # task-required tool is refused otherwise), and the client follows it to its end
            tasked = await client.call_tool("call_tool", call)
        assert tasked.structured_content == {"result": 42}


def test_a_tool_registered_later_under_a_search_name_is_refused() -> None:
    # Before: it was registered, then never listed nor called (the pair answers the name).
    server = Server("late")
    server.add_tool_search(search_tool_name="find", call_tool_name="run")
    with pytest.raises(ValueError, match="add_tool_search"):

        @server.tool(name="find")
        def find() -> str:
            return "mine"

    assert "find" not in server.tools


@pytest.mark.parametrize("era", ERAS)
async def test_a_tool_a_visibility_rule_hides_is_neither_found_nor_called(era: str) -> None:
    # Before: search and the call tool kept to scopes and views only, so a tool a per-request
    # rule (server.add_visibility_rule) hid was found and called through the pair.
    server = big_server()
    server.add_visibility_rule(lambda ctx, component: component.key != "get_weather")
    async with asyncio.timeout(10), Client(server, protocol=era) as client:
        found = await client.call_tool("search_tools", {"query": "weather in a city"})
        assert "get_weather" not in names(found)
        refused = await client.call_tool("call_tool", {"name": "get_weather"})
        assert refused.is_error and "Unknown tool" in refused.content[0].text  # type: ignore[union-attr]


async def test_the_search_pair_answers_a_session_with_rules_of_its_own() -> None:
    # The pair is asked for where no tool answers its name: after the session's own rules
    # (ctx.disable_components) and the server's have had their say on that name.
    server = big_server()
    server.disable("convert_currency")

    @server.tool
    async def hide_weather(ctx: Context) -> str:
        await ctx.disable_components("get_weather")
        return "hidden"

    async with asyncio.timeout(10), Client(server, protocol="2025-11-25") as client:
        await client.call_tool("hide_weather", {})
        found = await client.call_tool("search_tools", {"query": "currency weather city"})
        assert not found.is_error
        assert {"get_weather", "convert_currency"}.isdisjoint(names(found))
        refused = await client.call_tool("call_tool", {"name": "get_weather"})
        assert refused.is_error and "Unknown tool" in refused.content[0].text  # type: ignore[union-attr]
        with pytest.raises(PeerError, match="Unknown tool: no_such_tool"):
            await client.call_tool("no_such_tool", {})
