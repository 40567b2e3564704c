"""Events the Lambda handler cannot serve as they are: each is answered as the HTTP transport
answers the like (400, with the JSON-RPC code it gives), in the event's shape, and none raises
out of the handler (which the integration would turn into a 502 saying nothing)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from _lambda_events import FakeContext, answer, event, mcp_headers, request

from mcpkit.protocol.codes import INVALID_REQUEST, PARSE_ERROR
from mcpkit.serverless import LambdaHandler

Event = dict[str, Any]


def _listing(kind: str = "http_api_v2") -> Event:
    return event(kind, request("tools/list"), mcp_headers("tools/list"))


def _status_and_code(result: dict[str, Any]) -> tuple[int, int]:
    return result["statusCode"], answer(result)["error"]["code"]


@pytest.mark.parametrize("kind", ["http_api_v2", "rest_api_v1"])
def test_a_body_marked_base64_that_is_not_is_answered_as_a_body_that_is_not_json(
    handler: LambdaHandler, kind: str
) -> None:
    not_json = handler(event(kind, b"{not json", mcp_headers("tools/list")), FakeContext())
    assert _status_and_code(not_json) == (400, PARSE_ERROR)  # what the app itself answers
    sent = _listing(kind)
    sent.update(body="{not base64}", isBase64Encoded=True)
    result = handler(sent, FakeContext())
    assert _status_and_code(result) == _status_and_code(not_json)
    assert "base64" in answer(result)["error"]["message"]
    # in the shape its integration reads: a REST API's answer has multiValueHeaders
    assert ("multiValueHeaders" in result) == (kind == "rest_api_v1")


def _v2(change: Callable[[Event], None]) -> Event:
    sent = _listing("http_api_v2")
    change(sent)
    return sent


def _v1(change: Callable[[Event], None]) -> Event:
    sent = _listing("rest_api_v1")
    change(sent)
    return sent


MALFORMED: dict[str, object] = {
    "a list": [1, 2],
    "a string": "GET /mcp",
    "null": None,
    "headers a list": _v2(lambda e: e.update(headers=[["accept", "*/*"]])),
    "a header an object": _v2(lambda e: e["headers"].update(accept={"a": 1})),
    "http a list": _v2(lambda e: e["requestContext"].update(http=["POST"])),
    "cookies a string": _v2(lambda e: e.update(cookies="a=1")),
    "a cookie a number list": _v2(lambda e: e.update(cookies=[["a"]])),
    "rawPath an object": _v2(lambda e: e.update(rawPath={"p": 1})),
    "body an object": _v2(lambda e: e.update(body={"jsonrpc": "2.0"})),
    "body an object, base64": _v2(lambda e: e.update(body={"a": 1}, isBase64Encoded=True)),
    "requestContext a string (1.0)": _v1(lambda e: e.update(requestContext="ctx")),
    "multiValueHeaders a string list (1.0)": _v1(
        lambda e: e["multiValueHeaders"].update(accept="application/json")
    ),
    "multiValueHeaders of objects (1.0)": _v1(
        lambda e: e["multiValueHeaders"].update(accept=[{"a": 1}])
    ),
    "queryStringParameters a list (1.0)": _v1(
        lambda e: e.update(queryStringParameters=["a"], multiValueQueryStringParameters=None)
    ),
}


@pytest.mark.parametrize("what", list(MALFORMED))
def test_an_event_of_the_wrong_types_is_refused_400_never_raised(
    handler: LambdaHandler, what: str
) -> None:
    result = handler(MALFORMED[what], FakeContext())  # type: ignore[arg-type]
    assert _status_and_code(result) == (400, INVALID_REQUEST), result
    assert result["isBase64Encoded"] is False
    if what.endswith("(1.0)"):
        assert "multiValueHeaders" in result
    message = answer(result)["error"]["message"]
    assert "event" in message, message


def test_a_header_beyond_latin_1_reaches_the_app_as_utf_8(handler: LambdaHandler) -> None:
    sent = _listing()
    sent["headers"]["x-note"] = "prix: 5 €"
    result = handler(sent, FakeContext())
    assert result["statusCode"] == 200, result


def test_a_body_with_a_lone_surrogate_is_a_parse_error_as_over_http(
    handler: LambdaHandler,
) -> None:
    sent = _listing()
    # JSON may escape a lone surrogate; the body is then no UTF-8 text, as over HTTP
    sent["body"] = json.loads('"{\\"jsonrpc\\": \\"2.0\\", \\"x\\": \\"\\ud800\\"}"')
    result = handler(sent, FakeContext())
    assert _status_and_code(result) == (400, PARSE_ERROR), result


@pytest.mark.parametrize("host", ["example.com:\u00b2", "example.com:" + "9" * 5000])
def test_a_host_header_with_an_odd_port_is_served(handler: LambdaHandler, host: str) -> None:
    sent = _listing()
    sent["headers"]["host"] = host
    result = handler(sent, FakeContext())
    assert result["statusCode"] in (200, 400, 421), result  # answered, whatever the host check says
    answer(result)


def test_a_path_with_a_lone_surrogate_is_answered(handler: LambdaHandler) -> None:
    sent = _listing("rest_api_v1")
    sent["path"] = "/mcp\ud800"
    result = handler(sent, FakeContext())
    assert result["statusCode"] == 404, result
