"""A call of an OpenAPI tool goes out with the operator's credentials, and its arguments come
from the MCP client: the client never reads those credentials in an error (the URL sent, a
`user:password`, an API key the API echoes), and cannot move the request off its template
(`..`, `.`, empty path values) nor add or replace query parameters through an object's keys
(issue 64)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from mcpkit import Client, Server
from mcpkit.openapi import RouteMap

SECRETS = ("SERVER-API-KEY", "s3cret-pass", "ops-user", "HEADER-SECRET-1")
BASE = "http://ops-user:s3cret-pass@api.test/v1"


def document() -> dict[str, Any]:
    item_id = {"name": "item_id", "in": "path", "required": True, "schema": {"type": "string"}}
    ok = {"200": {"description": "ok"}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "shop", "version": "1"},
        "paths": {
            "/items/{item_id}": {"get": {"operationId": "get_item", "parameters": [item_id]}},
            "/users/{user_id}/orders": {
                "get": {
                    "operationId": "list_orders",
                    "parameters": [{**item_id, "name": "user_id"}],
                    "responses": ok,
                }
            },
            "/search": {
                "get": {
                    "operationId": "search",
                    "parameters": [
                        {
                            "name": "filter",
                            "in": "query",
                            "style": "form",
                            "explode": True,
                            "schema": {"type": "object", "properties": {"color": {}}},
                        },
                        {"name": "api_key", "in": "query", "schema": {"type": "string"}},
                        {
                            "name": "extra",
                            "in": "query",
                            "style": "form",
                            "explode": True,
                            "schema": {"type": "object", "additionalProperties": True},
                        },
                    ],
                    "responses": ok,
                }
            },
        },
    }


class Api:
    """The API: records what reached it; `answer` makes each answer."""

    def __init__(self, answer: Any = None) -> None:
        self.seen: list[httpx.URL] = []
        self.answer = answer or (lambda request: httpx.Response(200, json={"ok": True}))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request.url)
        response: httpx.Response = self.answer(request)
        return response


def server_over(api: Api) -> Server:
    client = httpx.AsyncClient(
        transport=httpx.MockTransport(api),
        base_url=BASE,
        params={"api_key": "SERVER-API-KEY"},
        headers={"x-api-key": "HEADER-SECRET-1"},
    )
    return Server.from_openapi(document(), client=client, name="shop")


async def call(api: Api, tool: str, arguments: dict[str, Any]) -> tuple[bool, str]:
    async with Client(server_over(api)) as client:
        result = await client.call_tool(tool, arguments)
    return bool(result.is_error), result.text or ""


def echo(request: httpx.Request) -> httpx.Response:
    """An API that tells its caller everything it was sent, as many do in their errors."""
    said = f"bad request to {request.url} with key {request.headers['x-api-key']}"
    return httpx.Response(500, json={"error": said, "auth": request.headers.get("authorization")})


async def test_a_failed_answer_names_the_operation_and_none_of_the_operators_credentials() -> None:
    is_error, text = await call(Api(echo), "get_item", {"item_id": "7"})
    assert is_error is True
    assert text.startswith("GET /items/{item_id} answered HTTP 500: ")
    assert "[redacted]" in text
    for secret in SECRETS:
        assert secret not in text


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("could not reach http://ops-user:s3cret-pass@api.test/v1"),
        httpx.ReadTimeout("timed out reading from api.test/v1?api_key=SERVER-API-KEY"),
    ],
)
async def test_a_request_that_fails_names_none_of_the_operators_credentials(
    failure: httpx.HTTPError,
) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise failure

    is_error, text = await call(Api(fail), "get_item", {"item_id": "7"})
    assert is_error is True
    assert text.startswith(f"GET /items/{{item_id}} failed: {type(failure).__name__}: ")
    for secret in SECRETS:
        assert secret not in text


@pytest.mark.parametrize("value", ["..", ".", ""])
async def test_a_dot_segment_or_empty_path_value_is_refused_before_anything_is_sent(
    value: str,
) -> None:
    api = Api()
    is_error, text = await call(api, "list_orders", {"user_id": value})
    assert is_error is True
    assert f"the path parameter 'user_id' cannot be {value!r}" in text
    assert api.seen == []


@pytest.mark.parametrize("value", ["a/b", "%2e%2e", "..%2f", "?x=1#y"])
async def test_other_path_values_stay_within_their_segment(value: str) -> None:
    api = Api()
    is_error, _ = await call(api, "list_orders", {"user_id": value})
    assert is_error is False
    (sent,) = api.seen
    assert sent.raw_path.startswith(b"/v1/users/")
    assert sent.raw_path.split(b"?")[0].count(b"/") == 4  # /v1/users/<one segment>/orders
    assert sent.params["api_key"] == "SERVER-API-KEY"


async def test_an_object_query_argument_takes_only_the_keys_its_schema_names() -> None:
    api = Api()
    is_error, text = await call(api, "search", {"filter": {"color": "red", "api_key": "mine"}})
    assert is_error is True
    assert "argument 'filter' has no properties named ['api_key']" in text
    assert api.seen == []
    assert await call(api, "search", {"filter": {"color": "red"}}) == (False, '{"ok":true}')
    assert api.seen[-1].params["color"] == "red"


async def test_an_object_query_argument_never_replaces_the_operators_own_parameters() -> None:
    api = Api()
    is_error, text = await call(api, "search", {"extra": {"api_key": "mine", "size": "9"}})
    assert is_error is True
    assert "cannot set the query parameters ['api_key']" in text
    assert api.seen == []
    assert (await call(api, "search", {"extra": {"size": "9"}}))[0] is False
    assert api.seen[-1].params.get_list("api_key") == ["SERVER-API-KEY"]


async def test_a_basic_auth_credential_the_api_echoes_is_redacted() -> None:
    def echo_auth(request: httpx.Request) -> httpx.Response:
        return httpx.Response(401, text=f"refused {request.headers['authorization']}")

    client = httpx.AsyncClient(
        transport=httpx.MockTransport(echo_auth),
        base_url="http://api.test/v1",
        auth=httpx.BasicAuth("ops-user", "s3cret-pass"),
    )
    async with Client(Server.from_openapi(document(), client=client, name="shop")) as mcp:
        result = await mcp.call_tool("get_item", {"item_id": "7"})
    assert result.text == "GET /items/{item_id} answered HTTP 401: refused [redacted]"


def test_proxy_authorization_is_never_forwarded() -> None:
    with pytest.raises(ValueError, match="'Proxy-Authorization' is the MCP client's credential"):
        RouteMap("tool", forward_headers=["Proxy-Authorization"])


async def test_a_declared_query_parameter_never_replaces_the_operators_own() -> None:
    api = Api()
    is_error, text = await call(api, "search", {"api_key": "mine"})
    assert is_error is True
    assert "the arguments ['api_key'] would replace query parameters the server sends" in text
    assert api.seen == []
