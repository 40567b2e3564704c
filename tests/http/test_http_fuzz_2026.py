"""Whatever a 2026-07-28 client sends (requests that carry their own terms in `_meta`, any
of their parts fuzzed, any mirrored header values), it gets one well-formed answer: a status
the transport section names, a JSON-RPC error saying why when refused, never an internal
error; nothing stays behind (no session, no task of the loop, no running task), and the
endpoint serves the next request. Driven in-process so hypothesis can run many examples
(DESIGN.md, "How we test"); the session-era fuzzing is test_http_fuzz.py."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import msgspec
from _inprocess import asgi_request, body_of, final_answer, json_values
from _serving import headers as sent_by_client
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from mcpkit import Context, Server

REVISION = "2026-07-28"
META = "io.modelcontextprotocol/"
# What a 2026 POST may get (basic/transports/streamable-http, "Error handling").
STATUSES = {200, 202, 400, 403, 404, 405, 406, 413, 415}
NAME = {"type": "object", "properties": {"n": {"type": "string"}}}


def make_server() -> Server:
    server = Server("fuzzed-2026", "1.0.0")

    @server.tool()
    def add(a: int, b: int) -> int:
        return a + b

    @server.tool(headers={"region": "Region"})
    def query(region: str, text: str = "") -> str:
        return f"{text} in {region}"

    @server.tool()
    async def steps(count: int, ctx: Context) -> str:
        for done in range(min(count, 3)):
            await ctx.progress(done + 1, count)
        return f"{count} steps"

    @server.tool()
    async def greet(ctx: Context) -> str:
        answer = await ctx.elicit("Name?", NAME)
        return f"hello {answer.data['n'] if answer.data else '?'}"

    @server.tool(task=True)
    async def later(n: int) -> int:
        return n

    @server.resource("notes://one")
    def note() -> str:
        return "one"

    return server


SERVER = make_server()
METHODS = [
    "tools/call",
    "tools/list",
    "resources/read",
    "resources/list",
    "prompts/list",
    "server/discover",
    "subscriptions/listen",
    "tasks/get",
    "tasks/update",
    "tasks/cancel",
    "initialize",
    "ping",
    "logging/setLevel",
    "no/such",
]


def mostly(good: st.SearchStrategy[Any], bad: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`good` seven draws in eight: so that many examples pass every check before the part
    fuzzed, and reach the code behind them."""
    return st.sampled_from([True] * 7 + [False]).flatmap(lambda ok: good if ok else bad)


capabilities = mostly(st.sampled_from([{"elicitation": {}}, {}]), json_values)
versions = mostly(st.just(REVISION), st.sampled_from(["2025-11-25", "2099-01-01"]) | json_values)
terms = {
    META + "protocolVersion": versions,
    META + "clientCapabilities": capabilities,
}
extras = {
    META + "clientInfo": mostly(st.just({"name": "fuzz", "version": "1"}), json_values),
    META + "logLevel": st.sampled_from(["debug", "error", "loud"]) | json_values,
    "progressToken": st.integers(0, 3) | st.text(max_size=3) | json_values,
}
metas = mostly(
    st.fixed_dictionaries(terms, optional=extras),
    st.fixed_dictionaries({}, optional=terms | extras),  # terms missing, or some of them
)
params = st.fixed_dictionaries(
    {"_meta": metas},
    optional={
        "name": mostly(
            st.sampled_from(["add", "query", "steps", "greet", "later", "nope"]), json_values
        ),
        "arguments": mostly(
            st.dictionaries(
                st.sampled_from(["a", "b", "count", "region", "text", "n"]),
                mostly(st.integers(-2, 4), st.text(max_size=3) | json_values),
            ),
            json_values,
        ),
        "uri": st.sampled_from(["notes://one", "nope://x", ""]) | json_values,
        "taskId": st.text(max_size=8) | json_values,
        "requestState": st.text(max_size=40) | json_values,
        "inputResponses": st.dictionaries(st.sampled_from(["q1", "q2", "x"]), json_values)
        | json_values,
        "filter": json_values,
        "cursor": st.text(max_size=6) | json_values,
    },
)
ids = mostly(st.integers(-2, 9) | st.text(max_size=3), json_values)
requests = mostly(
    st.fixed_dictionaries(
        {"jsonrpc": st.just("2.0"), "id": ids, "method": st.sampled_from(METHODS), "params": params}
    ),
    st.fixed_dictionaries(  # a notification, or a request without params
        {"jsonrpc": st.just("2.0"), "method": st.sampled_from(METHODS)},
        optional={"id": ids},
    ),
)
MIRRORS = {"mcp-method", "mcp-name"}
header_values = st.text(max_size=20) | st.sampled_from(["", " ", "=?base64?!!?=", "null"])


def printable(value: str) -> bool:
    return all(32 <= ord(c) < 256 and c != "\x7f" for c in value)


def mirrored(request: dict[str, Any]) -> dict[str, str]:
    """The headers a 2026 client sends beside `request`: Mcp-Method, and Mcp-Name for a
    call, a read or a prompt."""
    found = sent_by_client(host="127.0.0.1:8000")
    found["mcp-protocol-version"] = REVISION
    found["mcp-method"] = str(request["method"])
    sent = request.get("params")
    if isinstance(sent, dict):
        name = sent.get("name", sent.get("uri"))
        if isinstance(name, str) and printable(name) and name:
            found["mcp-name"] = name
    return found


variations = st.fixed_dictionaries(
    {},
    optional={
        "mcp-method": st.sampled_from(METHODS) | header_values,
        "mcp-name": st.sampled_from(["add", "query", "notes://one"]) | header_values,
        "mcp-param-region": st.just("=?base64?" + base64.b64encode(b"eu").decode() + "?=")
        | header_values,
        "mcp-protocol-version": st.sampled_from([REVISION, "2025-11-25"]) | header_values,
        "accept": st.sampled_from(["application/json", "text/event-stream"]) | header_values,
        "mcp-session-id": st.sampled_from(["0" * 64]) | header_values,
    },
)


def assert_well_formed(sent: list[Any]) -> None:
    status = sent[0]["status"]
    assert status in STATUSES, (status, sent)
    body = body_of(sent)
    if status >= 400:
        error = msgspec.json.decode(body)
        assert error["jsonrpc"] == "2.0" and isinstance(error["error"]["message"], str), error
        assert isinstance(error["error"]["code"], int) and error["error"]["code"] != -32603
    elif status == 200:
        answer = final_answer(sent)
        assert ("result" in answer) != ("error" in answer), answer
        assert answer.get("error", {}).get("code") != -32603, answer  # never "internal"
    else:
        assert body == b""


DISCOVER = msgspec.json.encode(
    {
        "jsonrpc": "2.0",
        "id": "alive",
        "method": "server/discover",
        "params": {
            "_meta": {
                META + "protocolVersion": REVISION,
                META + "clientCapabilities": {},
            }
        },
    }
)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(  # a log level that is a list: it crashed the terms reader once (TypeError)
    {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "tools/list",
        "params": {
            "_meta": {
                META + "protocolVersion": REVISION,
                META + "clientCapabilities": {},
                META + "logLevel": [],
            }
        },
    },
    {},
    True,
)
@given(requests, mostly(st.just({}), variations), mostly(st.just(True), st.just(False)))
def test_any_2026_request_gets_a_well_formed_answer_and_leaves_nothing(
    request: dict[str, Any], changed: dict[str, str], keep_mirrors: bool
) -> None:
    async def run() -> None:
        app = SERVER.http_app()
        tasks = len(asyncio.all_tasks())
        sent_headers = mirrored(request)
        if not keep_mirrors:  # a client that sends none of them
            sent_headers = {k: v for k, v in sent_headers.items() if k not in MIRRORS}
        sent_headers.update({k: v for k, v in changed.items() if printable(v)})
        answer = asyncio.ensure_future(
            asgi_request(app, "POST", sent_headers, msgspec.json.encode(request))
        )
        # An accepted subscriptions/listen is a stream that stays open: its head is enough.
        done, _ = await asyncio.wait([answer], timeout=2)
        if done:
            sent = answer.result()
            event(f"status {sent[0]['status']}")
            assert_well_formed(sent)
        else:
            answer.cancel()
            await asyncio.gather(answer, return_exceptions=True)
        alive = await asgi_request(app, "POST", mirrored(msgspec.json.decode(DISCOVER)), DISCOVER)
        assert final_answer(alive)["id"] == "alive"
        assert len(app.sessions) == 0 or request["method"] == "initialize"
        for _, session in app.sessions.items():  # an initialize that opened a 2025 session
            await session.aclose()
        for _ in range(100):  # bounded: what the request started winds down
            if len(asyncio.all_tasks()) <= tasks and not SERVER.task_runner:
                break
            await asyncio.sleep(0.01)
        assert len(asyncio.all_tasks()) <= tasks
        assert len(SERVER.task_runner) == 0

    asyncio.run(asyncio.wait_for(run(), 15))
