"""Stateless Streamable HTTP (`http_app(stateless=True)`), served by uvicorn and driven with raw
httpx: no session id, every POST served by a fresh session that is already initialized and is
freed after its answer, GET and DELETE refused, no requests to the client."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import tracemalloc
from typing import Any

import httpx
import msgspec
import pytest
from _inprocess import asgi_request, bodies, final_answer
from _serving import INITIALIZE, WAIT, headers, messages_of, serving
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mcp import Client as OfficialClient

from mcpkit import Context, Server
from mcpkit.errors import LocalProtocolError
from mcpkit.protocol.events import RequestReceived
from mcpkit.protocol.server_session import ServerSession
from mcpkit.transports.http.live_sessions import HttpSession
from mcpkit.types import Implementation, ServerCapabilities
from mcpkit.types.methods import SUPPORTED_REVISIONS

URL = "/mcp"


def make_server() -> tuple[Server, dict[str, Any]]:
    server = Server("stateless", "1.0.0")
    seen: dict[str, Any] = {"cancelled": asyncio.Event(), "started": asyncio.Event()}

    @server.tool()
    def add(a: int, b: int) -> int:
        """Adds two numbers."""
        return a + b

    @server.tool()
    async def steps(ctx: Context, count: int) -> str:
        """One progress notification per step, then which revision the session speaks."""
        for i in range(count):
            await ctx.progress(i + 1, count)
        return f"{count} steps on {ctx.protocol_version}"

    @server.tool()
    async def ask(ctx: Context) -> list[str]:
        """Tries every request to the client, which a stateless server cannot send."""
        attempts = [
            lambda: ctx.sample("hello?", max_tokens=10),
            lambda: ctx.elicit("name?", {"type": "object", "properties": {}}),
            lambda: ctx.elicit_url("go", "https://example.com", "e-1"),
            lambda: ctx.list_roots(),
        ]
        errors: list[str] = []
        for attempt in attempts:
            try:
                await attempt()
            except LocalProtocolError as exc:
                errors.append(str(exc))
        return errors

    @server.tool()
    async def forever(ctx: Context) -> str:
        """Reports once, then waits until cancelled."""
        await ctx.progress(1)
        seen["started"].set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            seen["cancelled"].set()
            raise
        return "never"

    return server, seen


def test_a_stateless_session_is_ready_at_once() -> None:
    """The lifecycle seam, with plain calls: operating on the given revision, initialize still
    answered, and no request ever sent to the client."""
    caps = msgspec.convert({"tools": {}}, ServerCapabilities)
    session = ServerSession(Implementation(name="s", version="1"), caps)
    session.start_stateless("2025-06-18")
    (event,) = session.receive_data(b'{"jsonrpc":"2.0","id":1,"method":"tools/list"}')
    assert isinstance(event, RequestReceived) and event.method == "tools/list"
    assert session.revision == "2025-06-18" and session.phase == "stateless"
    session.receive_data(msgspec.json.encode({**INITIALIZE, "id": 2}))
    (answer,) = [msgspec.json.decode(o.data) for o in session.data_to_send()]
    assert answer["result"]["protocolVersion"] == "2025-11-25"
    assert session.phase == "stateless"
    with pytest.raises(LocalProtocolError, match="stateless HTTP"):
        session.send_request("ping")


def call(rid: int, name: str, arguments: dict[str, Any], token: str | None = None) -> Any:
    params: dict[str, Any] = {"name": name, "arguments": arguments}
    if token is not None:
        params["_meta"] = {"progressToken": token}
    return {"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": params}


async def test_initialize_is_answered_without_a_session_id() -> None:
    server, _ = make_server()
    async with asyncio.timeout(WAIT), serving(server.http_app(stateless=True)) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            response = await client.post(URL, json=INITIALIZE, headers=headers())
            assert response.status_code == 200, response.text
            assert "mcp-session-id" not in response.headers
            (answer,) = messages_of(response)
            assert answer["id"] == 1
            assert answer["result"]["protocolVersion"] == "2025-11-25"
            assert answer["result"]["serverInfo"]["name"] == "stateless"
            done = await client.post(
                URL,
                json={"jsonrpc": "2.0", "method": "notifications/initialized"},
                headers=headers(),
            )
            assert done.status_code == 202 and done.content == b""


async def test_each_post_is_served_ready_on_the_header_revision() -> None:
    server, _ = make_server()
    app = server.http_app(stateless=True)
    async with asyncio.timeout(WAIT), serving(app) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            # No initialize first, and no session id: each POST stands alone.
            response = await client.post(
                URL, json=call(7, "steps", {"count": 2}, "t"), headers=headers()
            )
            assert response.status_code == 200, response.text
            assert response.headers["content-type"].startswith("text/event-stream")
            *progress, answer = messages_of(response)
            assert [m["params"]["progress"] for m in progress] == [1, 2]
            assert answer["id"] == 7
            assert answer["result"]["content"][0]["text"] == "2 steps on 2025-11-25"
            older = headers(**{"mcp-protocol-version": "2025-06-18"})
            response = await client.post(URL, json=call(8, "steps", {"count": 0}), headers=older)
            (answer,) = messages_of(response)
            assert answer["result"]["content"][0]["text"] == "0 steps on 2025-06-18"
            # A session id the client sends anyway names nothing: it is ignored.
            stray = headers(session="made-up")
            response = await client.post(URL, json=call(9, "add", {"a": 2, "b": 3}), headers=stray)
            (answer,) = messages_of(response)
            assert answer["result"]["structuredContent"] == {"result": 5}
        assert len(app.sessions) == 0 and len(server.sessions) == 0


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_the_official_client_uses_a_stateless_server(mode: str) -> None:
    # Both eras: the handshake on a fresh session per POST, or 2026-07-28's own terms.
    server, _ = make_server()
    revision = "2025-11-25" if mode == "legacy" else "2026-07-28"
    seen: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(progress)

    async with asyncio.timeout(WAIT), serving(server.http_app(stateless=True)) as base:
        async with OfficialClient(base + URL, mode=mode) as client:
            assert client.protocol_version == revision
            added = await client.call_tool("add", {"a": 1, "b": 2})
            assert added.structured_content == {"result": 3}
            done = await client.call_tool("steps", {"count": 3}, progress_callback=on_progress)
            assert done.content[0].text == f"3 steps on {revision}"  # type: ignore[union-attr]
    assert set(seen) <= {1, 2, 3}


async def test_json_response_answers_with_one_object() -> None:
    server, _ = make_server()
    app = server.http_app(stateless=True, json_response=True)
    async with asyncio.timeout(WAIT), serving(app) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            response = await client.post(
                URL, json=call(1, "add", {"a": 1, "b": 1}), headers=headers()
            )
            assert response.headers["content-type"] == "application/json"
            assert response.json()["result"]["structuredContent"] == {"result": 2}


async def test_get_and_delete_are_not_offered() -> None:
    server, _ = make_server()
    async with asyncio.timeout(WAIT), serving(server.http_app(stateless=True)) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            for method in ("GET", "DELETE"):
                response = await client.request(method, URL, headers=headers(session="any"))
                assert response.status_code == 405, (method, response.text)
                assert response.headers["allow"] == "POST"
                assert response.json()["error"]["message"].startswith(f"{method} is not offered")
                assert "stateless=True" in response.json()["error"]["message"]


async def test_bad_bodies_are_refused_and_leave_nothing() -> None:
    server, _ = make_server()
    app = server.http_app(stateless=True)
    async with asyncio.timeout(WAIT), serving(app) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            garbage = await client.post(URL, content=b"{not json", headers=headers())
            assert garbage.status_code == 400
            assert garbage.json()["error"]["code"] == -32700
            wrong = await client.post(URL, json={"jsonrpc": "2.0", "id": 1}, headers=headers())
            assert wrong.status_code == 400
            unknown = headers(**{"mcp-protocol-version": "1999-01-01"})
            old = await client.post(URL, json=call(1, "add", {"a": 1, "b": 1}), headers=unknown)
            assert old.status_code == 400
            # A response to a request this server never sent is accepted and dropped.
            stray = {"jsonrpc": "2.0", "id": 5, "result": {}}
            accepted = await client.post(URL, json=stray, headers=headers())
            assert accepted.status_code == 202
    assert len(server.sessions) == 0


async def test_a_request_to_the_client_fails_clearly() -> None:
    server, _ = make_server()
    async with asyncio.timeout(WAIT), serving(server.http_app(stateless=True)) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            # Whatever the client can do, its answer would come on another POST, to no
            # session: each request fails at once, saying why and what to change.
            response = await client.post(URL, json=call(3, "ask", {}), headers=headers())
            (answer,) = messages_of(response)
            errors = answer["result"]["structuredContent"]["result"]
            methods = ["sampling/createMessage", "elicitation/create", "elicitation/create"]
            assert len(errors) == 4
            for method, message in zip([*methods, "roots/list"], errors, strict=True):
                assert message.startswith(f"cannot send {method} to the client")
                assert "stateless HTTP" in message and "stateless=False" in message


async def test_a_client_that_leaves_cancels_the_handler() -> None:
    server, seen = make_server()
    app = server.http_app(stateless=True)
    async with asyncio.timeout(WAIT), serving(app) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            request = call(4, "forever", {}, "p")
            async with client.stream("POST", URL, json=request, headers=headers()) as response:
                assert response.status_code == 200
                async for line in response.aiter_lines():
                    if line.startswith("data: "):
                        break  # the progress notification: the handler is running
            # Nothing can hear the answer of a stateless session: it is freed, not kept.
            await seen["cancelled"].wait()
    assert seen["started"].is_set()


async def _live_sessions() -> int:
    # CPython 3.11 holds the CancelledError of the last cancelled task from C, where gc
    # cannot see it, until another task is cancelled; its traceback holds the last session
    # closed. One more cancellation lets that go, so what is counted is what we keep.
    other = asyncio.get_running_loop().create_task(asyncio.Event().wait())
    await asyncio.sleep(0)
    other.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await other
    del other
    gc.collect()
    return sum(1 for obj in gc.get_objects() if isinstance(obj, HttpSession))


async def asgi_post(app: Any, body: bytes, version: str | None = "2025-11-25") -> list[Any]:
    """POST `body` to the app in this process; returns once its POST's session is gone."""
    sent_headers = headers(host="127.0.0.1:8000")
    if version is None:
        del sent_headers["mcp-protocol-version"]
    return await asgi_request(app, "POST", sent_headers, body, URL)


async def test_a_thousand_posts_leave_nothing_behind() -> None:
    """Driven in-process (no server or client whose own caches would blur the figure)."""
    server, _ = make_server()
    app = server.http_app(stateless=True)
    body = msgspec.json.encode(call(1, "steps", {"count": 1}, "t"))

    async def post_many(count: int) -> None:
        for _ in range(count):
            sent = await asgi_post(app, body)
            assert sent[0]["status"] == 200
            assert b"1 steps on 2025-11-25" in b"".join(m.get("body", b"") for m in sent[1:])

    await post_many(50)  # warm up: caches, lazily built schemas
    gc.collect()
    tasks_before = len(asyncio.all_tasks())
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        await post_many(1000)
        gc.collect()
        after, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(asyncio.all_tasks()) == tasks_before
    assert await _live_sessions() == 0
    assert len(server.sessions) == 0 and len(app.sessions) == 0
    # A kept session would cost KiBs each: 1,000 of them could not hide under this bound.
    growth = after - before
    assert growth < 64 * 1024, f"{growth} bytes kept after 1,000 stateless POSTs"


# ------------------------------------------------------------------ hostile bodies

FUZZED = make_server()[0]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies, st.sampled_from([None, *SUPPORTED_REVISIONS]))
def test_any_body_gets_one_well_formed_answer_and_leaves_nothing(
    body: bytes, version: str | None
) -> None:
    async def run() -> None:
        app = FUZZED.http_app(stateless=True)
        tasks = len(asyncio.all_tasks())
        sent = await asgi_post(app, body, version)
        status = sent[0]["status"]
        assert status in (200, 202, 400), (status, sent)
        if status == 200:
            answer = final_answer(sent)
            if isinstance(answer, dict):  # a 2025-03-26 batch is answered with an array
                assert ("result" in answer) != ("error" in answer), answer
                assert answer.get("error", {}).get("code") != -32603, answer
        elif status == 400:  # a 2025-03-26 batch refused as a whole: an array of errors
            refused = msgspec.json.decode(sent[1]["body"])
            assert all("error" in e for e in (refused if isinstance(refused, list) else [refused]))
        assert len(asyncio.all_tasks()) == tasks  # the POST's session is gone

    asyncio.run(asyncio.wait_for(run(), 10))
