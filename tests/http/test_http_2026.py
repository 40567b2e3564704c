"""2026-07-28 over Streamable HTTP (basic/transports/streamable-http): no session, the mirrored
request headers checked against the body (-32020), the status each error gets, multi
round-trip requests across POSTs, and subscriptions/listen as a POST's SSE stream, beside a
2025-11-25 session on the same endpoint."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import httpx
import pytest
from _serving import WAIT, headers, messages_of, open_session, serving, small_server

from mcpkit import Context, Server

REVISION = "2026-07-28"
URL = "/mcp"


def make_server() -> Server:
    server = small_server("http-2026")

    @server.tool(headers={"region": "Region", "shard": "Shard"})
    def query(region: str, shard: int = 0, text: str = "") -> str:
        """Run a query in a region."""
        return f"{text} in {region}/{shard}"

    @server.resource("notes://one")
    def note() -> str:
        return "one"

    @server.tool()
    async def greet(ctx: Context) -> str:
        """Ask a name, then greet."""
        answer = await ctx.elicit(
            "Name?", {"type": "object", "properties": {"n": {"type": "string"}}}
        )
        return f"hello {answer.data['n'] if answer.data else '?'}"

    return server


def body(
    method: str, params: dict[str, Any] | None = None, rid: Any = 1, caps: Any = None
) -> dict[str, Any]:
    meta = {
        "io.modelcontextprotocol/protocolVersion": REVISION,
        "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}} if caps is None else caps,
    }
    return {
        "jsonrpc": "2.0",
        "id": rid,
        "method": method,
        "params": {**(params or {}), "_meta": meta},
    }


def modern(method: str, name: str | None = None, **extra: str) -> dict[str, str]:
    found = headers(**{"mcp-protocol-version": REVISION, "mcp-method": method})
    if name is not None:
        found["mcp-name"] = name
    found.update(extra)
    return found


def b64(text: str) -> str:
    return "=?base64?" + base64.b64encode(text.encode()).decode() + "?="


async def post(client: httpx.AsyncClient, payload: Any, hdrs: dict[str, str]) -> tuple[int, Any]:
    response = await client.post(URL, json=payload, headers=hdrs)
    assert "mcp-session-id" not in response.headers
    if response.status_code == 202:
        return 202, None
    *_, last = messages_of(response)
    return response.status_code, last


async def test_a_call_needs_no_session_and_its_errors_carry_their_status() -> None:
    app = make_server().http_app()
    call = body("tools/call", {"name": "add", "arguments": {"a": 2, "b": 3}}, rid="c1")
    async with (
        asyncio.timeout(WAIT),
        serving(app) as base,
        httpx.AsyncClient(base_url=base) as client,
    ):
        status, answer = await post(client, call, modern("tools/call", "add"))
        assert status == 200 and answer["result"]["structuredContent"] == {"result": 5}
        assert answer["result"]["resultType"] == "complete"
        status, answer = await post(client, body("ping", rid=9), modern("ping"))
        assert (status, answer["error"]["code"], answer["id"]) == (404, -32601, 9)
        no_caps = body("tools/list")
        del no_caps["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"]
        status, answer = await post(client, no_caps, modern("tools/list"))
        assert (status, answer["error"]["code"]) == (400, -32602)
        status, answer = await post(
            client,
            body("tools/call", {"name": "greet", "arguments": {}}, caps={}),
            modern("tools/call", "greet"),
        )
        assert (status, answer["error"]["code"]) == (400, -32021)
        status, answer = await post(
            client,
            body("resources/read", {"uri": "nope://x"}),
            modern("resources/read", "nope://x"),
        )
        assert (status, answer["error"]["code"]) == (400, -32602)
    assert len(app.sessions) == 0


@pytest.mark.parametrize(
    ("method", "name", "extra", "why"),
    [
        ("tools/list", None, {}, "Mcp-Method names another method"),
        ("tools/call", None, {}, "Mcp-Name missing"),
        ("tools/call", "other", {}, "Mcp-Name names another tool"),
        ("tools/call", "query", {"mcp-param-region": "us"}, "Mcp-Param-Region disagrees"),
        ("tools/call", "query", {}, "Mcp-Param-Region missing for a value in the body"),
        ("tools/call", "query", {"mcp-param-region": "=?base64?!!!?="}, "bad base64"),
        (
            "tools/call",
            "query",
            {"mcp-param-region": "eu", "mcp-param-shard": "2"},
            "numbers compare",
        ),
    ],
)
async def test_mirrored_headers_that_disagree_are_refused(
    method: str, name: str | None, extra: dict[str, str], why: str
) -> None:
    app = make_server().http_app()
    call = body("tools/call", {"name": "query", "arguments": {"region": "eu", "shard": 3}}, rid=4)
    hdrs = modern(method, name, **extra)
    if method == "tools/list":
        hdrs["mcp-method"] = "tools/list"
    async with (
        asyncio.timeout(WAIT),
        serving(app) as base,
        httpx.AsyncClient(base_url=base) as client,
    ):
        status, answer = await post(client, call, hdrs)
    assert (status, answer["error"]["code"], answer["id"]) == (400, -32020, 4), why


def _unsupported_revision(payload: dict[str, Any]) -> dict[str, Any]:
    meta = {**payload["params"]["_meta"], "io.modelcontextprotocol/protocolVersion": "2099-01-01"}
    return {**payload, "params": {**payload["params"], "_meta": meta}}


@pytest.mark.parametrize(
    ("payload", "name", "refused"),
    [
        (body("nope/x", rid=5), None, (404, -32601, 5)),
        (body("tools/call", {"name": 3, "arguments": {}}, rid=5), None, (400, -32602, 5)),
        (
            _unsupported_revision(body("tools/call", {"name": "greet"}, rid=5)),
            "greet",
            (400, -32022, 5),
        ),
        (
            {**body("notifications/cancelled", {"requestId": 9}), "id": None},
            None,
            (400, -32600, None),
        ),
    ],
)
async def test_the_mirrored_check_comes_before_the_sessions_refusals(
    payload: dict[str, Any], name: str | None, refused: tuple[int, int, Any]
) -> None:
    """A body the session refuses (an unknown method, invalid params, an unsupported revision,
    a null id) is refused -32020 first when its headers disagree with it, under its id."""
    app = make_server().http_app()
    method = payload["method"]
    revision = {
        "mcp-protocol-version": payload["params"]["_meta"][
            "io.modelcontextprotocol/protocolVersion"
        ]
    }
    async with (
        asyncio.timeout(WAIT),
        serving(app) as base,
        httpx.AsyncClient(base_url=base) as client,
    ):
        status, answer = await post(client, payload, modern(method, name, **revision))
        assert (status, answer["error"]["code"], answer["id"]) == refused
        wrong = modern("tools/list", name, **revision)
        status, answer = await post(client, payload, wrong)
        assert (status, answer["error"]["code"], answer["id"]) == (400, -32020, refused[2])
        assert "Mcp-Method" in answer["error"]["message"]
    assert len(app.sessions) == 0


async def test_mirrored_headers_that_agree_are_served() -> None:
    app = make_server().http_app()
    args = {"region": "Zürich ", "shard": 3, "text": "q"}
    call = body("tools/call", {"name": "query", "arguments": args})
    hdrs = modern(
        "tools/call", "query", **{"mcp-param-region": b64("Zürich "), "mcp-param-shard": "3.0"}
    )
    async with (
        asyncio.timeout(WAIT),
        serving(app) as base,
        httpx.AsyncClient(base_url=base) as client,
    ):
        status, answer = await post(client, call, hdrs)
    assert status == 200, answer
    assert answer["result"]["content"][0]["text"] == "q in Zürich /3"


async def test_a_revision_header_that_disagrees_with_the_body_is_a_mismatch() -> None:
    app = make_server().http_app()
    async with (
        asyncio.timeout(WAIT),
        serving(app) as base,
        httpx.AsyncClient(base_url=base) as client,
    ):
        status, answer = await post(
            client,
            body("tools/list"),
            modern("tools/list", **{"mcp-protocol-version": "2025-11-25"}),
        )
    assert (status, answer["error"]["code"]) == (400, -32020)


async def test_an_elicitation_spans_two_posts_and_a_2025_session_shares_the_endpoint() -> None:
    app = make_server().http_app()
    greet = {"name": "greet", "arguments": {}}
    async with (
        asyncio.timeout(WAIT),
        serving(app) as base,
        httpx.AsyncClient(base_url=base) as client,
    ):
        status, first = await post(client, body("tools/call", greet), modern("tools/call", "greet"))
        result = first["result"]
        assert status == 200 and result["resultType"] == "input_required"
        retry = {
            **greet,
            "inputResponses": {"q1": {"action": "accept", "content": {"n": "Ada"}}},
            "requestState": result["requestState"],
        }
        status, done = await post(
            client, body("tools/call", retry, rid=2), modern("tools/call", "greet")
        )
        assert done["result"]["content"][0]["text"] == "hello Ada"
        sid = await open_session(client, base + URL)  # the 2025 era, same endpoint
        listed = await client.post(
            URL, json={"jsonrpc": "2.0", "id": 3, "method": "tools/list"}, headers=headers(sid)
        )
        (answer,) = messages_of(listed)
        assert "resultType" not in answer["result"]
        assert len(app.sessions) == 1  # the 2025 one alone


async def test_listen_streams_changes_until_the_client_hangs_up() -> None:
    server = make_server()
    app = server.http_app()
    listen = body("subscriptions/listen", {"notifications": {"toolsListChanged": True}}, rid="L")
    async with (
        asyncio.timeout(WAIT),
        serving(app) as base,
        httpx.AsyncClient(base_url=base) as client,
    ):
        async with client.stream(
            "POST", URL, json=listen, headers=modern("subscriptions/listen")
        ) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            lines = response.aiter_lines()
            seen: list[Any] = []
            while len(seen) < 2:
                line = await anext(lines)
                if line.startswith("data: "):
                    import json

                    seen.append(json.loads(line[6:]))
                    if len(seen) == 1:
                        server.add_tool(lambda: "x", name="fresh")
            ack, changed = seen
            assert ack["method"] == "notifications/subscriptions/acknowledged"
            assert changed["method"] == "notifications/tools/list_changed"
            assert changed["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == "L"
        # Closing the stream cancelled the listen (2026-07-28: a closed stream is a cancel).
        async with asyncio.timeout(WAIT):
            while server.listeners:
                await asyncio.sleep(0.02)
    assert len(server.listeners) == 0


async def test_a_session_id_beside_a_2026_request_is_ignored() -> None:
    app = make_server().http_app()
    call = body("tools/call", {"name": "add", "arguments": {"a": 1, "b": 1}})
    async with (
        asyncio.timeout(WAIT),
        serving(app) as base,
        httpx.AsyncClient(base_url=base) as client,
    ):
        status, answer = await post(
            client, call, modern("tools/call", "add", **{"mcp-session-id": "stale"})
        )
    assert status == 200 and answer["result"]["structuredContent"] == {"result": 2}


async def test_a_sessions_post_naming_its_revision_is_the_sessions_whatever_its_meta() -> None:
    """A POST with an Mcp-Session-Id and the session's revision in MCP-Protocol-Version is the
    session's, even when its `_meta` holds the names of 2026-07-28 terms (a 2026 request names
    2026-07-28 in that header): the session serves it, under the terms it negotiated. The same
    body naming 2026-07-28 in the header is served as a 2026 request, the session id ignored."""
    app = make_server().http_app()
    call = body("tools/call", {"name": "add", "arguments": {"a": 2, "b": 2}}, rid=7)
    async with (
        asyncio.timeout(WAIT),
        serving(app) as base,
        httpx.AsyncClient(base_url=base) as client,
    ):
        sid = await open_session(client, base + URL)
        response = await client.post(URL, json=call, headers=headers(sid))
        assert response.status_code == 200, response.text
        (answer,) = messages_of(response)
        # A session's answer: no 2026-07-28 `_meta` (its `serverInfo`) added to the result.
        assert answer["id"] == 7 and answer["result"]["structuredContent"] == {"result": 4}
        assert "_meta" not in answer["result"]
        status, modern_answer = await post(
            client, call, modern("tools/call", "add", **{"mcp-session-id": sid})
        )
    assert status == 200 and modern_answer["result"]["structuredContent"] == {"result": 4}
    assert "_meta" in modern_answer["result"]


async def test_the_mcpkit_client_follows_a_task_over_http() -> None:
    """The tasks extension over HTTP: the call is answered with a task handle, and the client
    polls it with tasks/get and answers its question with tasks/update, each POST naming the
    task in Mcp-Name as the server requires (SEP-2663)."""
    from mcpkit import Client
    from mcpkit.types import ElicitResult

    server = Server("tasks-over-http")

    @server.tool(task="required")
    async def export(ctx: Context) -> str:
        answer = await ctx.elicit("Format?", {"type": "object", "properties": {}})
        return f"exported: {answer.action}"

    def accept(params: Any) -> ElicitResult:
        return ElicitResult(action="accept", content={})

    async with asyncio.timeout(WAIT), serving(server.http_app()) as base:
        async with Client(base + "/mcp", elicitation_handler=accept) as client:
            assert client.protocol_version == "2026-07-28"
            assert (await client.call_tool("export")).text == "exported: accept"
