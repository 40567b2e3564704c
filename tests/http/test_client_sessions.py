"""The mcpkit client's Streamable HTTP session against what a server may do to it: end the
session (404: a new session and one retry), refuse a request (the status and the server's
message reach the caller), send too much, or not be there at all.

Sessions are 2025-11-25's: the client is pinned to it, except where a test says `era`
(a refusal reads the same in both)."""

from __future__ import annotations

import asyncio
import functools
import socket

import httpx
import pytest
from _client_helpers import Recorder, Seen, rpc_error
from _serving import WAIT, headers, serving

from mcpkit import Client, ConnectionClosed, McpError, Server
from mcpkit.transports.http_client import StreamableHttpTransport

Client = functools.partial(Client, protocol="2025-11-25")


def make_server() -> Server:
    server = Server("sessions")

    @server.tool()
    def add(a: int, b: int) -> int:
        return a + b

    @server.tool()
    def big(size: int) -> str:
        return "x" * size

    return server


def transport_of(client: Client) -> StreamableHttpTransport:
    http = client.connection.channel.http  # type: ignore[attr-defined]
    assert isinstance(http, StreamableHttpTransport)
    return http


async def test_a_404_starts_a_new_session_and_the_request_is_retried_once() -> None:
    recorder = Recorder(make_server().http_app())
    async with asyncio.timeout(WAIT), serving(recorder) as base, Client(base + "/mcp") as client:
        await client.call_tool("add", {"a": 1, "b": 1})
        old = transport_of(client).session_id
        assert old is not None and client.session_id == old
        async with httpx.AsyncClient() as raw:  # the server ends the session
            ended = await raw.delete(base + "/mcp", headers=headers(old))
            assert ended.status_code == 200
        assert (await client.call_tool("add", {"a": 2, "b": 3})).structured_content == {"result": 5}
        new = transport_of(client).session_id
        assert new is not None and new != old and client.session_id == new
    calls = recorder.posts("tools/call")
    assert [(c.headers["mcp-session-id"], c.status) for c in calls] == [
        (old, 200),
        (old, 404),
        (new, 200),
    ]
    inits = recorder.posts("initialize")
    assert len(inits) == 2 and inits[0].body == inits[1].body  # the same parameters again
    assert "mcp-session-id" not in inits[1].headers
    assert len(recorder.posts("notifications/initialized")) == 2
    gets = [s.headers["mcp-session-id"] for s in recorder.seen if s.method == "GET"]
    assert gets[0] == old and gets[-1] == new  # the new session got its own GET stream


async def test_a_second_404_fails_the_request_with_a_clear_error() -> None:
    def forget_every_session(seen: Seen) -> tuple[int, bytes] | None:
        if seen.method == "POST" and seen.rpc_method == "tools/call":
            return 404, rpc_error("Session not found")
        return None

    recorder = Recorder(make_server().http_app(), override=forget_every_session)
    async with asyncio.timeout(WAIT), serving(recorder) as base, Client(base + "/mcp") as client:
        with pytest.raises(McpError) as info:
            await client.call_tool("add", {"a": 1, "b": 1})
        assert "HTTP 404" in info.value.message and "Session not found" in info.value.message
        assert info.value.data == {"httpStatus": 404}
        assert (await client.list_tools())[0].name == "add"  # the session goes on
    assert len(recorder.posts("tools/call")) == 2  # one retry, no more
    assert len(recorder.posts("initialize")) == 2


@pytest.mark.parametrize("era", ["2025-11-25", "2026-07-28"])
@pytest.mark.parametrize("status", [400, 401, 403, 500, 503])
async def test_a_refused_request_fails_with_the_status_and_the_servers_message(
    status: int, era: str
) -> None:
    def refuse(seen: Seen) -> tuple[int, bytes] | None:
        if seen.rpc_method == "tools/call":
            return status, rpc_error("no calls today", code=-32001)
        return None

    app = Recorder(make_server().http_app(), override=refuse)
    async with (
        asyncio.timeout(WAIT),
        serving(app) as base,
        Client(base + "/mcp", protocol=era) as client,
    ):
        with pytest.raises(McpError) as info:
            await client.call_tool("add", {"a": 1, "b": 1})
        assert f"HTTP {status}" in info.value.message and "no calls today" in info.value.message
        assert "tools/call" in info.value.message and info.value.code == -32001
        await client.ping()


@pytest.mark.parametrize("era", ["2025-11-25", "2026-07-28"])
async def test_a_refusal_with_a_body_that_is_not_json_rpc_still_says_what_came(era: str) -> None:
    def refuse(seen: Seen) -> tuple[int, bytes] | None:
        return (502, b"<html>bad gateway</html>") if seen.rpc_method == "tools/list" else None

    app = Recorder(make_server().http_app(), override=refuse)
    async with (
        asyncio.timeout(WAIT),
        serving(app) as base,
        Client(base + "/mcp", protocol=era) as client,
    ):
        assert client.protocol_version == era
        with pytest.raises(McpError, match=r"HTTP 502 Bad Gateway: an HTML page \(an error page"):
            await client.list_tools()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_connection_refused_fails_connect_with_a_clear_error() -> None:
    url = f"http://127.0.0.1:{closed_port()}/mcp"
    async with asyncio.timeout(WAIT):
        with pytest.raises(ConnectionClosed, match=r"cannot reach http://127\.0\.0\.1:\d+/mcp"):
            async with Client(url):
                pass


async def test_a_refused_initialize_fails_connect_with_the_status() -> None:
    def unauthorized(seen: Seen) -> tuple[int, bytes] | None:
        return 401, rpc_error("token required")

    app = Recorder(make_server().http_app(), override=unauthorized)
    async with asyncio.timeout(WAIT), serving(app) as base:
        with pytest.raises(McpError, match=r"initialize: .* HTTP 401 Unauthorized: token required"):
            async with Client(base + "/mcp"):
                pass


async def test_an_answer_over_max_message_size_fails_its_request_only() -> None:
    app = make_server().http_app()
    async with asyncio.timeout(WAIT), serving(app) as base:
        async with Client(base + "/mcp", max_message_size=4096) as client:
            with pytest.raises(McpError, match="4096"):
                await client.call_tool("big", {"size": 10_000})
            assert (await client.call_tool("big", {"size": 10})).text == "x" * 10


async def test_a_json_answer_over_max_message_size_fails_its_request_only() -> None:
    app = make_server().http_app(json_response=True)
    async with asyncio.timeout(WAIT), serving(app) as base:
        async with Client(base + "/mcp", max_message_size=4096) as client:
            with pytest.raises(McpError, match="max_message_size"):
                await client.call_tool("big", {"size": 10_000})
            assert (await client.call_tool("big", {"size": 10})).text == "x" * 10


async def test_the_transport_takes_an_httpx_client_and_auth_and_leaves_the_client_open() -> None:
    class Token(httpx.Auth):
        def auth_flow(self, request: httpx.Request):  # type: ignore[no-untyped-def]
            request.headers["authorization"] = "Bearer t0k"
            yield request

    recorder = Recorder(make_server().http_app())
    async with asyncio.timeout(WAIT), serving(recorder) as base:
        async with httpx.AsyncClient() as mine:
            transport = StreamableHttpTransport(
                base + "/mcp", http_client=mine, auth=Token(), headers={"x-team": "a"}
            )
            async with Client(transport) as client:
                await client.ping()
            assert not mine.is_closed
    assert all(s.headers["authorization"] == "Bearer t0k" for s in recorder.seen)
    assert all(s.headers["x-team"] == "a" for s in recorder.seen)


def test_headers_and_auth_are_for_urls_only() -> None:
    with pytest.raises(TypeError, match="URL targets"):
        asyncio.run(Client(["python", "x.py"], headers={"a": "b"}).connect())
    with pytest.raises(ValueError, match="ftp:// is not a transport mcpkit speaks"):
        StreamableHttpTransport("ftp://example.com/mcp")


async def test_a_server_without_get_and_delete_is_used_all_the_same(
    caplog: pytest.LogCaptureFixture,
) -> None:
    recorder = Recorder(make_server().http_app(allow_get=False, allow_delete=False))
    async with asyncio.timeout(WAIT), serving(recorder) as base:
        async with Client(base + "/mcp") as client:
            assert (await client.call_tool("add", {"a": 1, "b": 2})).structured_content == {
                "result": 3
            }
    assert [(s.method, s.status) for s in recorder.seen if s.method != "POST"] == [
        ("GET", 405),  # tried once: no GET stream
        ("DELETE", 405),  # the server keeps its sessions: fine
    ]
    assert not [r for r in caplog.records if r.levelname in ("WARNING", "ERROR")]


async def test_session_id_is_none_where_there_is_no_http_session() -> None:
    client = Client(make_server())
    assert client.session_id is None  # not connected yet
    async with client:
        assert client.session_id is None  # in memory
    async with asyncio.timeout(WAIT), serving(make_server().http_app(stateless=True)) as base:
        async with Client(base + "/mcp") as stateless:
            assert stateless.session_id is None
