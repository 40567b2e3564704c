"""Whatever a client sends to a live session's endpoint (any body, any header values), it gets
one well-formed answer: a status the transport section names, and for a refusal a JSON-RPC
error that says why; the session survives (it answers a ping after) and DELETE frees it.
Driven in-process so hypothesis can run many examples (DESIGN.md, "How we test")."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
from _inprocess import asgi_request, assert_well_formed, bodies, body_of, final_answer, printable
from _serving import INITIALIZE
from _serving import headers as sent_by_client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mcpkit import Context, Server
from mcpkit.types.methods import SUPPORTED_REVISIONS

PING = b'{"jsonrpc":"2.0","id":"alive","method":"ping"}'
INITIALIZED = b'{"jsonrpc":"2.0","method":"notifications/initialized"}'
# Every status a POST may get (basic/transports, and docs/http.md "What a request gets").
STATUSES = {200, 202, 400, 404, 406, 413, 415}


def headers(session: str | None = None) -> dict[str, str]:
    return sent_by_client(session, host="127.0.0.1:8000")


def make_server() -> Server:
    server = Server("fuzzed", "1.0.0")

    @server.tool()
    def add(a: int, b: int) -> int:
        """Adds two numbers."""
        return a + b

    @server.tool()
    async def steps(count: int, ctx: Context) -> str:
        """Reports progress `count` times."""
        for done in range(min(count, 3)):
            await ctx.report_progress(done + 1, count)
        return f"{count} steps"

    return server


SERVER = make_server()

# Requests the server serves (so answers of 200, by SSE, are fuzzed as well as refusals).
calls = st.builds(
    lambda i, name, args: msgspec.json.encode(
        {
            "jsonrpc": "2.0",
            "id": i,
            "method": "tools/call",
            "params": {"name": name, "arguments": args},
        }
    ),
    st.integers(0, 9) | st.text(max_size=3),
    st.sampled_from(["add", "steps", "nope"]),
    st.dictionaries(st.sampled_from(["a", "b", "count"]), st.integers(-2, 4) | st.text(max_size=2)),
)
header_values = st.text(max_size=30) | st.sampled_from(["", " ", "\t", "*/*", "null"])
variations = st.fixed_dictionaries(
    {},
    optional={
        "content-type": st.sampled_from(
            ["application/json; charset=utf-8", "text/plain", "application/jsonx", "json"]
        )
        | header_values,
        "accept": st.sampled_from(
            ["application/json", "text/event-stream", "*/*", "application/*, text/*;q=0"]
        )
        | header_values,
        "mcp-protocol-version": st.sampled_from([*SUPPORTED_REVISIONS, "2099-01-01"])
        | header_values,
        "mcp-session-id": st.sampled_from(["0" * 64, "x"]) | header_values,
        "last-event-id": header_values,
    },
)


async def open_session(app: Any) -> str:
    sent = await asgi_request(app, "POST", headers(), msgspec.json.encode(INITIALIZE))
    sid: str = dict(sent[0]["headers"])[b"mcp-session-id"].decode()
    await asgi_request(app, "POST", headers(sid), INITIALIZED)
    return sid


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies | calls, st.just({}) | st.just({}) | variations)  # bodies alone, two times in three
def test_any_post_to_a_live_session_gets_a_well_formed_answer(
    body: bytes, changed: dict[str, str]
) -> None:
    async def run() -> None:
        app = SERVER.http_app()
        tasks = len(asyncio.all_tasks())
        sid = await open_session(app)
        sent_headers = headers(sid)
        sent_headers.update({k: v for k, v in changed.items() if printable(v)})
        assert_well_formed(await asgi_request(app, "POST", sent_headers, body), STATUSES)
        alive = await asgi_request(app, "POST", headers(sid), PING)
        assert final_answer(alive) == {"jsonrpc": "2.0", "id": "alive", "result": {}}
        assert (await asgi_request(app, "DELETE", headers(sid)))[0]["status"] == 200
        assert len(app.sessions) == 0 and len(SERVER.sessions) == 0
        assert len(asyncio.all_tasks()) == tasks

    asyncio.run(asyncio.wait_for(run(), 10))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["GET", "DELETE", "PUT", "PATCH", "OPTIONS", "HEAD"]), variations)
def test_any_other_method_gets_a_well_formed_answer(method: str, changed: dict[str, str]) -> None:
    async def run() -> None:
        app = SERVER.http_app()
        sid = await open_session(app)
        sent_headers = headers(sid)
        sent_headers.update({k: v for k, v in changed.items() if printable(v)})
        sent_headers.pop("last-event-id", None) if method != "GET" else None
        request = asyncio.ensure_future(asgi_request(app, method, sent_headers))
        # A GET that is accepted is a stream that stays open: what it opened with is enough.
        done, _ = await asyncio.wait([request], timeout=0.5)
        if not done:
            request.cancel()
            await asyncio.gather(request, return_exceptions=True)
            await asgi_request(app, "DELETE", headers(sid))  # no session outlives its test
            return
        sent = request.result()
        status = sent[0]["status"]
        assert status in {200, 400, 404, 405, 406, 409, 410}, (status, sent)
        if status >= 400:
            error = msgspec.json.decode(body_of(sent))
            assert isinstance(error["error"]["message"], str) and error["jsonrpc"] == "2.0"
        await asgi_request(app, "DELETE", headers(sid))
        assert len(app.sessions) == 0

    asyncio.run(asyncio.wait_for(run(), 10))
