"""`Server.from_openapi` and `Server.from_fastapi`: a FastAPI app's operations as tools,
resources and templates, listed, called and read through `Client` in both eras, a 404 as a
tool error, headers of the MCP request forwarded over HTTP, and the app's lifespan run."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import subprocess
import sys
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from _shop_app import make_app
from fastapi import FastAPI, Header, Request

from mcpkit import Client, Server
from mcpkit.auth.server.resource import ProtectedResource
from mcpkit.auth.server.verifier import AccessToken
from mcpkit.errors import InvalidToken, McpError
from mcpkit.openapi import RouteMap
from mcpkit.protocol import codes

ERAS = ["2025-11-25", "2026-07-28"]
WAIT = 10.0
SHOP_MAPS = [
    RouteMap("resource", pattern=r"^/items$"),
    RouteMap("resource_template", pattern=r"^/items/\{item_id\}$"),
]


def shop(**options: Any) -> Server:
    return Server.from_fastapi(make_app(), **options)


@pytest.mark.parametrize("era", ERAS)
async def test_every_operation_is_listed_as_a_tool_with_its_schemas_and_hints(era: str) -> None:
    async with asyncio.timeout(WAIT), Client(shop(), protocol=era) as client:
        tools = {t.name: t for t in await client.list_tools()}
        assert client.server_info.name == "Shop"
    assert sorted(tools) == [
        "create_item",
        "delete_item",
        "get_item",
        "list_items",
        "login",
        "pay",
        "rename_item",
        "upload",
    ]
    get_item = tools["get_item"]
    assert get_item.description == "One item"
    assert get_item.input_schema["required"] == ["item_id"]
    assert "x-currency" in get_item.input_schema["properties"]
    annotations = get_item.annotations
    assert annotations is not None and annotations.read_only_hint is True
    deleting = tools["delete_item"].annotations
    assert deleting is not None and deleting.destructive_hint and deleting.idempotent_hint
    creating = tools["create_item"].annotations
    assert creating is not None and not creating.read_only_hint and not creating.idempotent_hint
    created = tools["create_item"].output_schema
    assert created is not None and created["required"] == ["name", "price", "id"]
    # a list answer, wrapped as {"result": [...]} since structured content is an object
    listed = tools["list_items"].output_schema
    assert listed is not None and listed["properties"]["result"]["type"] == "array"


@pytest.mark.parametrize("era", ERAS)
async def test_each_kind_of_call_answers_as_the_api_does(era: str) -> None:
    async with asyncio.timeout(WAIT), Client(shop(), protocol=era) as client:
        got = await client.call_tool("get_item", {"item_id": 1, "x-currency": "USD"})
        created = await client.call_tool(
            "create_item", {"name": "cup", "price": 2.5, "tags": ["kitchen"]}
        )
        listed = await client.call_tool("list_items", {"tag": ["kitchen"]})
        paid = await client.call_tool(
            "pay", {"body": {"kind": "card", "number": "4242"}, "amount": 3}
        )
        deleted = await client.call_tool("delete_item", {"item_id": 2})
        after = await client.call_tool("list_items", {})
    kettle = {"id": 1, "name": "kettle", "price": 30.0, "tags": ["kitchen"]}
    assert got.structured_content == {"item": kettle, "currency": "USD"}
    assert json.loads(got.content[0].text) == got.structured_content  # type: ignore[union-attr]
    cup = {"id": 2, "name": "cup", "price": 2.5, "tags": ["kitchen"]}
    assert created.structured_content == cup and not created.is_error
    assert listed.structured_content == {"result": [kettle, cup]}
    assert paid.structured_content == {"paid": 3.0, "by": "card"}
    assert not deleted.is_error and deleted.content == []  # 204: no body
    assert after.structured_content == {"result": [kettle]}


@pytest.mark.parametrize("era", ERAS)
async def test_a_404_is_a_tool_error_with_the_status_and_the_apis_body(era: str) -> None:
    async with asyncio.timeout(WAIT), Client(shop(), protocol=era) as client:
        result = await client.call_tool("get_item", {"item_id": 99})
    assert result.is_error
    text = result.content[0].text  # type: ignore[union-attr]
    assert "404" in text and '{"detail":"no item 99"}' in text


@pytest.mark.parametrize("era", ERAS)
async def test_arguments_the_schema_refuses_never_reach_the_api(era: str) -> None:
    async with asyncio.timeout(WAIT), Client(shop(), protocol=era) as client:
        result = await client.call_tool("get_item", {"item_id": "one"})
    assert result.is_error
    assert "Invalid arguments" in result.content[0].text  # type: ignore[union-attr]


@pytest.mark.parametrize("era", ERAS)
async def test_route_maps_make_a_resource_and_a_template_to_read(era: str) -> None:
    server = shop(route_maps=SHOP_MAPS, uri_prefix="shop://")
    async with asyncio.timeout(WAIT), Client(server, protocol=era) as client:
        resources = [r.uri for r in await client.list_resources()]
        templates = [t.uri_template for t in await client.list_resource_templates()]
        tools = {t.name for t in await client.list_tools()}
        (listing,) = (await client.read_resource("shop://items")).contents
        (one,) = (await client.read_resource("shop://items/1")).contents
        with pytest.raises(McpError) as missing:
            await client.read_resource("shop://items/99")
    assert resources == ["shop://items"] and templates == ["shop://items/{item_id}"]
    assert "list_items" not in tools and "get_item" not in tools and "create_item" in tools
    assert json.loads(listing.text)[0]["name"] == "kettle"  # type: ignore[union-attr]
    assert listing.mime_type == "application/json"
    assert json.loads(one.text)["item"]["id"] == 1  # type: ignore[union-attr]
    # "Resource not found": -32002, which 2026-07-28 made -32602 (its changelog, 6)
    assert missing.value.code == (codes.RESOURCE_NOT_FOUND if era < "2026" else -32602)
    assert "404" in str(missing.value) and "no item 99" in str(missing.value)


THINGS = {
    "openapi": "3.1.0",
    "info": {"title": "Things", "version": "2"},
    "paths": {
        "/things/{from}/{1st}": {
            "get": {
                "operationId": "thing",
                "parameters": [
                    {"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
                    for n in ("from", "1st")
                ],
                "responses": {"200": {"description": "the path asked"}},
            }
        }
    },
}


async def test_a_template_variable_that_is_no_python_name_is_renamed_and_read() -> None:
    """A server hands a template's variables to a function as parameters: `from` and
    `1st` become `from_` and `_1st` in the URI, the API still called with its own."""
    echo = httpx.MockTransport(lambda request: httpx.Response(200, text=request.url.path))
    async with httpx.AsyncClient(transport=echo, base_url="http://things") as api:
        server = Server.from_openapi(
            THINGS, client=api, route_maps=[RouteMap("resource_template")], uri_prefix="t://"
        )
        async with asyncio.timeout(WAIT), Client(server) as client:
            (template,) = await client.list_resource_templates()
            (read,) = (await client.read_resource("t://things/a/b")).contents
    assert template.uri_template == "t://things/{from_}/{_1st}"
    assert read.text == "/things/a/b"  # type: ignore[union-attr]


def test_a_url_is_refused_with_the_way_to_fetch_it() -> None:
    with pytest.raises(ValueError, match="from_openapi_url"):
        Server.from_openapi("https://example.com/openapi.json", client=httpx.AsyncClient())


@contextlib.asynccontextmanager
async def served_shop() -> AsyncGenerator[httpx.AsyncClient, None]:
    transport = httpx.ASGITransport(app=make_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://shop") as api:
        yield api


async def test_from_a_document_and_from_its_url_the_same_tools() -> None:
    async with asyncio.timeout(WAIT), served_shop() as api:
        by_dict = Server.from_openapi(make_app().openapi(), client=api, name="by-dict")
        by_url = await Server.from_openapi_url("http://shop/openapi.json", client=api)
        async with Client(by_url) as client:
            result = await client.call_tool("get_item", {"item_id": 1})
    assert by_dict.name == "by-dict" and by_url.name == "Shop" and by_url.version == "0.1.0"
    assert [t.name for t in by_dict.tools.items()] == [t.name for t in by_url.tools.items()]
    assert result.structured_content is not None and result.structured_content["currency"] == "EUR"


async def test_from_a_file_path(tmp_path: Path) -> None:
    path = tmp_path / "shop.json"
    path.write_text(json.dumps(make_app().openapi()))
    async with asyncio.timeout(WAIT), served_shop() as api:
        server = Server.from_openapi(path, client=api)
        async with Client(server) as client:
            result = await client.call_tool("list_items", {"limit": 1})
    assert result.structured_content is not None
    assert [i["name"] for i in result.structured_content["result"]] == ["kettle"]


def test_a_server_loads_neither_the_engine_nor_httpx_nor_fastapi_until_asked() -> None:
    """The constructors import what they need when called: `import mcpkit` and a plain
    server stay free of httpx, and FastAPI is never mcpkit's to import."""
    code = (
        "import sys\nfrom mcpkit import Server\nServer('x')\n"
        "print(','.join(m for m in sys.modules if m.split('.')[0] in ('httpx', 'fastapi')"
        " or m.startswith(('mcpkit.openapi', 'mcpkit.server.catalog.openapi'))))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    assert loaded == ""


def echo_app() -> FastAPI:
    app = FastAPI(title="Echo")

    @app.get("/whoami", operation_id="whoami")
    async def whoami(
        authorization: str = Header(default="none"), x_tenant: str = Header(default="none")
    ) -> dict[str, str]:
        return {"authorization": authorization, "tenant": x_tenant}

    return app


@contextlib.asynccontextmanager
async def uvicorn_serving(app: Any) -> AsyncGenerator[str, None]:
    """`app` served by uvicorn on a free port of 127.0.0.1, its lifespan on."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)  # connections wait in the backlog until uvicorn has started
    server = uvicorn.Server(uvicorn.Config(app, lifespan="on", log_level="warning"))
    task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/mcp"
    finally:
        server.should_exit = True
        await task
        sock.close()


@pytest.mark.parametrize("era", ERAS)
async def test_headers_of_the_mcp_request_are_forwarded_where_asked(era: str) -> None:
    server = Server.from_fastapi(
        echo_app(),
        route_maps=[RouteMap("tool", forward_headers=["Authorization"])],
        forward_headers=["x-tenant"],
    )
    sent = {"authorization": "Bearer t0k", "x-tenant": "acme", "x-other": "no"}
    async with asyncio.timeout(WAIT), uvicorn_serving(server.http_app()) as url:
        async with Client(url, protocol=era, headers=sent) as client:
            over_http = await client.call_tool("whoami", {})
    async with asyncio.timeout(WAIT), Client(server, protocol=era) as client:
        in_memory = await client.call_tool("whoami", {})  # no HTTP request: nothing to forward
    assert over_http.structured_content == {"authorization": "Bearer t0k", "tenant": "acme"}
    assert in_memory.structured_content == {"authorization": "none", "tenant": "none"}


class _OneToken:
    """A verifier that knows one token, issued for this MCP server."""

    async def verify(self, token: str, *, resource: str) -> AccessToken:
        if token != "t0k":
            raise InvalidToken("unknown token")
        return AccessToken(subject="alice", client_id="app")


def test_forwarding_authorization_from_a_server_that_checks_tokens_is_refused() -> None:
    # The token the client sends is issued for this server: handing it on to the API is
    # token passthrough (basic/security_best_practices), refused where it is configured.
    with pytest.raises(ValueError, match="token passthrough"):
        Server.from_fastapi(
            echo_app(),
            forward_headers=["Authorization"],
            auth=ProtectedResource(verifier=_OneToken()),
        )


@pytest.mark.parametrize("era", ERAS)
async def test_a_verified_token_is_not_passed_on_by_a_mounted_api(era: str) -> None:
    # Mounted, the API's server does not check tokens itself: its parent does, and the
    # call that would pass the parent's token on fails saying why.
    api = Server.from_fastapi(echo_app(), forward_headers=["Authorization", "x-tenant"])
    parent = Server("parent", auth=ProtectedResource(verifier=_OneToken()))
    parent.mount(api, "api")
    sent = {"authorization": "Bearer t0k", "x-tenant": "acme"}
    async with asyncio.timeout(WAIT), uvicorn_serving(parent.http_app()) as url:
        async with Client(url, protocol=era, headers=sent) as client:
            result = await client.call_tool("api_whoami", {})
    assert result.is_error
    assert "token passthrough" in str(result.content[0])


def app_with_lifespan(events: list[str]) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncGenerator[dict[str, Any], None]:
        events.append("app entered")
        yield {"greeting": "hello"}
        events.append("app left")

    app = FastAPI(title="Greeter", lifespan=lifespan)

    @app.get("/greet", operation_id="greet")
    async def greet(request: Request, who: str) -> str:
        return f"{request.state.greeting}, {who}"

    return app


@pytest.mark.parametrize("era", ERAS)
async def test_the_apps_lifespan_runs_inside_the_servers(era: str) -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def mine(server: Server) -> AsyncGenerator[str, None]:
        events.append("server entered")
        yield "mine"
        events.append("server left")

    server = Server.from_fastapi(app_with_lifespan(events), lifespan=mine)
    async with asyncio.timeout(WAIT), Client(server, protocol=era) as client:
        result = await client.call_tool("greet", {"who": "ada"})
        assert server.lifespan_state == "mine"
        assert events == ["app entered", "server entered"]
    assert events == ["app entered", "server entered", "server left", "app left"]
    # the state the app's lifespan yielded reached its request, as under its own server
    assert result.content[0].text == "hello, ada"  # type: ignore[union-attr]


async def test_mounted_in_another_server_it_calls_the_app_within_its_lifespan() -> None:
    events: list[str] = []
    hub = Server("hub")
    hub.mount(Server.from_fastapi(app_with_lifespan(events)), namespace="greeter")
    async with asyncio.timeout(WAIT), Client(hub) as client:
        tools = [t.name for t in await client.list_tools()]
        result = await client.call_tool("greeter_greet", {"who": "bob"})
    assert tools == ["greeter_greet"]
    assert result.content[0].text == "hello, bob"  # type: ignore[union-attr]
    assert events == ["app entered", "app left"]
