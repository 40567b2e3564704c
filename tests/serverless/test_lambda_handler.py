"""`server.lambda_handler()` fed the documented event of each Lambda HTTP integration (API
Gateway HTTP API payload 2.0, function URL, REST API payload 1.0), in process: 2026-07-28
calls without initialize, their errors and statuses, the token reaching the verifier, bodies
refused, and what a stream or a 2025-11-25 session gets instead of a hang."""

from __future__ import annotations

import json

import pytest
from _lambda_events import KINDS, FakeContext, answer, event, header, mcp_headers, request
from _lambda_server import call, make_server

from mcpkit.auth.server.resource import ProtectedResource
from mcpkit.auth.server.verifier import AccessToken
from mcpkit.errors import InvalidToken
from mcpkit.serverless import LambdaHandler, lambda_handler


@pytest.mark.parametrize("kind", KINDS)
def test_each_integration_lists_and_calls_without_initialize(
    handler: LambdaHandler, kind: str
) -> None:
    listed = handler(event(kind, request("tools/list"), mcp_headers("tools/list")), FakeContext())
    assert listed["statusCode"] == 200
    assert [t["name"] for t in answer(listed)["result"]["tools"]] == ["add", "where", "slow"]
    assert header(listed, "mcp-session-id") is None
    called = handler(
        event(kind, call("add", {"a": 2, "b": 3}, "c1"), mcp_headers("tools/call", "add")),
        FakeContext(),
    )
    message = answer(called)
    assert (called["statusCode"], message["id"]) == (200, "c1")
    assert message["result"]["structuredContent"] == {"result": 5}
    assert header(called, "content-type") == "application/json"


@pytest.mark.parametrize("kind", KINDS)
def test_a_base64_body_is_decoded(handler: LambdaHandler, kind: str) -> None:
    sent = event(
        kind, call("add", {"a": 40, "b": 2}), mcp_headers("tools/call", "add"), base64_body=True
    )
    assert sent["isBase64Encoded"] is True and "tools/call" not in sent["body"]
    result = handler(sent, FakeContext())
    assert answer(result)["result"]["structuredContent"] == {"result": 42}


def test_a_body_marked_base64_that_is_not_is_refused(handler: LambdaHandler) -> None:
    sent = event("http_api_v2", None, mcp_headers("tools/list"))
    sent.update(body="{not base64}", isBase64Encoded=True)
    result = handler(sent, FakeContext())
    assert result["statusCode"] == 400 and "base64" in answer(result)["error"]["message"]


def test_cookies_source_ip_and_request_context_reach_the_tool(handler: LambdaHandler) -> None:
    result = handler(
        event("http_api_v2", call("where", {}), mcp_headers("tools/call", "where")),
        FakeContext(),
    )
    found = answer(result)["result"]["structuredContent"]
    # The fixture's cookies list, put back as one Cookie header; its sourceIp and requestId.
    assert found == {
        "cookie": "cookie1; cookie2",
        "accept": "application/json, text/event-stream",
        "source": "192.0.2.1",
        "request_id": "id",
    }


def test_multi_value_headers_of_a_rest_api_are_each_kept(handler: LambdaHandler) -> None:
    """A REST API puts a repeated header's values in multiValueHeaders and only the last in
    headers: the Accept a client sent as two lines must reach the app as both."""
    sent = event("rest_api_v1", call("where", {}), mcp_headers("tools/call", "where"))
    sent["multiValueHeaders"]["accept"] = ["application/json", "text/event-stream"]
    sent["headers"]["accept"] = "text/event-stream"
    result = handler(sent, FakeContext())
    assert result["statusCode"] == 200, result
    found = answer(result)["result"]["structuredContent"]
    assert found["source"] == "192.0.2.1" and found["cookie"] is None


@pytest.mark.parametrize("kind", KINDS)
def test_errors_carry_their_2026_status(handler: LambdaHandler, kind: str) -> None:
    unknown = handler(
        event(kind, call("nope", {}), mcp_headers("tools/call", "nope")), FakeContext()
    )
    assert unknown["statusCode"] in (200, 400)
    assert "error" in answer(unknown) or answer(unknown)["result"].get("isError") is True
    ping = handler(event(kind, request("ping", rid=9), mcp_headers("ping")), FakeContext())
    assert (ping["statusCode"], answer(ping)["error"]["code"], answer(ping)["id"]) == (
        404,
        -32601,
        9,
    )
    mismatch = handler(
        event(kind, call("add", {"a": 1, "b": 1}), mcp_headers("tools/call", "where")),
        FakeContext(),
    )
    assert (mismatch["statusCode"], answer(mismatch)["error"]["code"]) == (400, -32020)


def test_an_oversize_body_is_refused_before_it_is_served() -> None:
    made = make_server(max_message_size=4096).lambda_handler()
    try:
        big = call("add", {"a": 1, "b": 2, "pad": "x" * 5000})
        result = made(event("function_url", big, mcp_headers("tools/call", "add")), FakeContext())
        assert result["statusCode"] == 413
    finally:
        made.close()


class _Tokens:
    """Knows one token, and remembers the resource it was asked about."""

    asked: list[tuple[str, str]] = []  # noqa: RUF012 (one test's record)

    async def verify(self, token: str, *, resource: str) -> AccessToken:
        self.asked.append((token, resource))
        if token != "good":
            raise InvalidToken("unknown token")
        return AccessToken(subject="alice", client_id="app")


def test_the_authorization_header_reaches_the_servers_verifier() -> None:
    resource = "https://id.execute-api.us-east-1.amazonaws.com/mcp"
    server = make_server(auth=ProtectedResource(verifier=_Tokens(), resource=resource))
    made = lambda_handler(server)
    try:
        hdrs = mcp_headers("tools/list")
        refused = made(event("http_api_v2", request("tools/list"), hdrs), FakeContext())
        assert refused["statusCode"] == 401
        assert (header(refused, "www-authenticate") or "").lower().startswith("bearer")
        bad = made(
            event("rest_api_v1", request("tools/list"), {**hdrs, "authorization": "Bearer bad"}),
            FakeContext(),
        )
        assert bad["statusCode"] == 401
        good = made(
            event("function_url", request("tools/list"), {**hdrs, "authorization": "Bearer good"}),
            FakeContext(),
        )
        assert good["statusCode"] == 200 and "tools" in answer(good)["result"]
        assert _Tokens.asked == [("bad", resource), ("good", resource)]
    finally:
        made.close()


@pytest.mark.parametrize("kind", KINDS)
def test_a_listen_is_refused_at_once_not_left_to_time_out(
    handler: LambdaHandler, kind: str
) -> None:
    listen = request("subscriptions/listen", {"notifications": {"toolsListChanged": True}}, 7)
    result = handler(event(kind, listen, mcp_headers("subscriptions/listen")), FakeContext())
    message = answer(result)
    assert (result["statusCode"], message["id"], message["error"]["code"]) == (404, 7, -32601)
    assert "stream" in message["error"]["message"]
    # Without its header the app refuses the listen itself, also at once.
    headerless = mcp_headers("tools/list")
    del headerless["mcp-method"]
    result = handler(event(kind, listen, headerless), FakeContext())
    assert (result["statusCode"], answer(result)["error"]["code"]) == (400, -32020)
    # Its header over another request's body: the app's check of mirrored headers refuses it.
    other = handler(event(kind, request("tools/list"), mcp_headers("subscriptions/listen")))
    assert (other["statusCode"], answer(other)["error"]["code"]) == (400, -32020)


@pytest.mark.parametrize("kind", KINDS)
def test_compact_bodies_whose_meta_is_known_are_served_and_a_listen_refused(
    handler: LambdaHandler, kind: str
) -> None:
    # Written as clients write JSON (no spaces): from the second body on, the session knows
    # the `_meta` and reads the request in one frame, asking the function's own check with
    # the revision it read (a check that took no revision failed there with a TypeError).
    def compact(body: object) -> bytes:
        return json.dumps(body, separators=(",", ":")).encode()

    for rid in ("c1", "c2"):
        sent = compact(call("add", {"a": 2, "b": 3}, rid))
        called = handler(event(kind, sent, mcp_headers("tools/call", "add")), FakeContext())
        assert (called["statusCode"], answer(called)["result"]["structuredContent"]) == (
            200,
            {"result": 5},
        )
    listen = request("subscriptions/listen", {"notifications": {"toolsListChanged": True}}, 7)
    result = handler(event(kind, compact(listen), mcp_headers("subscriptions/listen")))
    assert (result["statusCode"], answer(result)["error"]["code"]) == (404, -32601)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("method", ["GET", "DELETE"])
def test_a_get_stream_or_a_delete_is_refused_405(
    handler: LambdaHandler, kind: str, method: str
) -> None:
    """A 2025-11-25 client's GET stream (and the DELETE ending its session) need a session
    this function never opens: 405 at once, naming why."""
    hdrs = {"accept": "text/event-stream", "mcp-session-id": "abc"}
    result = handler(event(kind, None, hdrs, method=method), FakeContext())
    assert result["statusCode"] == 405
    assert "stateless" in answer(result)["error"]["message"]


def test_a_2025_client_is_served_each_request_alone(handler: LambdaHandler) -> None:
    """initialize is answered with no Mcp-Session-Id, so a 2025-11-25 client sends none, and
    each of its requests is served by a fresh session (the stateless mode of that era)."""
    init = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "old", "version": "1"},
        },
    }
    hdrs = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
    opened = handler(event("http_api_v2", init, hdrs), FakeContext())
    assert opened["statusCode"] == 200 and header(opened, "mcp-session-id") is None
    assert answer(opened)["result"]["protocolVersion"] == "2025-11-25"
    listed = {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}
    hdrs["mcp-protocol-version"] = "2025-11-25"
    result = handler(event("rest_api_v1", listed, hdrs), FakeContext())
    assert result["statusCode"] == 200 and len(answer(result)["result"]["tools"]) == 3


def test_another_path_and_a_named_stage() -> None:
    made = make_server().lambda_handler()
    try:
        elsewhere = event("http_api_v2", request("tools/list"), mcp_headers("tools/list"))
        elsewhere["rawPath"] = "/other"
        assert made(elsewhere, FakeContext())["statusCode"] == 404
        staged = event("http_api_v2", request("tools/list"), mcp_headers("tools/list"))
        staged["rawPath"] = "/prod/mcp"
        staged["requestContext"]["stage"] = "prod"
        assert made(staged, FakeContext())["statusCode"] == 200
    finally:
        made.close()


def test_an_event_that_is_no_http_request_is_refused(handler: LambdaHandler) -> None:
    result = handler({"Records": [{"eventSource": "aws:sqs"}]}, FakeContext())
    assert result["statusCode"] == 400
    assert "not an HTTP event" in json.loads(result["body"])["error"]["message"]


def test_settings_the_handler_cannot_honour_are_refused() -> None:
    with pytest.raises(ValueError, match="json_response=True"):
        make_server().lambda_handler(json_response=False)
    with pytest.raises(ValueError, match="stateless=True"):
        make_server().lambda_handler(stateless=False)
