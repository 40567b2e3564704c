"""The legacy HTTP+SSE transport (2024-11-05) served beside the Streamable HTTP endpoint, by
uvicorn, driven with raw httpx: the endpoint event, 202 for each POST with every answer on the
stream, and the refusals (spec: 2025-11-25 basic/transports, "Backwards Compatibility")."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from _legacy import INITIALIZED, Events, call, initialize, legacy_session, make_server
from _serving import WAIT, serving

from mcpkit._asgi import Receive, Scope, Send
from mcpkit.testing.stores import ManualClock
from mcpkit.transports.deployment.app import McpHttpApp
from mcpkit.transports.legacy_sse.endpoint import LegacySse


async def test_the_stream_opens_with_the_endpoint_and_carries_every_answer() -> None:
    app = make_server().http_app()
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        events, url = await legacy_session(client, base)
        assert httpx.URL(url).path == "/messages"
        sent = await client.post(url, json=call(2, "add", {"a": 2, "b": 3}))
        assert sent.status_code == 202
        answer = await events.message()
        # Shaped for 2024-11-05, which has no structuredContent.
        assert answer["id"] == 2
        assert answer["result"] == {"content": [{"type": "text", "text": "5"}]}
        await events.response.aclose()


async def test_progress_comes_on_the_stream_before_the_result() -> None:
    app = make_server().http_app()
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        events, url = await legacy_session(client, base)
        await client.post(url, json=call(3, "steps", {"n": 3}, token="t"))
        messages = [await events.message() for _ in range(4)]
        await events.response.aclose()
    assert [m.get("method") for m in messages] == ["notifications/progress"] * 3 + [None]
    assert [m["params"]["progress"] for m in messages[:3]] == [1, 2, 3]
    assert messages[3]["result"]["content"][0]["text"] == "3 steps"


async def test_the_endpoint_is_relative_to_the_mount_point() -> None:
    app = make_server().http_app()

    async def mounted(scope: Scope, receive: Receive, send: Send) -> None:
        # As Starlette's Mount("/api", app) does: the prefix goes to root_path.
        if scope["type"] == "http":
            scope = {**scope, "root_path": "/api"}
        await app(scope, receive, send)

    async with asyncio.timeout(WAIT), serving(mounted) as base, httpx.AsyncClient() as client:
        events, url = await legacy_session(client, base, "/api/sse")
        assert httpx.URL(url).path == "/api/messages"
        await events.response.aclose()


async def test_paths_are_settings() -> None:
    app = make_server().http_app(legacy_sse=LegacySse(sse_path="/events", messages_path="/in"))
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        assert (await client.get(base + "/sse")).status_code == 404
        events, url = await legacy_session(client, base, "/events")
        assert httpx.URL(url).path == "/in"
        await events.response.aclose()


async def test_legacy_sse_false_serves_only_the_mcp_endpoint() -> None:
    app = make_server().http_app(legacy_sse=False)
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        assert (await client.get(base + "/sse")).status_code == 404
        assert (await client.post(base + "/messages?session_id=x", json={})).status_code == 404


async def test_a_post_without_a_known_session_is_refused() -> None:
    app = make_server().http_app()
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        missing = await client.post(base + "/messages", json=initialize())
        assert missing.status_code == 400 and "session_id" in missing.json()["error"]["message"]
        unknown = await client.post(base + "/messages?session_id=abc", json=initialize())
        assert unknown.status_code == 404
        bad = await client.post(base + "/messages?session_id=a%0Ab", json=initialize())
        assert bad.status_code == 400
        many = "&".join(f"f{i}=1" for i in range(50))
        flood = await client.post(f"{base}/messages?{many}&session_id=abc", json=initialize())
        assert flood.status_code == 400


async def test_wrong_methods_get_405_with_allow() -> None:
    app = make_server().http_app()
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        post = await client.post(base + "/sse", json={})
        assert post.status_code == 405 and post.headers["allow"] == "GET"
        get = await client.get(base + "/messages")
        assert get.status_code == 405 and get.headers["allow"] == "POST"


async def test_a_foreign_origin_is_refused_on_both_paths() -> None:
    app = make_server().http_app()
    evil = {"origin": "https://evil.example"}
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        get = await client.get(base + "/sse", headers=evil)
        assert get.status_code == 403 and "allowed_origins" in get.json()["error"]["message"]
        events, url = await legacy_session(client, base)
        post = await client.post(url, json=call(2, "add", {"a": 1, "b": 1}), headers=evil)
        assert post.status_code == 403
        await events.response.aclose()
    assert len(app.sessions) == 0


async def test_garbage_gets_400_and_the_session_goes_on() -> None:
    app = make_server().http_app()
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        events, url = await legacy_session(client, base)
        json = {"content-type": "application/json"}
        garbage = await client.post(url, content=b"{not json", headers=json)
        assert garbage.status_code == 400
        assert garbage.json()["error"]["code"] == -32700
        binary = await client.post(url, content=b"\xff\xfe\x00", headers=json)
        assert binary.status_code == 400
        text = await client.post(url, content=b"{}", headers={"content-type": "text/plain"})
        assert text.status_code == 415
        await client.post(url, json={"jsonrpc": "2.0", "id": 9, "method": "ping"})
        assert (await events.message()) == {"jsonrpc": "2.0", "id": 9, "result": {}}
        await events.response.aclose()


async def test_a_huge_body_gets_413() -> None:
    server = make_server()
    server.max_message_size = 1000
    app = server.http_app()
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        events, url = await legacy_session(client, base)
        big = call(2, "add", {"a": 1, "b": 1, "pad": "x" * 2000})
        assert (await client.post(url, json=big)).status_code == 413

        async def chunks() -> Any:  # no Content-Length: counted as it arrives
            for _ in range(5):
                yield b"x" * 500

        streamed = await client.post(
            url, content=chunks(), headers={"content-type": "application/json"}
        )
        assert streamed.status_code == 413
        await client.post(url, json={"jsonrpc": "2.0", "id": 9, "method": "ping"})
        assert (await events.message())["id"] == 9
        await events.response.aclose()


async def test_closing_the_stream_ends_and_frees_the_session() -> None:
    server = make_server()
    app = server.http_app()
    legacy = app.legacy
    assert legacy is not None
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        opened = [await legacy_session(client, base) for _ in range(3)]
        assert len(legacy.sessions) == 3 and len(server.sessions) == 3
        (_, first), *_ = legacy.sessions.items()
        # A request still being served when the client leaves is cancelled with the session.
        events, url = opened[0]
        await client.post(url, json=call(2, "wait_for", {"seconds": 60}))
        for events, _ in opened:
            await events.response.aclose()
        tasks = {session.task for _, session in legacy.sessions.items()}
        await asyncio.wait(tasks, timeout=WAIT)
        assert len(legacy.sessions) == 0 and len(server.sessions) == 0
        assert first.task.done()
        gone = await client.post(opened[0][1], json={"jsonrpc": "2.0", "id": 3, "method": "ping"})
        assert gone.status_code == 404


async def test_past_max_sessions_a_new_stream_ends_the_longest_idle_session() -> None:
    app = make_server().http_app(max_sessions=2)
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        opened = [await legacy_session(client, base) for _ in range(2)]
        third = await legacy_session(client, base)
        assert await opened[0][0].next() is None  # the first one's stream ended
        gone = await client.post(opened[0][1], json={"jsonrpc": "2.0", "id": 3, "method": "ping"})
        assert gone.status_code == 404
        for events, _ in (*opened[1:], third):
            await events.response.aclose()


async def test_past_max_sessions_with_every_session_busy_a_new_stream_gets_503() -> None:
    app = make_server().http_app(max_sessions=2)
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        opened = [await legacy_session(client, base) for _ in range(2)]
        for _, url in opened:  # a request running: busy, never ended to make room
            await client.post(url, json=call(2, "wait_for", {"seconds": 60}))
        assert app.legacy is not None
        while any(s.idle_since is not None for _, s in app.legacy.sessions.items()):
            await asyncio.sleep(0.01)  # bounded by the timeout above
        full = await client.get(base + "/sse")
        assert full.status_code == 503 and "max_sessions" in full.json()["error"]["message"]
        assert full.headers["retry-after"] == "5"
        for events, _ in opened:
            await events.response.aclose()


async def test_one_address_opening_streams_ends_its_own_longest_idle_session() -> None:
    # Issue 19: without a per-client cap, one client filled max_sessions for everyone.
    app = make_server().http_app(max_sessions=10, max_sessions_per_address=2)
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        opened = [await legacy_session(client, base) for _ in range(3)]
        assert app.legacy is not None and len(app.legacy.sessions) == 2
        assert await opened[0][0].next() is None  # its own oldest stream ended
        for events, _ in opened[1:]:
            await events.response.aclose()


async def test_an_idle_session_gets_keepalives_then_ends() -> None:
    app = make_server().http_app(
        session_idle_timeout=0.2, legacy_sse=LegacySse(keepalive_interval=0.05)
    )
    assert app.legacy is not None
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        events, _ = await legacy_session(client, base)
        assert await events.next() is None  # the server ended the stream
        assert b"\n:\n" in events.raw  # keep-alive comments came first
        await events.response.aclose()
    assert len(app.legacy.sessions) == 0


async def test_a_request_in_flight_keeps_a_session_from_idling_out() -> None:
    # The sessions' clock moves only when the test moves it: past the idle timeout while
    # the call runs, never between two requests of a busy machine (with 0.1 s of real time
    # the session could idle out before its call arrived).
    clock = ManualClock()
    server = make_server()
    started, release = asyncio.Event(), asyncio.Event()

    @server.tool()
    async def hold() -> str:
        started.set()
        await release.wait()
        return "held"

    app = McpHttpApp(
        server,
        session_idle_timeout=0.1,
        legacy_sse=LegacySse(keepalive_interval=0.05),
        clock=clock,
    )
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        events, url = await legacy_session(client, base)
        answer = asyncio.create_task(events.message())
        await client.post(url, json=call(2, "hold", {}))
        await started.wait()
        clock.advance(60)  # far past the idle timeout, with the call running
        seen = events.raw.count(b"\n:\n")
        while events.raw.count(b"\n:\n") < seen + 2:
            # Keep-alives, not the end: an idle check ran after the clock moved and let the
            # session be.
            await asyncio.sleep(0.01)
        release.set()
        assert (await answer)["result"]["content"][0]["text"] == "held"
        await events.response.aclose()


async def test_a_legacy_client_may_negotiate_the_latest_revision() -> None:
    app = make_server().http_app()
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        request = client.build_request("GET", base + "/sse")
        events = Events(await client.send(request, stream=True))
        endpoint = await events.next()
        assert endpoint is not None
        url = str(httpx.URL(base).join(endpoint.data))
        await client.post(url, json=initialize(version="2025-11-25"))
        assert (await events.message())["result"]["protocolVersion"] == "2025-11-25"
        await client.post(url, json=INITIALIZED)
        await events.response.aclose()


def test_legacy_paths_must_differ_from_each_other_and_the_mcp_endpoint() -> None:
    server = make_server()
    with pytest.raises(ValueError, match="MCP endpoint's path"):
        server.http_app("/sse")
    with pytest.raises(ValueError, match="MCP endpoint's path"):
        server.http_app(legacy_sse=LegacySse(messages_path="/mcp/"))
    with pytest.raises(ValueError, match="must differ"):
        LegacySse(sse_path="/x", messages_path="/x/")
    with pytest.raises(ValueError, match="start with '/'"):
        LegacySse(sse_path="sse")
    with pytest.raises(ValueError, match="keepalive_interval"):
        LegacySse(keepalive_interval=0)
    assert server.http_app("/sse", legacy_sse=False).legacy is None


def test_the_mcp_endpoint_and_legacy_share_the_origin_policy() -> None:
    app = McpHttpApp(make_server(), allowed_origins=["https://app.example"])
    assert app.legacy is not None and app.legacy.origin is app.policy.origin
