"""What each operation becomes, and who may say so: route maps checked field by field where
they are written, FastMCP's `route_map_fn` and `mcp_component_fn` hooks, OpenAPI tags and
summaries carried onto what a client lists, and the rule that nothing makes an operation
other than a GET something a client reads, seen through `Client` against an API that
records what it was asked."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest

from mcpkit import Client, Server
from mcpkit.openapi import (
    OpenApiComponent,
    OpenApiRoute,
    OpenApiSpecError,
    Operation,
    RouteKind,
    RouteMap,
    build_routes,
    read_spec,
)
from mcpkit.server.catalog.visibility.tags import TAGS_META_KEY
from mcpkit.types import TextResourceContents

WAIT = 10.0


def _answer(description: str) -> dict[str, Any]:
    return {"200": {"description": description, "content": {"application/json": {}}}}


def admin_api() -> dict[str, Any]:
    """The field report's API: a listing, one item, and a POST that deletes everything."""
    item_id = {"name": "item_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "Shop", "version": "1"},
        "paths": {
            "/items": {
                "get": {
                    "operationId": "list_items",
                    "summary": "List items",
                    "description": "Every item, newest first.",
                    "tags": ["items", "public"],
                    "responses": _answer("the items"),
                }
            },
            "/items/{item_id}": {
                "get": {
                    "operationId": "get_item",
                    "summary": "One item",
                    "tags": ["items"],
                    "parameters": [item_id],
                    "responses": _answer("the item"),
                }
            },
            "/admin/reset": {
                "post": {
                    "operationId": "reset",
                    "summary": "Delete every item",
                    "tags": ["admin"],
                    "responses": {"204": {"description": "gone"}},
                }
            },
        },
    }


class Api:
    """The API's side: every request it was sent."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(f"{request.method} {request.url.path}")
        if request.method == "POST":
            return httpx.Response(204)
        return httpx.Response(200, json={"path": request.url.path})

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.MockTransport(self.handle), base_url="http://shop.test"
        )


# ------------------------------------------------------------------ route maps, checked


def test_a_misspelt_kind_is_refused_naming_the_kinds_and_the_closest() -> None:
    with pytest.raises(ValueError, match="'exlude' is not a kind") as caught:
        RouteMap("exlude", pattern=r"^/admin")  # type: ignore[arg-type]  # the typo itself
    assert "'tool', 'resource', 'resource_template', 'exclude'" in str(caught.value)
    assert str(caught.value).endswith("did you mean 'exclude'?")
    with pytest.raises(ValueError, match="did you mean 'resource_template'"):
        RouteMap("RESOURCE_TEMPLATE")  # type: ignore[arg-type]  # FastMCP's spelling


async def test_the_misspelt_map_never_lets_a_read_run_the_post() -> None:
    """The report: `"exlude"` listed POST /admin/reset as a resource, and reading it reset the
    data. The map is refused where it is written, so no server with it exists; the same
    document with the map spelt right lists no reset at all."""
    api = Api()
    with pytest.raises(ValueError, match="did you mean 'exclude'"):
        Server.from_openapi(
            admin_api(),
            client=api.client(),
            route_maps=[RouteMap("exlude", pattern=r"^/admin")],  # type: ignore[arg-type]
        )
    server = Server.from_openapi(
        admin_api(), client=api.client(), route_maps=[RouteMap("exclude", pattern=r"^/admin")]
    )
    async with asyncio.timeout(WAIT), Client(server) as client:
        tools = [t.name for t in await client.list_tools()]
        assert client.server_capabilities.resources is None  # nothing to read at all
    assert tools == ["list_items", "get_item"]
    assert api.seen == []


@pytest.mark.parametrize(
    ("options", "error", "said"),
    [
        ({"methods": "GET"}, TypeError, "not the string 'GET': methods=['GET']"),
        ({"methods": ["GET", "FETCH"]}, ValueError, "'FETCH' is not an HTTP method"),
        ({"methods": []}, ValueError, "matches no operation"),
        ({"methods": [7]}, TypeError, "not 7"),
        ({"pattern": "^/items/(["}, ValueError, "'^/items/([' is not a regular expression"),
        ({"pattern": 3}, TypeError, "pattern is a regular expression"),
        ({"tags": "admin"}, TypeError, "tags=['admin']"),
        ({"tags": [""]}, TypeError, "non-empty strings"),
        ({"forward_headers": "Authorization"}, TypeError, "forward_headers=['Authorization']"),
        ({"mcp_tags": "api"}, TypeError, "mcp_tags=['api']"),
        ({"forward_headers": ["Authorization: x"]}, ValueError, "'Authorization: x' is not a"),
    ],
)
def test_every_field_of_a_route_map_is_checked_where_it_is_written(
    options: dict[str, Any], error: type[Exception], said: str
) -> None:
    with pytest.raises(error, match=re.escape(said)):
        RouteMap("tool", **options)


def test_a_read_map_takes_get_only_and_methods_match_in_any_case() -> None:
    with pytest.raises(ValueError, match=r"matches GET only, not \['POST'\]"):
        RouteMap("resource", methods=["post"])
    routes = build_routes(
        read_spec(admin_api()),
        client=httpx.AsyncClient(),
        route_maps=[
            RouteMap("resource", methods=["get"], pattern=re.compile(r"^/items$")),
            RouteMap("exclude", methods="*", tags=["admin"]),
        ],
    )
    assert [(r.name, r.kind) for r in routes] == [("list_items", "resource"), ("get_item", "tool")]


def test_a_route_built_by_hand_as_a_resource_must_be_a_get_with_a_uri() -> None:
    listing, _, reset = build_routes(read_spec(admin_api()), client=httpx.AsyncClient())
    with pytest.raises(ValueError, match=r"OpenApiRoute makes POST /admin/reset .* a resource"):
        OpenApiRoute("resource", "reset", None, reset.operation, reset.client, None, "x://r")
    with pytest.raises(ValueError, match="a resource needs its uri"):
        OpenApiRoute("resource", "items", None, listing.operation, listing.client, None)
    with pytest.raises(ValueError, match="'exlude' is not a kind"):
        OpenApiRoute("exlude", "reset", None, reset.operation, reset.client, None)  # type: ignore[arg-type]


# ------------------------------------------------------------------------ route_map_fn


async def test_route_map_fn_sees_the_maps_choice_and_may_change_it() -> None:
    seen: list[tuple[str | None, RouteKind]] = []

    def choose(operation: Operation, kind: RouteKind) -> RouteKind | None:
        seen.append((operation.operation_id, kind))
        if "admin" in operation.tags:
            return "exclude"
        return "resource_template" if operation.path_arguments else None

    api = Api()
    server = Server.from_openapi(
        admin_api(),
        client=api.client(),
        route_maps=[RouteMap("resource", pattern=r"^/items$")],
        route_map_fn=choose,
        uri_prefix="shop://",
    )
    async with asyncio.timeout(WAIT), Client(server) as client:
        assert client.server_capabilities.tools is None  # the POST is left out, GETs are read
        (listing,) = await client.list_resources()
        (template,) = await client.list_resource_templates()
        (item,) = (await client.read_resource("shop://items/7")).contents
    assert seen == [("list_items", "resource"), ("get_item", "tool"), ("reset", "tool")]
    assert (listing.uri, template.uri_template) == ("shop://items", "shop://items/{item_id}")
    assert isinstance(item, TextResourceContents) and item.text == '{"path":"/items/7"}'
    assert api.seen == ["GET /items/7"]


@pytest.mark.parametrize(
    ("returned", "said"),
    [
        ("resource", r"route_map_fn makes POST /admin/reset \(operationId 'reset'\) a resource"),
        ("resource_template", "only a GET may be read"),
        ("exlude", "route_map_fn for POST /admin/reset .* did you mean 'exclude'"),
    ],
)
def test_route_map_fn_cannot_make_a_post_something_to_read(returned: str, said: str) -> None:
    api = Api()

    def everything(operation: Operation, kind: RouteKind) -> Any:
        return returned if operation.method == "POST" else None

    with pytest.raises(ValueError, match=said):
        Server.from_openapi(admin_api(), client=api.client(), route_map_fn=everything)
    assert api.seen == []


def test_route_map_fn_choices_a_read_cannot_call_are_refused_with_the_fix() -> None:
    def read_all(operation: Operation, kind: RouteKind) -> RouteKind | None:
        return "resource" if operation.method == "GET" else None

    with pytest.raises(
        ValueError, match=r"GET /items/\{item_id\} .* did you mean 'resource_template'"
    ):
        build_routes(read_spec(admin_api()), client=httpx.AsyncClient(), route_map_fn=read_all)
    document = admin_api()
    document["paths"]["/items"]["get"]["parameters"] = [
        {"name": "q", "in": "query", "required": True, "schema": {"type": "string"}}
    ]
    with pytest.raises(ValueError, match=r"it needs \['q'\]: make it a 'tool'"):
        build_routes(
            read_spec(document),
            client=httpx.AsyncClient(),
            route_map_fn=lambda op, kind: "resource" if op.path == "/items" else None,
        )


# ------------------------------------------------- tags, titles and mcp_component_fn


async def test_summaries_are_titles_and_openapi_tags_are_mcpkit_tags() -> None:
    api = Api()
    server = Server.from_openapi(
        admin_api(),
        client=api.client(),
        route_maps=[RouteMap("tool", tags=["admin"], mcp_tags=["dangerous"])],
    )
    async with asyncio.timeout(WAIT), Client(server) as client:
        tools = {t.name: t for t in await client.list_tools()}
        listing = tools["list_items"]
        assert (listing.title, listing.description) == ("List items", "Every item, newest first.")
        assert (tools["get_item"].title, tools["get_item"].description) == ("One item", "One item")
        assert listing.meta == {TAGS_META_KEY: ["items", "public"]}
        assert tools["reset"].meta == {TAGS_META_KEY: ["admin", "dangerous"]}
        server.disable(tags=["dangerous"])  # the tags are the server's own, for every use
        assert sorted(t.name for t in await client.list_tools()) == ["get_item", "list_items"]


async def test_mcp_component_fn_renames_retitles_and_tags_before_registering() -> None:
    seen: list[tuple[str, str, str | None]] = []

    def customise(operation: Operation, component: OpenApiComponent) -> None:
        seen.append((operation.method, component.kind, component.uri))
        component.name = f"shop_{component.name}"
        component.title = f"Shop: {component.title}"
        component.description = f"{component.description} (via the shop API)"
        component.tags.add(component.kind)
        component.meta["team"] = "store"

    api = Api()
    server = Server.from_openapi(
        admin_api(),
        client=api.client(),
        route_maps=[RouteMap("resource", pattern=r"^/items$")],
        mcp_component_fn=customise,
        uri_prefix="shop://",
    )
    async with asyncio.timeout(WAIT), Client(server) as client:
        tools = {t.name: t for t in await client.list_tools()}
        (listing,) = await client.list_resources()
        called = await client.call_tool("shop_get_item", {"item_id": 3})
    assert seen == [
        ("GET", "resource", "shop://items"),
        ("GET", "tool", None),
        ("POST", "tool", None),
    ]
    assert sorted(tools) == ["shop_get_item", "shop_reset"]
    assert tools["shop_reset"].title == "Shop: Delete every item"
    assert tools["shop_reset"].description == "Delete every item (via the shop API)"
    assert tools["shop_reset"].meta == {"team": "store", TAGS_META_KEY: ["admin", "tool"]}
    assert (listing.name, listing.title) == ("shop_list_items", "Shop: List items")
    assert listing.meta == {"team": "store", TAGS_META_KEY: ["items", "public", "resource"]}
    assert called.structured_content is None and api.seen == ["GET /items/3"]


def _changing(field: str, value: object) -> Any:
    def change(operation: Operation, component: OpenApiComponent) -> None:
        if operation.method == "POST":
            setattr(component, field, value)

    return change


@pytest.mark.parametrize(
    ("field", "value", "said"),
    [
        ("kind", "resource", "changed kind to 'resource': choose the kind with a route map"),
        ("uri", "shop://reset", "changed uri to 'shop://reset': uri_prefix= sets URIs"),
        ("name", "get_item", "two tools are named 'get_item'"),
        ("name", "reset all", "invalid tool name 'reset all'"),
        ("name", "", "a name is a non-empty string"),
        ("title", 3, "set title to 3: a string, or None"),
        ("tags", {""}, "a tag is a non-empty string"),
        ("tags", "admin", "set tags to 'admin': a set of strings"),
        ("meta", [], "set meta to \\[\\]: a dict"),
    ],
)
def test_what_mcp_component_fn_may_not_do_is_refused_naming_the_operation(
    field: str, value: object, said: str
) -> None:
    with pytest.raises((TypeError, ValueError), match=said) as caught:
        build_routes(
            read_spec(admin_api()),
            client=httpx.AsyncClient(),
            mcp_component_fn=_changing(field, value),
        )
    assert "POST /admin/reset" in str(caught.value) or field == "name"


def test_a_summary_that_is_no_string_is_refused_where_it_is() -> None:
    document = admin_api()
    document["paths"]["/items"]["get"]["summary"] = ["List", "items"]
    with pytest.raises(OpenApiSpecError, match="`summary` must be a string") as caught:
        build_routes(read_spec(document), client=httpx.AsyncClient())
    assert caught.value.where == "#/paths/~1items/get/summary"
