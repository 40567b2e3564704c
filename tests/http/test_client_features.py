"""The mcpkit client against mcpkit's HTTP server, served by uvicorn: every feature over
Streamable HTTP, in SSE and in JSON-only answers, with the headers the spec asks for on every
request, the server's own requests answered on a POST of their own, and DELETE on close.

Those are 2025-11-25 sessions (the client is pinned to that revision); the tests that hold in
both eras say so with `era`. tests/http/test_http_2026.py covers what 2026-07-28 does instead."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import pytest
from _client_helpers import Recorder
from _serving import WAIT, serving, small_server

from mcpkit import Client, Context, Server
from mcpkit.types import CreateMessageResult, ElicitResult, TextContent

MODES = pytest.mark.parametrize("json_response", [False, True], ids=["sse", "json"])
ERAS = pytest.mark.parametrize("era", ["2025-11-25", "2026-07-28"])
Client = functools.partial(Client, protocol="2025-11-25")


def make_server() -> Server:
    server = small_server("http-features", "2.0")

    @server.tool()
    async def chatty(ctx: Context) -> str:
        await ctx.debug("hidden")
        await ctx.warning("careful", logger="worker")
        return "said"

    @server.tool()
    async def ask_llm(question: str, ctx: Context) -> str:
        result = await ctx.sample(question, max_tokens=10)
        assert isinstance(result.content, TextContent)
        return result.content.text

    @server.tool()
    async def ask_name(ctx: Context) -> str:
        answer = await ctx.elicit(
            "Name?", {"type": "object", "properties": {"n": {"type": "string"}}}
        )
        return f"{answer.action}:{answer.data}"

    @server.resource("config://app", mime_type="application/json")
    def config() -> dict[str, bool]:
        return {"debug": False}

    @server.resource("users://{user_id}/profile")
    def profile(user_id: str) -> str:
        return f"profile of {user_id}"

    @server.prompt()
    def review(code: str) -> str:
        """Review some code."""
        return f"Please review:\n{code}"

    return server


def sample(params: Any) -> CreateMessageResult:
    text = params.messages[0].content.text
    return CreateMessageResult(role="assistant", content=TextContent(text=text.upper()), model="m")


def elicit(params: Any) -> ElicitResult:
    return ElicitResult(action="accept", content={"n": "Ada"})


@ERAS
@MODES
async def test_tools_resources_and_prompts(json_response: bool, era: str) -> None:
    app = make_server().http_app(json_response=json_response)
    async with (
        asyncio.timeout(WAIT),
        serving(app) as base,
        Client(base + "/mcp", protocol=era) as client,
    ):
        assert client.server_info.name == "http-features"
        assert client.protocol_version == era
        assert sorted(t.name for t in await client.list_tools()) == [
            "add",
            "ask_llm",
            "ask_name",
            "chatty",
            "slow",
        ]
        assert (await client.call_tool("add", {"a": 2, "b": 3})).structured_content == {"result": 5}
        bad = await client.call_tool("add", {"a": "x"})
        assert bad.is_error
        assert [r.uri for r in await client.list_resources()] == ["config://app"]
        read = await client.read_resource("users://ada/profile")
        assert read.contents[0].text == "profile of ada"  # type: ignore[union-attr]
        prompt = await client.get_prompt("review", {"code": "x = 1"})
        assert prompt.messages[0].content.text == "Please review:\nx = 1"  # type: ignore[union-attr]
        await client.ping()


@pytest.mark.parametrize(
    ("json_response", "era"),
    [(False, "2025-11-25"), (True, "2025-11-25"), (False, "2026-07-28")],
    ids=["sse", "json", "sse-2026"],
)
async def test_progress_and_logging(json_response: bool, era: str) -> None:
    # With JSON answers a 2025 session's server sends what comes before a result on the GET
    # stream; 2026-07-28 has none (a JSON answer carries the result alone).
    app = make_server().http_app(json_response=json_response)
    logs: list[Any] = []
    logged = asyncio.Event()

    def on_log(params: Any) -> None:
        logs.append((params.level, params.logger, params.data))
        logged.set()

    async with asyncio.timeout(WAIT), serving(app) as base:
        async with Client(base + "/mcp", on_log=on_log, protocol=era) as client:
            seen: list[float] = []
            result = await client.call_tool(
                "slow", {"steps": 3}, progress=lambda p, t, m: seen.append(p)
            )
            assert result.text == "3 steps"
            assert seen == [1, 2, 3]
            await client.set_logging_level("info")
            assert (await client.call_tool("chatty", {})).text == "said"
            await logged.wait()
    assert logs == [("warning", "worker", "careful")]


@MODES
async def test_sampling_and_elicitation_are_answered_on_posts_of_their_own(
    json_response: bool,
) -> None:
    recorder = Recorder(make_server().http_app(json_response=json_response))
    async with asyncio.timeout(WAIT), serving(recorder) as base:
        async with Client(
            base + "/mcp", sampling_handler=sample, elicitation_handler=elicit
        ) as client:
            assert (await client.call_tool("ask_llm", {"question": "hi"})).text == "HI"
            assert (await client.call_tool("ask_name", {})).text == "accept:{'n': 'Ada'}"
    answers = [s for s in recorder.posts() if s.rpc_method is None]
    assert [sorted(s.message) for s in answers] == [["id", "jsonrpc", "result"]] * 2
    assert all(s.status == 202 for s in answers)


async def test_every_request_carries_the_session_and_version_and_close_deletes() -> None:
    app = make_server().http_app()
    recorder = Recorder(app)
    async with asyncio.timeout(WAIT), serving(recorder) as base:
        # The legacy era's wire (pinned: "auto" would probe with server/discover first).
        async with Client(
            base + "/mcp", headers={"x-api-key": "k1"}, protocol="2025-11-25"
        ) as client:
            await client.call_tool("add", {"a": 1, "b": 1})
            sid = client.connection.channel.http.session_id  # type: ignore[attr-defined]
            assert len(app.sessions) == 1
        assert len(app.sessions) == 0  # DELETE ended it
    first, *rest = recorder.seen
    assert first.rpc_method == "initialize"
    assert "mcp-session-id" not in first.headers
    assert first.headers["accept"] == "application/json, text/event-stream"
    assert first.headers["content-type"] == "application/json"
    assert [s.method for s in rest].count("GET") == 1 and rest[-1].method == "DELETE"
    for seen in rest:
        assert seen.headers["mcp-session-id"] == sid
        assert seen.headers["mcp-protocol-version"] == "2025-11-25"
        assert seen.headers["x-api-key"] == "k1"
    (get,) = [s for s in rest if s.method == "GET"]
    assert get.headers["accept"] == "text/event-stream"
    assert [s.rpc_method for s in rest if s.method == "POST"] == [
        "notifications/initialized",
        "tools/call",
    ]


async def test_a_list_changed_arrives_on_the_get_stream() -> None:
    server = make_server()
    got: asyncio.Queue[str] = asyncio.Queue()
    async with asyncio.timeout(WAIT), serving(server.http_app()) as base:
        async with Client(
            base + "/mcp", on_notification=lambda method, params: got.put_nowait(method)
        ) as client:
            # Our first message goes out once notifications/initialized has been accepted and
            # the GET stream answered (connect() may return a moment before that).
            await client.ping()
            server.add_resource(lambda: "late", "note://late")
            assert await got.get() == "notifications/resources/list_changed"
            assert "note://late" in [r.uri for r in await client.list_resources()]


async def test_requests_run_side_by_side() -> None:
    """Each POST runs in its own task: a call waiting on the server never holds the next."""
    server = Server("gate")
    gate = asyncio.Event()

    @server.tool()
    async def wait_gate() -> str:
        await gate.wait()
        return "opened"

    @server.tool()
    def open_gate() -> str:
        gate.set()
        return "done"

    async with asyncio.timeout(WAIT), serving(server.http_app()) as base:
        async with Client(base + "/mcp") as client:
            waiting = asyncio.create_task(client.call_tool("wait_gate", {}))
            assert (await client.call_tool("open_gate", {})).text == "done"
            assert (await waiting).text == "opened"


@pytest.mark.parametrize("era", ["2025-11-25", "2026-07-28"])
async def test_a_call_that_times_out_is_cancelled_and_its_stream_let_go(era: str) -> None:
    """2025-11-25: the client sends notifications/cancelled. 2026-07-28: closing the call's
    response stream is the cancellation (basic/patterns/cancellation), and nothing is sent."""
    from mcpkit import RequestTimeout

    server = Server("stuck")
    cancelled = asyncio.Event()

    @server.tool()
    async def stuck() -> str:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "never"

    recorder = Recorder(server.http_app())
    async with asyncio.timeout(WAIT), serving(recorder) as base:
        async with Client(base + "/mcp", protocol=era) as client:
            assert client.protocol_version == era
            with pytest.raises(RequestTimeout):
                await client.call_tool("stuck", {}, timeout=0.2)
            await cancelled.wait()  # the server stopped the tool
            await client.ping()
            transport = client.connection.channel.http  # type: ignore[attr-defined]
            if transport._tasks:  # the ping's task ends just after its answer was handed on
                await asyncio.wait(transport._tasks, timeout=WAIT)
            assert transport._requests == {}  # the call's POST stream is no longer read
    assert len(recorder.posts("notifications/cancelled")) == (era == "2025-11-25")


async def test_a_call_whose_stream_the_server_closes_is_resumed_to_its_result() -> None:
    """SEP-1699 both ways: the tool closes its SSE stream mid-call (`ctx.close_sse_stream()`),
    keeps working, and the client comes back with GET + Last-Event-ID after the server's
    `retry`: every progress notification once, in order, then the result."""
    server = Server("resumed")
    closed = asyncio.Event()
    go_on = asyncio.Event()

    @server.tool()
    async def long_job(ctx: Context) -> str:
        await ctx.progress(1, 3)
        assert await ctx.close_sse_stream()
        closed.set()
        await go_on.wait()  # the client is away: what follows is stored for it
        await ctx.progress(2, 3)
        await ctx.progress(3, 3)
        return "finished"

    seen: list[float] = []
    recorder = Recorder(server.http_app(sse_retry=0.05))
    async with asyncio.timeout(WAIT), serving(recorder) as base:
        async with Client(base + "/mcp") as client:
            call = asyncio.ensure_future(
                client.call_tool("long_job", {}, progress=lambda p, t, m: seen.append(p))
            )
            await closed.wait()
            go_on.set()
            result = await call
    assert result.text == "finished"
    assert seen == [1, 2, 3]
    resumed = [r for r in recorder.seen if r.method == "GET" and "last-event-id" in r.headers]
    assert resumed, "the client came back with Last-Event-ID"
