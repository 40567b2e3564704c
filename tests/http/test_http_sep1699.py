"""SEP-1699 over real HTTP: the priming event (for 2025-11-25 clients only), a handler closing
its stream early with `retry` and the client getting the result on reconnection, keep-alive
comments, the MCP-Protocol-Version check, and a shutdown that ends open streams at once."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import uvicorn
from _serving import INITIALIZE, WAIT, headers, open_session, serving
from _sse import Reader, message

from mcpkit import Context, Server
from mcpkit.transports.deployment.app import McpHttpApp
from mcpkit.transports.sse_parser import SSEParser

OLD = "2025-03-26"


def make_server(release: asyncio.Event, closed: list[bool]) -> Server:
    server = Server("sep1699-test")

    @server.tool()
    async def long_call(ctx: Context) -> str:
        """Progress, then the connection closed early, then more progress and the answer."""
        await ctx.progress(1, 2)
        closed.append(await ctx.close_sse_stream(retry=0.25))
        await release.wait()
        await ctx.progress(2, 2)
        return "finished"

    return server


def call(rid: int) -> object:
    params = {"name": "long_call", "arguments": {}, "_meta": {"progressToken": "p"}}
    return {"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": params}


async def open_old_session(client: httpx.AsyncClient, url: str) -> str:
    body: dict[str, Any] = {
        **INITIALIZE,
        "params": {**INITIALIZE["params"], "protocolVersion": OLD},
    }
    response = await client.post(url, json=body, headers=headers(**{"mcp-protocol-version": OLD}))
    assert response.status_code == 200
    return response.headers["mcp-session-id"]


async def test_a_2025_11_25_stream_opens_with_a_priming_event_and_older_ones_do_not() -> None:
    app = make_server(asyncio.Event(), []).http_app()
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        url = base + "/mcp"
        sid = await open_session(client, url)
        ping = {"jsonrpc": "2.0", "id": 5, "method": "ping"}
        new = await client.post(url, json=ping, headers=headers(sid))
        priming, answer = SSEParser().feed(new.content)
        assert priming.data == "" and priming.id.endswith(".0")
        assert answer.id == priming.id[:-1] + "1" and message(answer)["id"] == 5

        old_sid = await open_old_session(client, url)
        old = await client.post(
            url, json=ping, headers=headers(old_sid, **{"mcp-protocol-version": OLD})
        )
        (only,) = SSEParser().feed(old.content)  # no event with empty data for an old client
        assert message(only)["id"] == 5 and only.id.endswith(".1")  # ids still, for resuming


async def test_close_sse_stream_ends_the_connection_and_the_client_gets_the_result_later() -> None:
    release, closed = asyncio.Event(), []
    app = make_server(release, closed).http_app()
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        url = base + "/mcp"
        sid = await open_session(client, url)
        async with client.stream("POST", url, json=call(2), headers=headers(sid)) as response:
            reader = Reader(response)
            seen = await reader.rest()  # the server ends the response itself
        assert closed == [True] and reader.retry == 250
        assert [e.data == "" for e in seen] == [True, False]
        assert message(seen[1])["params"]["progress"] == 1
        release.set()  # the call goes on with no connection: what it sends is stored
        get = headers(sid, **{"last-event-id": seen[-1].id})
        async with client.stream("GET", url, headers=get) as resumed:
            rest = [message(e) for e in await Reader(resumed).rest()]
        assert rest[0]["params"]["progress"] == 2
        assert rest[1]["id"] == 2 and rest[1]["result"]["content"][0]["text"] == "finished"


async def test_close_sse_stream_is_refused_where_the_client_could_not_come_back() -> None:
    for settings, old in [({"json_response": True}, False), ({}, True)]:
        release, closed = asyncio.Event(), []
        release.set()
        app = make_server(release, closed).http_app(**settings)  # type: ignore[arg-type]
        async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
            url = base + "/mcp"
            sid = await (open_old_session if old else open_session)(client, url)
            extra = {"mcp-protocol-version": OLD} if old else {}
            answer = await client.post(url, json=call(2), headers=headers(sid, **extra))
            assert "finished" in answer.text
        assert closed == [False]


async def test_keepalive_comments_flow_on_an_idle_stream() -> None:
    app = make_server(asyncio.Event(), []).http_app(keepalive_interval=0.02)
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        url = base + "/mcp"
        sid = await open_session(client, url)
        async with client.stream("GET", url, headers=headers(sid)) as listening:
            chunks = listening.aiter_raw()
            comments = 0
            while comments < 3:
                chunk = await anext(chunks)
                comments += chunk.count(b":\n") - chunk.count(b"data:\n")
        assert comments >= 3


async def test_a_protocol_version_other_than_the_negotiated_one_is_refused() -> None:
    app = make_server(asyncio.Event(), []).http_app()
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        url = base + "/mcp"
        sid = await open_session(client, url)
        ping = {"jsonrpc": "2.0", "id": 7, "method": "ping"}
        other = headers(sid, **{"mcp-protocol-version": "2025-06-18"})
        for method, kwargs in [("POST", {"json": ping}), ("GET", {}), ("DELETE", {})]:
            refused = await client.request(method, url, headers=other, **kwargs)
            assert refused.status_code == 400, (method, refused.text)
            assert "2025-11-25" in refused.json()["error"]["message"]
        absent = {k: v for k, v in headers(sid).items() if k != "mcp-protocol-version"}
        assert (await client.post(url, json=ping, headers=absent)).status_code == 200


class _ClosingServer(uvicorn.Server):
    """What a runner does when a shutdown begins: end the app's streams before uvicorn waits
    for open responses to finish."""

    app: McpHttpApp

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self.app.close_streams()
        await super().shutdown(sockets)


@contextlib.asynccontextmanager
async def serving_closing(app: McpHttpApp) -> AsyncIterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    # A graceful timeout far past the test's bound: only close_streams() ends it in time.
    config = uvicorn.Config(app, lifespan="on", log_level="warning", timeout_graceful_shutdown=60)
    server = _ClosingServer(config)
    server.app = app
    task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


async def test_a_shutdown_ends_open_streams_at_once() -> None:
    app = make_server(asyncio.Event(), []).http_app()
    async with asyncio.timeout(WAIT), httpx.AsyncClient() as client:
        async with serving_closing(app) as base:
            url = base + "/mcp"
            sid = await open_session(client, url)
            listening = await client.send(
                client.build_request("GET", url, headers=headers(sid)), stream=True
            )
            reader = Reader(listening)
            await reader.take(1)
        assert await reader.rest() == [] and reader.retry == 1000  # ended, with a retry
        await listening.aclose()
        assert len(app.sessions) == 0


async def test_the_official_client_comes_back_for_a_result_after_close_sse_stream() -> None:
    from mcp import Client as OfficialClient

    server = Server("sep1699-official")
    closed: list[bool] = []

    @server.tool()
    async def patient(ctx: Context) -> str:
        """Closes its connection early, then reports progress and answers on the next one."""
        await ctx.progress(1, 2)
        closed.append(await ctx.close_sse_stream(retry=0.05))
        await ctx.progress(2, 2)
        return "came back"

    seen: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(progress)

    app = server.http_app()
    async with asyncio.timeout(WAIT), serving(app) as base:
        async with OfficialClient(base + "/mcp", mode="legacy") as client:  # (SEP-1699: 2025)
            result = await client.call_tool("patient", {}, progress_callback=on_progress)
            assert result.content[0].text == "came back"  # type: ignore[union-attr]
    assert closed == [True]
    assert set(seen) <= {1, 2}
