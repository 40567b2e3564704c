"""Context features end to end: logging, sampling, elicitation, roots, cancellation,
timeouts, lifespan, and concurrency of inbound requests."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import enum
import functools
from collections.abc import AsyncIterator
from typing import Any, Literal

import pytest

from mcpkit import Client, Context, RequestTimeout, Server, UrlElicitationRequired
from mcpkit.errors import ConnectionClosed, McpError
from mcpkit.protocol import codes
from mcpkit.types import (
    CreateMessageRequestParams,
    CreateMessageResult,
    ElicitResult,
    Root,
    TextContent,
    ToolUseContent,
)

# These tests are about the 2025-11-25 session (what the server sends the client, its errors
# and notifications as that revision has them): the client is pinned to it. docs/eras.md says
# what 2026-07-28 does instead; tests/server/test_modern_revision.py and
# tests/client/test_client_modern.py cover it.
Client = functools.partial(Client, protocol="2025-11-25")


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclasses.dataclass
class Signup:
    name: str
    age: int = 30
    color: Color = Color.RED
    plan: Literal["free", "pro"] = "free"
    newsletter: bool = False


class Marks:
    """Events the test server sets, so tests wait for what they name (bounded) and never poll."""

    def __init__(self) -> None:
        self.slow_started = asyncio.Event()
        self.slow_cancelled = asyncio.Event()
        self.lifespan_left = asyncio.Event()


def make_server(started: list[str] | None = None, marks: Marks | None = None) -> Server:
    marks = marks or Marks()

    @contextlib.asynccontextmanager
    async def lifespan(server: Server) -> AsyncIterator[dict[str, str]]:
        if started is not None:
            started.append("up")
        yield {"db": "connected"}
        if started is not None:
            started.append("down")
        marks.lifespan_left.set()

    server = Server("features", lifespan=lifespan)

    @server.tool()
    async def chatty(ctx: Context) -> str:
        await ctx.debug("debug detail")
        await ctx.info("working", logger="worker")
        await ctx.error({"code": 7})
        return "ok"

    @server.tool()
    async def ask_llm(question: str, ctx: Context) -> str:
        result = await ctx.sample(question, max_tokens=50, system_prompt="be brief")
        content = result.content
        assert isinstance(content, TextContent)
        return content.text

    @server.tool()
    async def ask_llm_with_tools(ctx: Context) -> str:
        from mcpkit.types import Tool

        tool = Tool(name="lookup", input_schema={"type": "object", "properties": {}})
        result = await ctx.sample("use the tool", tools=[tool], tool_choice={"mode": "auto"})
        return result.stop_reason or ""

    @server.tool()
    async def signup(ctx: Context) -> str:
        answer = await ctx.elicit("Who are you?", Signup)
        if answer.action != "accept" or answer.data is None:
            return answer.action
        data = answer.data
        return f"{data.name}/{data.age}/{data.color.value}/{data.plan}/{data.newsletter}"

    @server.tool()
    async def connect_account(ctx: Context) -> str:
        result = await ctx.elicit_url("Log in please", "https://example.com/login", "el-1")
        await ctx.complete_elicitation("el-1")
        return result.action

    @server.tool()
    async def needs_login() -> str:
        raise UrlElicitationRequired(
            [
                {
                    "mode": "url",
                    "elicitationId": "el-2",
                    "url": "https://example.com/auth",
                    "message": "Authorize first",
                }
            ]
        )

    @server.tool()
    async def roots(ctx: Context) -> list[str]:
        return [r.uri for r in await ctx.list_roots()]

    @server.tool()
    async def slow(ctx: Context) -> str:
        marks.slow_started.set()
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            marks.slow_cancelled.set()
            raise
        return "finished"

    @server.tool()
    async def state(ctx: Context) -> str:
        return str(ctx.lifespan_state["db"])

    @server.tool()
    async def whoami(ctx: Context) -> str:
        assert ctx.client_info is not None
        return f"{ctx.client_info.name} {ctx.protocol_version} {ctx.request_id}"

    return server


async def test_log_messages_are_filtered_by_level() -> None:
    logs: list[Any] = []
    async with Client(make_server(), on_log=logs.append) as client:
        await client.call_tool("chatty")
        await client.ping()
        assert [m.level for m in logs] == ["debug", "info", "error"]
        assert logs[1].logger == "worker" and logs[2].data == {"code": 7}
        logs.clear()
        await client.set_logging_level("warning")
        await client.call_tool("chatty")
        await client.ping()
        assert [m.level for m in logs] == ["error"]


async def test_sampling_round_trip() -> None:
    seen: list[CreateMessageRequestParams] = []

    def sample(params: CreateMessageRequestParams) -> CreateMessageResult:
        seen.append(params)
        return CreateMessageResult(
            role="assistant",
            content=TextContent(text="42"),
            model="test-model",
            stop_reason="endTurn",
        )

    async with Client(make_server(), sampling_handler=sample) as client:
        result = await client.call_tool("ask_llm", {"question": "meaning of life?"})
        assert result.content[0].text == "42"
        assert seen[0].system_prompt == "be brief" and seen[0].max_tokens == 50


async def test_sampling_without_the_capability_fails_the_tool() -> None:
    async with Client(make_server()) as client:
        result = await client.call_tool("ask_llm", {"question": "q"})
        assert result.is_error is True and "sampling" in result.content[0].text


async def test_sampling_with_tools_needs_sampling_tools() -> None:
    async def sample(params: CreateMessageRequestParams) -> dict[str, Any]:
        assert params.tools is not None and params.tools[0].name == "lookup"
        return {
            "role": "assistant",
            "model": "m",
            "stopReason": "toolUse",
            "content": [{"type": "tool_use", "id": "call-1", "name": "lookup", "input": {}}],
        }

    async with Client(make_server(), sampling_handler=sample) as client:
        refused = await client.call_tool("ask_llm_with_tools")
        assert refused.is_error is True and "sampling.tools" in refused.content[0].text
    async with Client(make_server(), sampling_handler=sample, sampling_tools=True) as client:
        result = await client.call_tool("ask_llm_with_tools")
        assert result.content[0].text == "toolUse"
    assert ToolUseContent is not None


async def test_form_elicitation_with_defaults_and_enums() -> None:
    schemas: list[Any] = []

    def elicit(params: Any) -> ElicitResult:
        schemas.append(params.requested_schema)
        return ElicitResult(
            action="accept", content={"name": "Ada", "color": "blue", "plan": "pro"}
        )

    async with Client(make_server(), elicitation_handler=elicit) as client:
        result = await client.call_tool("signup")
        assert result.content[0].text == "Ada/30/blue/pro/False"
    props = schemas[0]["properties"]
    assert props["age"]["default"] == 30
    assert props["color"]["enum"] == ["red", "blue"]
    assert props["plan"]["enum"] == ["free", "pro"]
    assert schemas[0]["required"] == ["name"]


async def test_form_elicitation_decline_and_bad_content() -> None:
    async with Client(make_server(), elicitation_handler=lambda p: {"action": "decline"}) as client:
        assert (await client.call_tool("signup")).content[0].text == "decline"
    async with Client(
        make_server(), elicitation_handler=lambda p: {"action": "accept", "content": {"name": 5}}
    ) as client:
        bad = await client.call_tool("signup")
        assert bad.is_error is True and "name" in bad.content[0].text


async def test_url_elicitation_and_completion_notification() -> None:
    notes: list[tuple[str, Any]] = []
    got_complete = asyncio.Event()

    def on_notification(method: str, params: Any) -> None:
        notes.append((method, params))
        if method == "notifications/elicitation/complete":
            got_complete.set()

    async with Client(
        make_server(),
        url_elicitation_handler=lambda p: {"action": "accept"},
        on_notification=on_notification,
    ) as client:
        result = await client.call_tool("connect_account")
        assert result.content[0].text == "accept"
        await asyncio.wait_for(got_complete.wait(), 5)
        assert notes[-1][1].elicitation_id == "el-1"


async def test_url_elicitation_required_error() -> None:
    async with Client(make_server()) as client:
        with pytest.raises(McpError) as info:
            await client.call_tool("needs_login")
        assert info.value.code == codes.URL_ELICITATION_REQUIRED
        assert info.value.data["elicitations"][0]["elicitationId"] == "el-2"


async def test_roots() -> None:
    roots = [Root(uri="file:///work", name="work")]
    async with Client(make_server(), roots=roots) as client:
        result = await client.call_tool("roots")
        assert result.structured_content == {"result": ["file:///work"]}
    async with Client(make_server()) as client:
        refused = await client.call_tool("roots")
        assert refused.is_error is True and "roots" in refused.content[0].text


async def test_cancelling_the_caller_cancels_the_handler_and_ping_still_works() -> None:
    marks = Marks()
    async with Client(make_server(marks=marks)) as client:
        call = asyncio.create_task(client.call_tool("slow"))
        await asyncio.wait_for(marks.slow_started.wait(), 5)
        await client.ping()  # a long handler never blocks a ping
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        await asyncio.wait_for(marks.slow_cancelled.wait(), 5)
        assert (await client.call_tool("state")).content[0].text == "connected"


async def test_timeout_sends_cancellation() -> None:
    marks = Marks()
    async with Client(make_server(marks=marks)) as client:
        with pytest.raises(RequestTimeout):
            await client.call_tool("slow", timeout=0.1)
        await asyncio.wait_for(marks.slow_cancelled.wait(), 5)


async def test_lifespan_runs_around_sessions() -> None:
    started: list[str] = []
    marks = Marks()
    async with Client(make_server(started, marks)) as client:
        assert started == ["up"]
        assert (await client.call_tool("state")).content[0].text == "connected"
        assert "mcpkit-client" in (await client.call_tool("whoami")).content[0].text
    await asyncio.wait_for(marks.lifespan_left.wait(), 5)
    assert started == ["up", "down"]


async def test_requests_after_close_fail_at_once() -> None:
    client = Client(make_server())
    await client.connect()
    conn = client.connection
    await client.aclose()
    with pytest.raises(ConnectionClosed):
        await conn.request("ping")


async def test_older_protocol_version() -> None:
    async with Client(make_server(), protocol_version="2024-11-05") as client:
        assert client.protocol_version == "2024-11-05"
        assert (await client.call_tool("state")).content[0].text == "connected"


class PingRace:
    """A server whose `ask` tool samples while its `ping_client` tool pings the client: a
    sampling handler that returns only after that ping shows the client handles server
    requests concurrently (a sequential client would deadlock, bounded by the waits)."""

    def __init__(self) -> None:
        import threading

        self.server = Server("client-concurrency")
        self.sampling = asyncio.Event()  # the client's sampling handler has been called
        self.pinged = asyncio.Event()
        self.pinged_thread = threading.Event()  # the same news, for a handler in a thread

        @self.server.tool()
        async def ask(ctx: Context) -> str:
            result = await ctx.sample("slow question", max_tokens=5)
            return getattr(result.content, "text", "")

        @self.server.tool()
        async def ping_client(ctx: Context) -> str:
            await ctx.session.request("ping", timeout=5)
            self.pinged.set()
            self.pinged_thread.set()
            return "pong"

    async def run(self, sampling_handler: Any) -> None:
        loop = asyncio.get_running_loop()

        def noting(params: Any) -> Any:  # runs on the loop or in a worker thread
            loop.call_soon_threadsafe(self.sampling.set)
            return sampling_handler(params)

        handler = noting
        if asyncio.iscoroutinefunction(sampling_handler):

            async def noting_async(params: Any) -> Any:
                self.sampling.set()
                return await sampling_handler(params)

            handler = noting_async  # type: ignore[assignment]
        async with Client(self.server, sampling_handler=handler) as client:
            asked = asyncio.ensure_future(client.call_tool("ask"))
            await asyncio.wait_for(self.sampling.wait(), 5)
            assert (await client.call_tool("ping_client")).content[0].text == "pong"
            assert (await asyncio.wait_for(asked, 5)).content[0].text == "late"


LATE = {"role": "assistant", "model": "m", "content": {"type": "text", "text": "late"}}


async def test_the_client_answers_a_ping_while_its_sampling_handler_is_busy() -> None:
    race = PingRace()

    async def slow_sampling(params: Any) -> dict[str, Any]:
        await asyncio.wait_for(race.pinged.wait(), 5)
        return LATE

    await race.run(slow_sampling)


async def test_a_blocking_sync_sampling_handler_does_not_block_the_client() -> None:
    race = PingRace()

    def blocking_sampling(params: Any) -> dict[str, Any]:  # blocks its thread, not the loop
        assert race.pinged_thread.wait(5)
        return LATE

    await race.run(blocking_sampling)


async def test_a_server_request_that_times_out_cancels_the_client_handler() -> None:
    server = Server("reverse-cancel")
    handler_cancelled = asyncio.Event()

    @server.tool()
    async def impatient(ctx: Context) -> str:
        try:
            await ctx.sample("never answered", max_tokens=5, timeout=0.2)
        except RequestTimeout:
            return "gave up"
        return "answered"

    async def stuck_sampling(params: Any) -> dict[str, Any]:
        try:
            await asyncio.sleep(30)
        except asyncio.CancelledError:
            handler_cancelled.set()
            raise
        return {}

    async with Client(server, sampling_handler=stuck_sampling) as client:
        assert (await client.call_tool("impatient")).content[0].text == "gave up"
        await asyncio.wait_for(handler_cancelled.wait(), 5)


async def test_a_client_refusing_a_sampling_request_makes_an_error_result() -> None:
    server = Server("refused")

    @server.tool()
    async def ask(ctx: Context) -> str:
        await ctx.sample("may I?", max_tokens=5)
        return "allowed"

    def refuse(params: Any) -> Any:
        raise McpError(-1, "User rejected sampling request")

    async with Client(server, sampling_handler=refuse) as client:
        result = await client.call_tool("ask")
        assert result.is_error is True
        assert "User rejected sampling request" in result.content[0].text


async def test_a_server_whose_lifespan_fails_fails_the_client_at_once() -> None:
    @contextlib.asynccontextmanager
    async def broken(server: Server) -> AsyncIterator[None]:
        raise RuntimeError("database is down")
        yield  # pragma: no cover

    client = Client(Server("broken", lifespan=broken), init_timeout=20)
    with pytest.raises(ConnectionClosed, match="database is down"):
        async with client:
            pytest.fail("cannot connect")
