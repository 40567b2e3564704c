"""What a broken or malicious client sends the legacy HTTP+SSE endpoints: every body gets
202 or a 4xx with a reason, the session goes on, and the stream stays well formed."""

from __future__ import annotations

import asyncio
import random

import httpx
from _legacy import legacy_session, make_server
from _serving import WAIT, serving

JSON = {"content-type": "application/json"}


def hostile_bodies() -> list[bytes]:
    rng = random.Random(8)
    bodies = [
        b"",
        b"null",
        b"[]",
        b"[1, 2]",
        b'"string"',
        b"{}",
        b'{"jsonrpc": "1.0", "id": 1, "method": "ping"}',
        b'{"jsonrpc": "2.0", "id": {"a": 1}, "method": "ping"}',
        b'{"jsonrpc": "2.0", "id": 1.5e308, "method": "ping"}',
        b'{"jsonrpc": "2.0", "id": 99, "method": "no/such/method"}',
        b'{"jsonrpc": "2.0", "id": 98, "method": "tools/call", "params": 7}',
        b'{"jsonrpc": "2.0", "id": 97, "result": {}}',  # a response to nothing we asked
        b'{"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 5}}',
        b'[{"jsonrpc": "2.0", "id": 96, "method": "ping"}]',  # no batches in 2024-11-05
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a": "\\ud800"}',
        b"\xef\xbb\xbf{}",
        b"\x00" * 100,
    ]
    bodies += [rng.randbytes(rng.randrange(1, 2000)) for _ in range(20)]
    return bodies


async def test_every_hostile_body_gets_an_answer_and_the_session_goes_on() -> None:
    app = make_server().http_app()
    async with asyncio.timeout(WAIT * 2), serving(app) as base, httpx.AsyncClient() as client:
        events, url = await legacy_session(client, base)
        for body in hostile_bodies():
            response = await client.post(url, content=body, headers=JSON)
            assert response.status_code in (202, 400, 413), (body[:40], response.status_code)
            if response.status_code != 202:
                assert response.json()["error"]["message"]
        await client.post(url, json={"jsonrpc": "2.0", "id": "last", "method": "ping"})
        # Whatever came on the stream is well-formed JSON-RPC; the ping's answer comes last.
        while (message := await events.message()).get("id") != "last":
            assert message["jsonrpc"] == "2.0" and ("error" in message or "result" in message)
        assert message["result"] == {}
        await events.response.aclose()


async def test_hostile_requests_for_the_stream_are_refused_with_a_reason() -> None:
    app = make_server().http_app()
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        wrong_accept = await client.get(base + "/sse", headers={"accept": "application/json"})
        assert wrong_accept.status_code == 406
        two_origins = await client.get(
            base + "/sse", headers=[("origin", "http://localhost"), ("origin", "http://x")]
        )
        assert two_origins.status_code == 403
        foreign_host = await client.get(base + "/sse", headers={"host": "evil.example"})
        assert foreign_host.status_code == 421
        put = await client.put(base + "/sse")
        assert put.status_code == 405
        long_id = await client.post(
            f"{base}/messages?session_id={'a' * 5000}", content=b"{}", headers=JSON
        )
        assert long_id.status_code == 400
        two_ids = await client.post(
            f"{base}/messages?session_id=a&session_id=b", content=b"{}", headers=JSON
        )
        assert two_ids.status_code == 400
    assert app.legacy is not None and len(app.legacy.sessions) == 0
