"""Every operation of a real FastAPI app as a route, called in process, answers as a direct
HTTP call to the same app does."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from _shop_app import make_app

from mcpkit.openapi import OpenApiRoute, OpenApiStatusError, build_routes, load_spec


@asynccontextmanager
async def shop_client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=make_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://shop") as client:
        yield client


async def routes_of(client: httpx.AsyncClient) -> dict[str, OpenApiRoute]:
    spec = await load_spec("http://shop/openapi.json", client=client)
    return {r.name: r for r in build_routes(spec, client=client)}


FILE = base64.b64encode(b"hello").decode()

# (tool, arguments) and the direct request that must answer the same, in the order run;
# each side runs against its own app, so a creation seen by one is seen by the other.
CALLS: list[tuple[str, dict[str, Any], dict[str, Any]]] = [
    ("list_items", {}, {"method": "GET", "url": "/items"}),
    (
        "list_items",
        {"tag": ["kitchen"], "limit": 5},
        {"method": "GET", "url": "/items?tag=kitchen&limit=5"},
    ),
    ("get_item", {"item_id": 1}, {"method": "GET", "url": "/items/1"}),
    (
        "get_item",
        {"item_id": 1, "x-currency": "USD"},
        {"method": "GET", "url": "/items/1", "headers": {"x-currency": "USD"}},
    ),
    (
        "create_item",
        {"name": "cup", "price": 2.5, "tags": ["kitchen"], "session": "s1"},
        {
            "method": "POST",
            "url": "/items",
            "json": {"name": "cup", "price": 2.5, "tags": ["kitchen"]},
            "headers": {"cookie": "session=s1"},
        },
    ),
    ("list_items", {"tag": ["kitchen"]}, {"method": "GET", "url": "/items?tag=kitchen"}),
    (
        "rename_item",
        {"item_id": 2, "name__query": "new", "name": "mug", "price": 3},
        {"method": "PUT", "url": "/items/2?name=new", "json": {"name": "mug", "price": 3}},
    ),
    (
        "pay",
        {"body": {"kind": "transfer", "iban": "DE00"}, "amount": 9.5},
        {"method": "POST", "url": "/pay?amount=9.5", "json": {"kind": "transfer", "iban": "DE00"}},
    ),
    (
        "upload",
        {"title": "docs", "files": [FILE, FILE]},
        {
            "method": "POST",
            "url": "/upload",
            "data": {"title": "docs"},
            "files": [("files", ("files", b"hello")), ("files", ("files", b"hello"))],
        },
    ),
    (
        "login",
        {"user": "ada", "remember": True},
        {"method": "POST", "url": "/login", "data": {"user": "ada", "remember": "true"}},
    ),
    ("delete_item", {"item_id": 2}, {"method": "DELETE", "url": "/items/2"}),
    ("list_items", {}, {"method": "GET", "url": "/items"}),
]


async def test_every_operation_is_a_route() -> None:
    async with shop_client() as client:
        routes = await routes_of(client)
    assert sorted(routes) == sorted({name for name, _, _ in CALLS})
    assert all(r.kind == "tool" for r in routes.values())


async def test_each_call_answers_as_the_direct_request() -> None:
    async with shop_client() as tools_side, shop_client() as direct_side:
        routes = await routes_of(tools_side)
        for name, arguments, direct in CALLS:
            result = await routes[name].call(arguments)
            answer = await direct_side.request(**direct)
            assert result.status == answer.status_code, name
            expected = answer.json() if answer.content else None
            assert result.body == expected, name


async def test_output_schemas_follow_the_responses() -> None:
    async with shop_client() as client:
        routes = await routes_of(client)
        listed = await routes["list_items"].call({})
    # an array answer is wrapped, as mcpkit wraps a function's non-object return value
    schema = routes["list_items"].output_schema
    assert schema is not None and schema["required"] == ["result"]
    assert schema["properties"]["result"]["type"] == "array"
    assert listed.structured_content == {"result": listed.body}
    created = routes["create_item"].output_schema
    assert created is not None and created["type"] == "object" and "id" in created["properties"]
    assert routes["delete_item"].output_schema is None


async def test_input_schema_flattens_parameters_and_body() -> None:
    async with shop_client() as client:
        routes = await routes_of(client)
    rename = routes["rename_item"].input_schema
    assert set(rename["properties"]) == {"item_id", "name__query", "name", "price", "tags"}
    assert set(rename["required"]) == {"item_id", "name__query", "name", "price"}
    upload = routes["upload"].input_schema["properties"]["files"]
    assert upload["items"] == {"type": "string", "contentEncoding": "base64"}
    pay = routes["pay"].input_schema["properties"]["body"]
    assert {b["title"] for b in pay["anyOf"]} == {"Card", "Transfer"}


async def test_an_error_status_carries_the_apis_body() -> None:
    async with shop_client() as client:
        routes = await routes_of(client)
        with pytest.raises(OpenApiStatusError) as caught:
            await routes["get_item"].call({"item_id": 99})
        with pytest.raises(OpenApiStatusError) as invalid:
            await routes["create_item"].call({"name": "x", "price": -1})
    assert caught.value.status == 404
    assert caught.value.body == {"detail": "no item 99"}
    assert invalid.value.status == 422
    assert isinstance(invalid.value.body, dict) and "detail" in invalid.value.body
