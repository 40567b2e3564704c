"""Tool transforms through `Client` in both eras: a server's own tool derived (renamed,
described, arguments renamed, hidden, defaulted, required), wrapped, its original kept or
hidden, its errors passed through, and the transforms refused loudly."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest

from mcpkit import Client, Context, Server, ToolError
from mcpkit.server import Arg, Forward
from mcpkit.types import CallToolResult, ToolAnnotations

ERAS = ["2025-11-25", "2026-07-28"]
WAIT = 10.0


@dataclass
class Count:
    found: int


def search_server() -> tuple[Server, list[dict[str, Any]]]:
    server = Server("docs")
    calls: list[dict[str, Any]] = []

    @server.tool
    def search(q: str, limit: int = 10, debug: bool = False, user: str = "") -> dict[str, Any]:
        """Search the documents."""
        call = {"q": q, "limit": limit, "debug": debug, "user": user}
        calls.append(call)
        if q == "boom":
            raise ToolError("index offline")
        return call

    return server, calls


def _text(result: CallToolResult) -> str:
    return str(getattr(result.content[0], "text", ""))


@pytest.mark.parametrize("era", ERAS)
async def test_a_derived_tool_shows_its_own_schema_and_calls_the_original(era: str) -> None:
    server, calls = search_server()

    async def caller(ctx: Context) -> str:
        return f"caller of {ctx.server.name}"

    derived = server.transform_tool(
        "search",
        name="find",
        title="Find",
        description="Find documents by words.",
        annotations=ToolAnnotations(read_only_hint=True),
        arguments={
            "q": Arg(name="query", description="The words to look for"),
            "limit": Arg(default=3),
            "debug": Arg(hide=True, value=True),
            "user": Arg(hide=True, compute=caller),
        },
    )
    assert derived.name == "find"
    async with asyncio.timeout(WAIT), Client(server, protocol=era) as client:
        tools = {t.name: t for t in await client.list_tools()}
        assert set(tools) == {"find"}  # the original is hidden by default
        find = tools["find"]
        assert (find.title, find.description) == ("Find", "Find documents by words.")
        assert find.annotations is not None and find.annotations.read_only_hint
        assert find.input_schema["properties"] == {
            "query": {"type": "string", "description": "The words to look for"},
            "limit": {"type": "integer", "default": 3},
        }
        assert find.input_schema["required"] == ["query"]
        assert find.output_schema is not None  # the original's, kept
        result = await client.call_tool("find", {"query": "mcp"})
        assert not result.is_error
        expected = {"q": "mcp", "limit": 3, "debug": True, "user": "caller of docs"}
        assert result.structured_content == expected
        # validated against the derived schema: the original's names are not its own
        refused = await client.call_tool("find", {"q": "mcp"})
        assert refused.is_error and "query" in _text(refused)
        hidden = await client.call_tool("find", {"query": "mcp", "debug": False})
        assert hidden.is_error
        failed = await client.call_tool("find", {"query": "boom"})
        assert failed.is_error and "index offline" in _text(failed)
        with pytest.raises(Exception, match="Unknown tool"):
            await client.call_tool("search", {"q": "mcp"})
    assert calls == [expected, {**expected, "q": "boom"}]


@pytest.mark.parametrize("era", ERAS)
async def test_the_original_can_stay_and_arguments_can_become_required(era: str) -> None:
    server, _ = search_server()
    server.transform_tool(
        "search",
        name="strict_search",
        keep_original=True,
        arguments={"limit": Arg(required=True), "q": Arg(default="everything")},
    )
    async with asyncio.timeout(WAIT), Client(server, protocol=era) as client:
        tools = {t.name: t for t in await client.list_tools()}
        assert set(tools) == {"search", "strict_search"}
        assert tools["strict_search"].input_schema["required"] == ["limit"]
        assert tools["strict_search"].description == "Search the documents."
        result = await client.call_tool("strict_search", {"limit": 1})
        assert result.structured_content is not None
        assert result.structured_content["q"] == "everything"
        assert (await client.call_tool("search", {"q": "x"})).structured_content is not None


@pytest.mark.parametrize("era", ERAS)
async def test_a_wrapper_validates_post_processes_and_lets_errors_pass(era: str) -> None:
    server, calls = search_server()

    async def checked(forward: Forward, ctx: Context, query: str, limit: int = 10) -> Count:
        if limit > 5:
            raise ToolError(f"limit is at most 5 on {ctx.server.name}")
        result = await forward(query=query, limit=limit)
        assert result.structured_content is not None
        return Count(found=len(str(result.structured_content["q"])))

    server.transform_tool(
        "search",
        name="count",
        arguments={"q": Arg(name="query"), "debug": Arg(hide=True), "user": Arg(hide=True)},
        wrap=checked,
    )
    async with asyncio.timeout(WAIT), Client(server, protocol=era) as client:
        (tool,) = await client.list_tools()
        assert tool.output_schema is not None  # the wrapper's return hint's
        assert set(tool.output_schema["properties"]) == {"found"}
        result = await client.call_tool("count", {"query": "four", "limit": 2})
        assert result.structured_content == {"found": 4}
        too_many = await client.call_tool("count", {"query": "x", "limit": 9})
        assert too_many.is_error and _text(too_many) == "limit is at most 5 on docs"
        failed = await client.call_tool("count", {"query": "boom", "limit": 1})
        assert failed.is_error and "index offline" in _text(failed)  # the original's error
    assert [c["q"] for c in calls] == ["four", "boom"]


async def test_transforms_that_cannot_be_made_are_refused() -> None:
    server, _ = search_server()
    with pytest.raises(ValueError, match="no argument 'query'"):
        server.transform_tool("search", arguments={"query": Arg(name="q")})
    with pytest.raises(ValueError, match="two arguments would be named 'q'"):
        server.transform_tool("search", arguments={"user": Arg(name="q")})
    with pytest.raises(ValueError, match="requires it, so hiding it needs value="):
        server.transform_tool("search", arguments={"q": Arg(hide=True)})
    with pytest.raises(ValueError, match="hidden one"):
        server.transform_tool("search", arguments={"q": Arg(value="x")})
    with pytest.raises(TypeError, match="did you mean 'description'"):
        server.transform_tool("search", descripton="typo")  # type: ignore[call-arg]
    with pytest.raises(KeyError, match="no tool named 'nope'"):
        server.transform_tool("nope", name="x")

    async def no_forward(query: str) -> str:
        return query

    with pytest.raises(TypeError, match="annotated Forward"):
        server.transform_tool("search", wrap=no_forward)
    # nothing refused took the original away
    assert "search" in server.tools


@pytest.mark.parametrize("era", ERAS)
async def test_a_derived_tool_has_its_own_tags_or_the_originals(era: str) -> None:
    server = Server("docs")

    @server.tool(tags={"search"}, version="2", meta={"owner": "docs-team"})
    def search(q: str) -> str:
        return q

    server.transform_tool("search", name="lookup", keep_original=True)
    derived = server.transform_tool(
        "search", name="admin_search", keep_original=True, tags={"admin"}
    )
    server.disable(tags={"admin"})
    async with asyncio.timeout(WAIT), Client(server, protocol=era) as client:
        tools = {t.name: t for t in await client.list_tools()}
        assert set(tools) == {"search", "lookup"}  # admin_search: disabled by its own tag
        lookup = tools["lookup"].meta
        assert lookup == {
            "owner": "docs-team",
            "io.mcpkit/tags": ["search"],
            "io.mcpkit/version": "2",
        }
        assert _text(await client.call_tool("lookup", {"q": "x"})) == "x"
    assert derived.tags == frozenset({"admin"})
    assert derived.wire.meta == {
        "owner": "docs-team",
        "io.mcpkit/tags": ["admin"],
        "io.mcpkit/version": "2",
    }


@pytest.mark.parametrize("era", ERAS)
async def test_a_wrapper_gets_the_derived_defaults_and_forwards_by_derived_names(
    era: str, caplog: pytest.LogCaptureFixture
) -> None:
    server, calls = search_server()
    seen: list[int] = []

    async def relay(forward: Forward, query: str, limit: int = 99) -> CallToolResult:
        seen.append(limit)
        if query == "by the original's name":
            return await forward(q=query)
        return await forward(query=query, limit=limit)

    server.transform_tool(
        "search",
        arguments={
            "q": Arg(name="query"),
            "limit": Arg(default=4),
            "debug": Arg(hide=True),
            "user": Arg(hide=True, compute=lambda: "computed in sync"),
        },
        wrap=relay,
    )
    async with asyncio.timeout(WAIT), Client(server, protocol=era) as client:
        await client.call_tool("search", {"query": "owls"})
        wrong = await client.call_tool("search", {"query": "by the original's name"})
        assert wrong.is_error
    assert seen == [4, 4]
    assert [c["limit"] for c in calls] == [4]  # the second never reached the original
    assert calls[0]["user"] == "computed in sync"
    assert "forward() got 'q', which the derived tool does not have" in caplog.text


@pytest.mark.parametrize("era", ERAS)
async def test_a_derived_tool_can_be_derived_from_again(era: str) -> None:
    server, calls = search_server()
    server.transform_tool("search", name="find", arguments={"q": Arg(name="query")})
    server.transform_tool(
        "find", name="find_owls", arguments={"query": Arg(hide=True, value="owls")}
    )
    async with asyncio.timeout(WAIT), Client(server, protocol=era) as client:
        assert [t.name for t in await client.list_tools()] == ["find_owls"]
        result = await client.call_tool("find_owls", {"limit": 2})
        assert result.structured_content is not None
        assert (result.structured_content["q"], result.structured_content["limit"]) == ("owls", 2)
    assert len(calls) == 1


@pytest.mark.parametrize("era", ERAS)
async def test_an_error_result_of_a_tool_with_an_output_schema_goes_as_it_is(era: str) -> None:
    # What lets a derived tool pass its original's error on: an error result carries no
    # data, so it is not held to the output schema.
    server = Server("strict")

    @server.tool(output_schema={"type": "object", "properties": {"n": {"type": "integer"}}})
    def count() -> CallToolResult:
        return CallToolResult(content=[], is_error=True)

    async with asyncio.timeout(WAIT), Client(server, protocol=era) as client:
        result = await client.call_tool("count", {})
    assert result.is_error and result.content == []


@pytest.mark.parametrize("era", ERAS)
async def test_a_task_tool_of_the_server_stays_one_when_derived(era: str) -> None:
    server = Server("bakery")

    @server.tool(task=True)
    async def bake(loaves: int, ctx: Context) -> str:
        await ctx.progress(1, total=1)
        return f"{loaves} loaves"

    server.transform_tool("bake", name="bake_bread", arguments={"loaves": Arg(name="count")})
    async with asyncio.timeout(WAIT), Client(server, protocol=era) as client:
        (tool,) = await client.list_tools()
        assert tool.execution is not None and tool.execution.task_support == "optional"
        result = await client.call_tool("bake_bread", {"count": 2}, task=True)
        assert _text(result) == "2 loaves"


async def test_an_argument_named_ctx_reaches_the_original() -> None:
    server = Server("api")

    @server.tool(input_schema={"type": "object", "properties": {"ctx": {"type": "string"}}})
    def lookup(ctx: str) -> str:  # (an API's parameter, not a Context)
        return f"ctx={ctx}"

    server.transform_tool("lookup", description="Look up a context.")
    async with asyncio.timeout(WAIT), Client(server) as client:
        assert _text(await client.call_tool("lookup", {"ctx": "abc"})) == "ctx=abc"
