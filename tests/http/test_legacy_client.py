"""mcpkit's legacy HTTP+SSE client (`open_legacy_sse_channel`) against mcpkit's legacy server
and against hand-written servers that misbehave: the endpoint event, answers on the stream,
and every way the stream or a POST can fail (spec: 2024-11-05 basic/transports)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from _legacy import Relay, make_server
from _serving import WAIT, serving

import mcpkit.transports.legacy_sse_client as legacy_client
from mcpkit import Client, Context
from mcpkit._asgi import Receive, Scope, Send
from mcpkit.errors import ConnectionClosed, TransportError
from mcpkit.protocol.limits import DEFAULT_MAX_MESSAGE_SIZE
from mcpkit.transports.legacy_sse_client import open_legacy_sse_channel
from mcpkit.types import CreateMessageRequestParams, CreateMessageResult, ElicitResult, TextContent

Stream = Callable[[Send, Receive], Awaitable[None]]
PING = b'{"jsonrpc":"2.0","id":1,"method":"ping"}'


async def open_channel(
    url: str, client: httpx.AsyncClient, max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE
) -> legacy_client.LegacySseChannel:
    channel = await open_legacy_sse_channel(
        url, http_client=client, headers={"x-test": "1"}, max_message_size=max_message_size
    )
    assert isinstance(channel, legacy_client.LegacySseChannel)
    return channel


def sse_app(stream: Stream, *, status: int = 200, kind: bytes = b"text/event-stream") -> object:
    """A server whose GET /sse answers with `stream`, and whose POSTs get 404."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await receive()
            await send({"type": "lifespan.startup.complete"})
            await receive()
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["method"] == "POST":
            await send({"type": "http.response.start", "status": 404, "headers": []})
            await send({"type": "http.response.body", "body": b"gone"})
            return
        headers = [(b"content-type", kind)]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await stream(send, receive)

    return app


async def chunk(send: Send, data: bytes, more: bool = True) -> None:
    await send({"type": "http.response.body", "body": data, "more_body": more})


async def until_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


async def test_mcpkit_client_calls_tools_with_progress_over_legacy_sse() -> None:
    server = make_server()
    app = server.http_app()
    assert app.legacy is not None
    seen: list[float] = []

    def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(progress)

    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as http:
        channel = await open_channel(base + "/sse", http)
        assert channel.endpoint is not None and channel.endpoint.path == "/messages"
        async with Client(Relay(channel)) as client:
            assert client.server_info.name == "legacy-test"
            names = sorted(t.name for t in await client.list_tools())
            assert names == ["add", "blob", "steps", "wait_for"]
            added = await client.call_tool("add", {"a": 2, "b": 3})
            assert added.structured_content == {"result": 5}
            done = await client.call_tool("steps", {"n": 3}, progress=on_progress)
            assert done.content[0].text == "3 steps"  # type: ignore[union-attr]
            assert len(app.legacy.sessions) == 1
        # Closing the client ended the GET: the server freed the session.
        tasks = {session.task for _, session in app.legacy.sessions.items()}
        if tasks:
            await asyncio.wait(tasks, timeout=WAIT)
        assert len(app.legacy.sessions) == 0 and len(server.sessions) == 0
    assert seen == [1, 2, 3]


async def test_headers_go_on_the_get_and_every_post() -> None:
    server = make_server()
    seen: list[str | None] = []

    @server.tool()
    def header(ctx: Context) -> str:
        """Echoes the x-test header of the request."""
        info = ctx.request_info
        value = None if info is None else info.header("x-test")
        seen.append(value)
        return str(value)

    app = server.http_app()
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as http:
        channel = await open_channel(base + "/sse", http)
        async with Client(Relay(channel)) as client:
            await client.call_tool("header", {})
    assert seen == ["1"]


async def test_an_endpoint_on_another_origin_is_refused() -> None:
    async def stream(send: Send, receive: Receive) -> None:
        await chunk(send, b"event: endpoint\ndata: http://evil.example/messages?s=1\n\n")
        await until_disconnect(receive)

    async with asyncio.timeout(WAIT), serving(sse_app(stream)) as base, httpx.AsyncClient() as http:
        with pytest.raises(TransportError, match="another origin"):
            await open_channel(base + "/sse", http)


def test_the_endpoint_resolves_against_the_stream_url() -> None:
    url = httpx.URL("http://127.0.0.1:8000/api/sse")
    assert legacy_client._endpoint(url, "messages?session_id=a") == httpx.URL(
        "http://127.0.0.1:8000/api/messages?session_id=a"
    )
    assert legacy_client._endpoint(url, "/m?session_id=b").path == "/m"
    assert legacy_client._endpoint(url, "http://127.0.0.1:8000/x").path == "/x"
    foreign_urls = (
        "https://127.0.0.1:8000/x",
        "http://localhost:8000/x",
        "http://127.0.0.1:8001/x",
        "//evil.example/x",
    )
    for foreign in foreign_urls:
        with pytest.raises(TransportError, match="another origin"):
            legacy_client._endpoint(url, foreign)


async def test_no_endpoint_event_in_time_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(legacy_client, "ENDPOINT_TIMEOUT", 0.2)

    async def stream(send: Send, receive: Receive) -> None:
        await chunk(send, b": a comment, and no endpoint\n\n")
        await until_disconnect(receive)

    async with asyncio.timeout(WAIT), serving(sse_app(stream)) as base, httpx.AsyncClient() as http:
        with pytest.raises(TransportError, match="no endpoint event within"):
            await open_channel(base + "/sse", http)


async def test_a_url_that_is_no_sse_stream_is_an_error() -> None:
    async def nothing(send: Send, receive: Receive) -> None:
        await chunk(send, b"{}", more=False)

    async with asyncio.timeout(WAIT), httpx.AsyncClient() as http:
        async with serving(sse_app(nothing, status=404)) as base:
            with pytest.raises(TransportError, match="answered 404"):
                await open_channel(base + "/sse", http)
        async with serving(sse_app(nothing, kind=b"application/json")) as base:
            with pytest.raises(TransportError, match="not text/event-stream"):
                await open_channel(base + "/sse", http)
        async with serving(sse_app(nothing)) as base:
            with pytest.raises(TransportError, match="ended the SSE stream"):
                await open_channel(base + "/sse", http)


async def test_an_oversize_message_ends_the_channel_with_the_reason() -> None:
    async def stream(send: Send, receive: Receive) -> None:
        await chunk(send, b"event: endpoint\ndata: /messages\n\n")
        await chunk(send, b"event: message\ndata: " + b"x" * 5000 + b"\n\n")
        await until_disconnect(receive)

    async with asyncio.timeout(WAIT), serving(sse_app(stream)) as base, httpx.AsyncClient() as http:
        channel = await open_channel(base + "/sse", http, max_message_size=1000)
        with pytest.raises(ConnectionClosed, match="longer than"):
            await channel.receive()
        await channel.aclose()


async def test_messages_are_read_in_order_then_the_end_is_reported() -> None:
    async def stream(send: Send, receive: Receive) -> None:
        await chunk(send, b"event: endpoint\r\ndata: /messages\r\n\r\n: keep-alive\n\n")
        await chunk(send, b'event: message\ndata: {"a":1}\n\ndata:\n\nevent: other\ndata: x\n\n')
        await chunk(send, b'data: {"b":2}\n\n', more=False)

    async with asyncio.timeout(WAIT), serving(sse_app(stream)) as base, httpx.AsyncClient() as http:
        channel = await open_channel(base + "/sse", http)
        assert await channel.receive() == b'{"a":1}'
        assert await channel.receive() == b'{"b":2}'  # no event name: a message too
        with pytest.raises(ConnectionClosed, match="ended the SSE stream"):
            await channel.receive()
        with pytest.raises(ConnectionClosed):
            await channel.send(PING)
        await channel.aclose()


async def test_a_post_refused_with_404_ends_the_channel() -> None:
    async def stream(send: Send, receive: Receive) -> None:
        await chunk(send, b"event: endpoint\ndata: /messages?session_id=x\n\n")
        await until_disconnect(receive)

    async with asyncio.timeout(WAIT), serving(sse_app(stream)) as base, httpx.AsyncClient() as http:
        channel = await open_channel(base + "/sse", http)
        with pytest.raises(ConnectionClosed, match="ended the session"):
            await channel.send(PING)
        assert not channel.writable
        with pytest.raises(ConnectionClosed, match="ended the session"):
            await channel.receive()
        await channel.aclose()
        await channel.aclose()  # idempotent


async def test_a_server_that_is_gone_fails_the_open() -> None:
    async with asyncio.timeout(WAIT), httpx.AsyncClient() as http:
        with pytest.raises(TransportError, match="failed"):
            await open_channel("http://127.0.0.1:1/sse", http)


async def test_sampling_and_elicitation_answers_come_back_on_their_own_posts() -> None:
    server = make_server()

    @server.tool()
    async def ask(ctx: Context, question: str) -> str:
        """Asks the client's model, then the user."""
        sampled = await ctx.sample(question, max_tokens=10)
        assert isinstance(sampled.content, TextContent)
        answer = await ctx.elicit(
            "Your name?", {"type": "object", "properties": {"name": {"type": "string"}}}
        )
        return f"{sampled.content.text}/{answer.action}/{(answer.data or {}).get('name')}"

    def sample(params: CreateMessageRequestParams) -> CreateMessageResult:
        return CreateMessageResult(role="assistant", content=TextContent(text="42"), model="m")

    def elicit(params: Any) -> ElicitResult:
        return ElicitResult(action="accept", content={"name": "Ada"})

    app = server.http_app()
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as http:
        channel = await open_channel(base + "/sse", http)
        relay = Relay(channel)
        async with Client(relay, sampling_handler=sample, elicitation_handler=elicit) as client:
            result = await client.call_tool("ask", {"question": "meaning of life?"})
    assert result.content[0].text == "42/accept/Ada"  # type: ignore[union-attr]
