"""The Streamable HTTP app served by uvicorn and driven with raw HTTP: answers, streams and
session rules (spec: basic/transports, "Streamable HTTP")."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import msgspec
import pytest
from _serving import INITIALIZE, WAIT, headers, messages_of, open_session, serving, sse_messages

from mcpkit import Context, Server
from mcpkit.transports.deployment.app import McpHttpApp

N_SESSIONS = 1000


def make_server() -> Server:
    server = Server("http-test")

    @server.tool()
    def add(a: int, b: int) -> int:
        """Adds two numbers."""
        return a + b

    @server.tool()
    async def steps(ctx: Context, n: int) -> str:
        """Reports progress n times, then answers."""
        for i in range(n):
            await ctx.progress(i + 1, n)
        return "done"

    return server


def call(rid: int, name: str, arguments: dict[str, object], token: str | None = None) -> object:
    params: dict[str, object] = {"name": name, "arguments": arguments}
    if token is not None:
        params["_meta"] = {"progressToken": token}
    return {"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": params}


async def test_a_tool_call_is_answered_with_sse_by_default() -> None:
    app = make_server().http_app()
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        url = base + "/mcp"
        sid = await open_session(client, url)
        response = await client.post(
            url, json=call(2, "add", {"a": 2, "b": 3}), headers=headers(sid)
        )
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/event-stream"
        (answer,) = messages_of(response)
        assert answer["id"] == 2 and answer["result"]["structuredContent"] == {"result": 5}


async def test_json_response_answers_with_one_json_object() -> None:
    app = make_server().http_app(json_response=True)
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        url = base + "/mcp"
        sid = await open_session(client, url)
        # A json_response server needs only application/json in Accept.
        only_json = headers(sid, accept="application/json")
        response = await client.post(url, json=call(2, "add", {"a": 1, "b": 1}), headers=only_json)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.json()["result"]["structuredContent"] == {"result": 2}


async def test_progress_arrives_on_the_calls_stream_before_its_result() -> None:
    app = make_server().http_app()
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        url = base + "/mcp"
        sid = await open_session(client, url)
        body = call(7, "steps", {"n": 3}, token="tok")
        response = await client.post(url, json=body, headers=headers(sid))
        messages = sse_messages(response.text)
    kinds = [m.get("method", "response") for m in messages]
    assert kinds == ["notifications/progress"] * 3 + ["response"]
    assert [m["params"]["progress"] for m in messages[:3]] == [1, 2, 3]
    assert all(m["params"]["progressToken"] == "tok" for m in messages[:3])
    assert messages[-1]["id"] == 7 and messages[-1]["result"]["content"][0]["text"] == "done"


async def test_session_id_rules_and_delete() -> None:
    app = make_server().http_app()
    ping = {"jsonrpc": "2.0", "id": 9, "method": "ping"}
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        url = base + "/mcp"
        sid = await open_session(client, url)
        missing = await client.post(url, json=ping, headers=headers())
        assert missing.status_code == 400
        assert "Mcp-Session-Id" in missing.json()["error"]["message"]
        unknown = await client.post(url, json=ping, headers=headers("no-such-session"))
        assert unknown.status_code == 404
        ok = await client.post(url, json=ping, headers=headers(sid))
        assert ok.status_code == 200 and messages_of(ok)[0]["result"] == {}
        deleted = await client.delete(url, headers=headers(sid))
        assert deleted.status_code == 200
        after = await client.post(url, json=ping, headers=headers(sid))
        assert after.status_code == 404
        assert (await client.delete(url, headers=headers(sid))).status_code == 404
    assert len(app.sessions) == 0


async def test_the_get_stream_carries_a_list_changed() -> None:
    server = make_server()
    app = server.http_app()
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        url = base + "/mcp"
        sid = await open_session(client, url)
        get_headers = headers(sid, accept="text/event-stream")
        async with client.stream("GET", url, headers=get_headers) as stream:
            assert stream.status_code == 200
            assert stream.headers["content-type"] == "text/event-stream"
            second = await client.get(url, headers=get_headers)
            assert second.status_code == 409  # one GET stream per session

            @server.tool()
            def added() -> str:
                return "new"

            async for line in stream.aiter_lines():
                if line.startswith("data: "):
                    (message,) = sse_messages(line)
                    assert message["method"] == "notifications/tools/list_changed"
                    break


async def test_get_is_refused_with_405_when_disabled() -> None:
    app = make_server().http_app(allow_get=False)
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        url = base + "/mcp"
        sid = await open_session(client, url)
        response = await client.get(url, headers=headers(sid, accept="text/event-stream"))
        assert response.status_code == 405
        assert "GET" not in response.headers["allow"]


async def test_garbage_a_foreign_origin_and_a_wrong_path_are_refused() -> None:
    app = make_server().http_app()
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        url = base + "/mcp"
        sid = await open_session(client, url)
        garbage = await client.post(url, content=b'{"jsonrpc": "2.0", "id"', headers=headers(sid))
        assert garbage.status_code == 400 and garbage.json()["error"]["code"] == -32700
        anonymous = await client.post(url, content=b"\xff\xfe", headers=headers())
        assert anonymous.status_code == 400 and anonymous.json()["error"]["code"] == -32700
        foreign = headers(sid, origin="https://evil.example")
        refused = await client.post(
            url, json={"jsonrpc": "2.0", "id": 3, "method": "ping"}, headers=foreign
        )
        assert refused.status_code == 403
        assert "allowed_origins" in refused.json()["error"]["message"]
        assert (await client.post(base + "/other", json={}, headers=headers())).status_code == 404
        # The session survived all of it.
        ping = await client.post(
            url, json={"jsonrpc": "2.0", "id": 4, "method": "ping"}, headers=headers(sid)
        )
        assert messages_of(ping)[0]["result"] == {}
    assert len(app.sessions) == 0  # shutdown ended the session


# No bound on the whole test (the plugin's 30 s): its 2,000 exchanges take 7 s on an idle
# machine and several times that on a busy one; each session is bounded instead, below.
@pytest.mark.mcpkit_timeout(0)
async def test_a_thousand_sessions_opened_and_deleted_leave_nothing() -> None:
    server = make_server()
    app = server.http_app()
    async with serving(app) as base, httpx.AsyncClient() as client:
        url = base + "/mcp"
        async with asyncio.timeout(WAIT):
            first = await open_session(client, url)  # after the lifespan startup, for the count
            await client.delete(url, headers=headers(first))
        tasks_before = len(asyncio.all_tasks())
        for _ in range(N_SESSIONS):
            # Each session bounded, not the thousand: a hang still fails within WAIT, and a
            # busy machine serving them slower (past 25 s in all) is not one.
            async with asyncio.timeout(WAIT):
                sid = await open_session(client, url)
                assert (await client.delete(url, headers=headers(sid))).status_code == 200
        assert len(app.sessions) == 0
        assert len(server.sessions) == 0
        assert len(asyncio.all_tasks()) <= tasks_before


async def test_the_lifespan_runs_around_serving() -> None:
    events: list[str] = []
    import contextlib
    from collections.abc import AsyncIterator

    @contextlib.asynccontextmanager
    async def lifespan(server: Server) -> AsyncIterator[str]:
        events.append("start")
        yield "state"
        events.append("stop")

    server = Server("life", lifespan=lifespan)

    @server.tool()
    def state(ctx: Context) -> str:
        return str(ctx.lifespan_state)

    async with asyncio.timeout(WAIT), serving(server.http_app()) as base:
        async with httpx.AsyncClient() as client:
            url = base + "/mcp"
            sid = await open_session(client, url)
            response = await client.post(url, json=call(2, "state", {}), headers=headers(sid))
            assert messages_of(response)[-1]["result"]["content"][0]["text"] == "state"
        assert events == ["start"]
    assert events == ["start", "stop"]


def test_http_app_builds_the_asgi_app() -> None:
    app = make_server().http_app("/x", max_sessions=3)
    assert isinstance(app, McpHttpApp) and app.path == "/x" and app.max_sessions == 3


async def test_json_response_sends_progress_on_the_open_get_stream() -> None:
    app = make_server().http_app(json_response=True)
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        url = base + "/mcp"
        sid = await open_session(client, url)
        get_headers = headers(sid, accept="text/event-stream")
        async with client.stream("GET", url, headers=get_headers) as stream:
            body = call(4, "steps", {"n": 2}, token="t")
            response = await client.post(url, json=body, headers=headers(sid))
            # One JSON object, the response: progress cannot go in it.
            assert response.json()["result"]["content"][0]["text"] == "done"
            progress: list[int] = []
            async for line in stream.aiter_lines():
                if line.startswith("data: "):
                    (message,) = sse_messages(line)
                    progress.append(message["params"]["progress"])
                    if len(progress) == 2:
                        break
    assert progress == [1, 2]


async def test_a_batch_is_answered_on_2025_03_26_and_refused_after() -> None:
    app = make_server().http_app()
    batch = [
        {"jsonrpc": "2.0", "id": "a", "method": "ping"},
        {"jsonrpc": "2.0", "id": "b", "method": "tools/call", "params": {"name": "add"}},
    ]
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        url = base + "/mcp"
        old = msgspec.json.decode(
            msgspec.json.encode(INITIALIZE).replace(b"2025-11-25", b"2025-03-26")
        )
        opened = await client.post(
            url, json=old, headers=headers(**{"mcp-protocol-version": "2025-03-26"})
        )
        sid = opened.headers["mcp-session-id"]
        old_headers = headers(sid, **{"mcp-protocol-version": "2025-03-26"})
        await client.post(
            url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=old_headers
        )
        answered = await client.post(url, json=batch, headers=old_headers)
        (array,) = messages_of(answered)  # one final message: the array
        assert sorted(a["id"] for a in array) == ["a", "b"]
        new_sid = await open_session(client, url)
        refused = await client.post(url, json=batch, headers=headers(new_sid))
        assert refused.status_code == 400 and refused.json()["error"]["code"] == -32600


async def test_a_2026_probe_gets_the_answer_that_revision_defines() -> None:
    # The official SDK 2.x and FastMCP 4 probe server/discover first (2026-07-28 basic/
    # versioning): a revision we speak is discovered, one we do not gets 400 with
    # UnsupportedProtocolVersionError listing both eras, under the request's id; never a
    # session id; and a header that disagrees with the body is a HeaderMismatch.
    app = make_server().http_app()

    def probe(version: str) -> dict[str, Any]:
        meta = {
            "io.modelcontextprotocol/protocolVersion": version,
            "io.modelcontextprotocol/clientCapabilities": {},
        }
        return {"jsonrpc": "2.0", "id": 7, "method": "server/discover", "params": {"_meta": meta}}

    def modern(version: str) -> dict[str, str]:
        return headers(**{"mcp-protocol-version": version, "mcp-method": "server/discover"})

    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        url = base + "/mcp"
        found = await client.post(url, json=probe("2026-07-28"), headers=modern("2026-07-28"))
        assert found.status_code == 200 and "mcp-session-id" not in found.headers
        (result,) = [m["result"] for m in messages_of(found)]
        assert result["supportedVersions"][:2] == ["2026-07-28", "2025-11-25"]
        assert result["resultType"] == "complete" and result["cacheScope"] == "private"
        answer = await client.post(url, json=probe("2027-01-01"), headers=modern("2027-01-01"))
        assert answer.status_code == 400 and "mcp-session-id" not in answer.headers
        assert answer.json()["id"] == 7
        error = answer.json()["error"]
        assert error["code"] == -32022
        assert error["data"]["requested"] == "2027-01-01"
        assert "2025-11-25" in error["data"]["supported"]
        bad = await client.post(url, json=probe("2026-07-28"), headers=modern("x"))
        assert bad.status_code == 400 and bad.json()["error"]["code"] == -32020


def test_every_http_setting_has_one_default_and_no_other_setting_exists() -> None:
    """`HttpSettings` (what `Server.http_app(**settings)` takes) and `AppSettings` (their
    defaults, turned into the objects they configure) name the same settings."""
    import dataclasses

    from mcpkit.transports.deployment.app_settings import AppSettings, HttpSettings

    typed = set(HttpSettings.__annotations__)
    assert typed == {f.name for f in dataclasses.fields(AppSettings)}
