"""Tools end to end through the real Client and Server over the in-memory pair."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
from typing import Annotated, Any, Literal, TypedDict

import msgspec
import pytest

from mcpkit import Client, Context, McpError, Server, ToolError, image
from mcpkit.protocol import codes
from mcpkit.types import ToolAnnotations

# These tests are about the 2025-11-25 session (what the server sends the client, its errors
# and notifications as that revision has them): the client is pinned to it. docs/eras.md says
# what 2026-07-28 does instead; tests/server/test_modern_revision.py and
# tests/client/test_client_modern.py cover it.
Client = functools.partial(Client, protocol="2025-11-25")


def make_server() -> Server:
    server = Server("tools-test", version="1.2.3", instructions="use the tools")

    @server.tool()
    async def add(a: int, b: int, ctx: Context) -> int:
        """Add two numbers.

        Args:
            a: the first number
            b: the second number
        """
        await ctx.progress(1, total=1)
        return a + b

    @server.tool()
    def echo(text: str) -> str:
        """Echo the text back."""
        return text

    @dataclasses.dataclass
    class Weather:
        city: str
        celsius: float

    @server.tool(
        title="Weather", annotations=ToolAnnotations(read_only_hint=True), meta={"team": "x"}
    )
    def weather(city: str, unit: Literal["c", "f"] = "c") -> Weather:
        return Weather(city=city, celsius=21.5)

    class Point(TypedDict):
        x: int
        y: int

    @server.tool()
    def origin() -> Point:
        return {"x": 0, "y": 0}

    @server.tool()
    def fails(kind: str) -> str:
        if kind == "tool":
            raise ToolError("the model should try another city")
        if kind == "protocol":
            raise McpError(codes.INVALID_PARAMS, "bad things")
        raise RuntimeError("boom")

    @server.tool()
    def picture() -> Any:
        return [image(b"\x89PNG", "image/png")]

    @server.tool(name="nothing.to-see_here")
    async def nothing() -> None:
        return None

    @server.tool()
    def scaled(value: Annotated[float, msgspec.Meta(ge=0, description="non-negative")]) -> float:
        return value * 2

    return server


async def test_list_tools_has_schemas_and_metadata() -> None:
    async with Client(make_server()) as client:
        assert client.server_info.name == "tools-test"
        assert client.server_info.version == "1.2.3"
        assert client.instructions == "use the tools"
        assert client.protocol_version == "2025-11-25"
        tools = {t.name: t for t in await client.list_tools()}
        add = tools["add"]
        assert add.description and add.description.startswith("Add two numbers.")
        assert add.input_schema["type"] == "object"
        assert set(add.input_schema["properties"]) == {"a", "b"}  # ctx is injected, not input
        assert add.input_schema["required"] == ["a", "b"]
        assert add.input_schema["properties"]["a"].get("description") == "the first number"
        assert add.output_schema is not None
        assert add.output_schema["properties"]["result"]["type"] == "integer"
        w = tools["weather"]
        assert w.title == "Weather" and w.meta == {"team": "x"}
        assert w.annotations is not None and w.annotations.read_only_hint is True
        assert w.output_schema is not None and "celsius" in str(w.output_schema)
        assert w.input_schema["properties"]["unit"]["enum"] == ["c", "f"]
        assert "nothing.to-see_here" in tools


async def test_call_tool_structured_output_and_text() -> None:
    progress: list[tuple[float, float | None]] = []
    async with Client(make_server()) as client:
        result = await client.call_tool(
            "add", {"a": 2, "b": 3}, progress=lambda p, t, m: progress.append((p, t))
        )
        assert result.is_error in (None, False)
        assert result.structured_content == {"result": 5}
        assert result.content[0].text == "5"
        assert progress == [(1, 1)]
        w = await client.call_tool("weather", {"city": "Oslo"})
        assert w.structured_content == {"city": "Oslo", "celsius": 21.5}
        o = await client.call_tool("origin", {})
        assert o.structured_content == {"x": 0, "y": 0}
        e = await client.call_tool("echo", {"text": "hi"})
        assert e.content[0].text == "hi"
        n = await client.call_tool("nothing.to-see_here")
        assert n.content == []
        pic = await client.call_tool("picture")
        assert pic.content[0].type == "image" and pic.content[0].mime_type == "image/png"


async def test_invalid_input_is_a_tool_error_that_says_what_is_wrong() -> None:
    async with Client(make_server()) as client:
        missing = await client.call_tool("add", {"a": 1})
        assert missing.is_error is True
        assert "b" in missing.content[0].text
        wrong = await client.call_tool("add", {"a": "one", "b": 2})
        assert wrong.is_error is True and "a" in wrong.content[0].text
        negative = await client.call_tool("scaled", {"value": -1})
        assert negative.is_error is True and "value" in negative.content[0].text


async def test_failures_become_error_results_or_protocol_errors() -> None:
    async with Client(make_server()) as client:
        r = await client.call_tool("fails", {"kind": "tool"})
        assert r.is_error is True and r.content[0].text == "the model should try another city"
        r = await client.call_tool("fails", {"kind": "crash"})
        # An unexpected exception's text stays in the server's log (issue 19: it may hold
        # paths and secrets); mask_error_details=False shows it, for development.
        assert r.is_error is True and r.content[0].text == "Error executing tool 'fails'"
        with pytest.raises(McpError) as info:
            await client.call_tool("fails", {"kind": "protocol"})
        assert info.value.code == codes.INVALID_PARAMS
        with pytest.raises(McpError) as info:
            await client.call_tool("no-such-tool", {})
        assert info.value.code == codes.INVALID_PARAMS and "no-such-tool" in info.value.message


async def test_unmasked_an_exceptions_text_reaches_the_client() -> None:
    server = make_server()
    server.mask_error_details = False
    async with Client(server) as client:
        r = await client.call_tool("fails", {"kind": "crash"})
        assert r.is_error is True and "boom" in r.content[0].text


def test_tool_names_are_checked() -> None:
    server = Server("names")
    with pytest.raises(ValueError, match="invalid tool name"):
        server.add_tool(lambda: 1, name="has space")
    with pytest.raises(ValueError, match="invalid tool name"):
        server.add_tool(lambda: 1, name="x" * 129)
    with pytest.raises(ValueError, match="already registered"):
        server.add_tool(lambda: 1, name="a")
        server.add_tool(lambda: 1, name="a")


async def test_tools_added_and_removed_at_run_time_send_list_changed() -> None:
    server = make_server()
    seen: list[str] = []
    changed = asyncio.Event()

    def on_notification(method: str, params: Any) -> None:
        seen.append(method)
        changed.set()

    async with Client(server, on_notification=on_notification) as client:
        server.add_tool(lambda: "new", name="late")
        await asyncio.wait_for(changed.wait(), 5)
        assert seen == ["notifications/tools/list_changed"]
        assert "late" in [t.name for t in await client.list_tools()]
        changed.clear()
        server.remove_tool("late")
        await asyncio.wait_for(changed.wait(), 5)
        assert "late" not in [t.name for t in await client.list_tools()]


async def test_raw_input_schema_is_validated() -> None:
    server = Server("raw")
    schema = {
        "type": "object",
        "properties": {"n": {"type": "integer", "minimum": 3}},
        "required": ["n"],
    }

    @server.tool(input_schema=schema)
    def count(n: int) -> int:
        return n

    async with Client(server) as client:
        (tool,) = await client.list_tools()
        assert tool.input_schema == schema
        bad = await client.call_tool("count", {"n": 1})
        assert bad.is_error is True and "n" in bad.content[0].text
        good = await client.call_tool("count", {"n": 4})
        assert good.structured_content == {"result": 4}


async def test_pagination_of_tools() -> None:
    server = Server("many", page_size=3)

    def constant(i: int = 0) -> int:
        return i

    for i in range(8):
        server.add_tool(constant, name=f"t{i}")
    async with Client(server) as client:
        first = await client.list_tools_page()
        assert len(first.tools) == 3 and first.next_cursor
        everything = await client.list_tools()
        assert [t.name for t in everything] == [f"t{i}" for i in range(8)]
        with pytest.raises(McpError) as info:
            await client.list_tools_page("garbage!")
        assert info.value.code == codes.INVALID_PARAMS


async def test_output_that_breaks_its_schema_is_an_error_result_and_str_can_be_structured() -> None:
    server = Server("out")

    @server.tool()
    def liar() -> int:
        return "not a number"  # type: ignore[return-value]

    @server.tool(structured_output=True)
    def shout(text: str) -> str:
        return text.upper()

    @server.tool(structured_output=False)
    def plain() -> int:
        return 7

    async with Client(server) as client:
        tools = {t.name: t for t in await client.list_tools()}
        assert tools["shout"].output_schema == {
            "type": "object",
            "properties": {"result": {"type": "string"}},
            "required": ["result"],
            "x-fastmcp-wrap-result": True,  # FastMCP's client then unwraps the value
        }
        assert tools["plain"].output_schema is None
        bad = await client.call_tool("liar")
        assert bad.is_error is True and "invalid output" in bad.content[0].text
        loud = await client.call_tool("shout", {"text": "hi"})
        assert loud.structured_content == {"result": "HI"}
        assert loud.content[0].text == "HI"
        seven = await client.call_tool("plain")
        assert seven.structured_content is None and seven.content[0].text == "7"


async def test_a_sync_tool_may_change_the_tool_list_from_its_worker_thread() -> None:
    server = Server("threads")
    changed = asyncio.Event()

    @server.tool()
    def grow() -> str:  # sync: runs in a worker thread
        server.add_tool(lambda: "new", name="fresh")
        return "ok"

    def on_notification(method: str, params: Any) -> None:
        if method == "notifications/tools/list_changed":
            changed.set()

    async with Client(server, on_notification=on_notification) as client:
        assert (await client.call_tool("grow")).content[0].text == "ok"
        await asyncio.wait_for(changed.wait(), 5)
        assert "fresh" in {t.name for t in await client.list_tools()}


async def test_call_tool_returns_a_tool_result_with_text() -> None:
    from mcpkit import ToolResult, text
    from mcpkit.types import CallToolResult

    server = Server("texts")

    @server.tool()
    def two_lines() -> object:
        return [text("first"), image(b"\x89PNG\r\n\x1a\n", "image/png"), text("second")]

    async with Client(server) as client:
        result = await client.call_tool("two_lines")
        assert isinstance(result, ToolResult) and isinstance(result, CallToolResult)
        assert result.text == "first\nsecond"
        assert result.is_error in (None, False)


async def test_changes_made_together_are_announced_once() -> None:
    server = make_server()
    seen: list[str] = []
    changed = asyncio.Event()

    def on_notification(method: str, params: Any) -> None:
        seen.append(method)
        changed.set()

    async with Client(server, on_notification=on_notification) as client:
        for n in range(100):
            server.add_tool(lambda: "new", name=f"late{n}")
        await asyncio.wait_for(changed.wait(), 5)
        tools = await client.list_tools()  # answered after the announcement was sent
        assert seen == ["notifications/tools/list_changed"]
        assert {f"late{n}" for n in range(100)} <= {t.name for t in tools}


async def test_changes_for_a_client_that_does_not_read_do_not_pile_up() -> None:
    from mcpkit.testing import raw_session

    server = make_server()

    @server.tool()
    def big() -> str:
        return "x" * 100_000

    async with raw_session(server) as peer:
        handle = next(iter(server.sessions))
        for n in range(40):  # 4 MB of answers the peer leaves unread: over high water
            await peer.send(
                {
                    "jsonrpc": "2.0",
                    "id": 100 + n,
                    "method": "tools/call",
                    "params": {"name": "big", "arguments": {}},
                }
            )
        await asyncio.wait_for(_until(lambda: handle.connection.send_backlog > 1024 * 1024), 5)
        tasks_before = len(server._tasks)
        for n in range(1000):
            server.add_tool(lambda: "new", name=f"late{n}")
        assert len(server._tasks) <= tasks_before + 1
        assert handle.pending_announcements == {"notifications/tools/list_changed"}


async def _until(done: Any) -> None:
    while not done():
        await asyncio.sleep(0)
