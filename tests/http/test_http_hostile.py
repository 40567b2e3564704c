"""What a broken or careless client does to the HTTP app: it leaves mid-stream, or sends
nonsense headers; the session and the server go on, and hold nothing for the client."""

from __future__ import annotations

import asyncio

import httpx
from _serving import WAIT, headers, messages_of, open_session, serving

from mcpkit import Context, Server

PING = {"jsonrpc": "2.0", "id": 50, "method": "ping"}


async def test_a_client_that_leaves_mid_stream_costs_nothing_after() -> None:
    server = Server("leaver")
    started = asyncio.Event()
    release = asyncio.Event()
    finished = asyncio.Event()

    @server.tool()
    async def chatty(ctx: Context) -> str:
        """Waits, then sends more progress than a stream holds."""
        started.set()
        await release.wait()
        for i in range(500):
            await ctx.progress(i + 1, 500)
        finished.set()  # the response is queued as the function returns, before any ping
        return "said it all"

    app = server.http_app()
    body = {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "tools/call",
        "params": {"name": "chatty", "_meta": {"progressToken": 1}},
    }
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        url = base + "/mcp"
        sid = await open_session(client, url)
        async with client.stream("POST", url, json=body, headers=headers(sid)) as response:
            assert response.status_code == 200
            await started.wait()
        # Gone: the call goes on (a disconnect is no cancellation) and its messages are dropped.
        release.set()
        await finished.wait()
        # By the ping's answer the call's response was routed (and dropped): one writer sends
        # a session's messages in the order they were queued.
        ping = await client.post(url, json=PING, headers=headers(sid))
        assert messages_of(ping)[0]["result"] == {}
        session = app.sessions.get(sid)
        assert session is not None and session.idle_since is not None


async def test_headers_a_client_should_never_send_are_refused_with_a_reason() -> None:
    app = Server("strict", max_message_size=100_000).http_app()
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        url = base + "/mcp"
        sid = await open_session(client, url)
        cases = {
            406: headers(sid, accept="text/html"),
            415: headers(sid, **{"content-type": "text/plain"}),
            400: headers(sid, **{"mcp-protocol-version": "1999-01-01"}),
        }
        for status, sent in cases.items():
            response = await client.post(url, json=PING, headers=sent)
            assert response.status_code == status, (status, response.text)
            assert response.json()["error"]["message"]
        huge = b'{"jsonrpc": "2.0", "id": 1, "method": "ping", "pad": "' + b"x" * 200_000 + b'"}'
        too_big = await client.post(url, content=huge, headers=headers(sid))
        assert too_big.status_code == 413
        bad_id = await client.post(url, json=PING, headers=headers("\x7f" * 3 + "a"))
        assert bad_id.status_code == 400
        ping = await client.post(url, json=PING, headers=headers(sid))
        assert messages_of(ping)[0]["result"] == {}
