"""Route maps, names, argument collisions, request building and header forwarding, checked on
the requests an `httpx.MockTransport` receives."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from _petstore import petstore

from mcpkit.openapi import (
    OpenApiArgumentError,
    OpenApiRoute,
    RouteMap,
    build_routes,
    read_spec,
)

Seen = list[httpx.Request]


def recording(seen: Seen, answer: Any = None) -> Callable[[httpx.Request], httpx.Response]:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=answer if answer is not None else {"ok": True})

    return handle


def by_name(
    document: dict[str, Any], client: httpx.AsyncClient, **options: Any
) -> dict[str, OpenApiRoute]:
    return {r.name: r for r in build_routes(read_spec(document), client=client, **options)}


def test_names_come_from_operation_ids_sanitised_or_method_and_path() -> None:
    names = set(by_name(petstore(), httpx.AsyncClient()))
    assert names == {"listPets", "add_pet", "getPet", "delete_pets_petId", "categoryTree"}


def test_the_override_table_renames_and_checks_its_keys_and_names() -> None:
    client = httpx.AsyncClient()
    renamed = by_name(petstore(), client, names={"getPet": "pets.fetch", "listPets": "getPet"})
    assert {"pets.fetch", "getPet", "add_pet"} <= set(renamed)
    assert renamed["getPet"].operation.operation_id == "listPets"
    with pytest.raises(ValueError, match="getPets"):
        by_name(petstore(), client, names={"getPets": "x"})
    with pytest.raises(ValueError, match="invalid tool name"):
        by_name(petstore(), client, names={"getPet": "fetch pet"})
    with pytest.raises(ValueError, match="same name"):
        by_name(petstore(), client, names={"getPet": "pet", "listPets": "pet"})


def test_names_taken_twice_are_numbered_and_long_ones_cut() -> None:
    document = petstore()
    document["paths"]["/pets"]["get"]["operationId"] = "getPet"
    document["paths"]["/categories/{id}/tree"]["get"]["operationId"] = "x" * 300
    names = list(by_name(document, httpx.AsyncClient()))
    assert names[:2] == ["getPet", "add_pet"] and "getPet_2" in names
    assert "x" * 128 in names


def test_route_maps_make_resources_templates_and_exclusions() -> None:
    maps = [
        RouteMap("exclude", tags=["admin"]),
        RouteMap("resource_template", pattern=r"^/pets/"),
        RouteMap("resource"),
    ]
    routes = by_name(petstore(), httpx.AsyncClient(), route_maps=maps)
    assert "delete_pets_petId" not in routes
    assert routes["getPet"].kind == "resource_template"
    assert routes["getPet"].uri == "openapi://pet-store/pets/{petId}"
    assert routes["listPets"].kind == "resource"
    assert routes["listPets"].uri == "openapi://pet-store/pets"
    assert routes["listPets"].mime_type == "application/json"
    # the resource map skips a GET with path parameters, the template map does not match it
    assert routes["categoryTree"].kind == "tool"
    assert routes["add_pet"].kind == "tool"
    custom = by_name(petstore(), httpx.AsyncClient(), route_maps=maps, uri_prefix="pets://")
    assert custom["getPet"].uri == "pets://pets/{petId}"


def test_resource_maps_take_only_get_and_skip_operations_needing_arguments() -> None:
    with pytest.raises(ValueError, match="GET only"):
        RouteMap("resource", methods=["POST"])
    document = petstore()
    document["components"]["parameters"]["Limit"]["required"] = True
    routes = by_name(document, httpx.AsyncClient(), route_maps=[RouteMap("resource")])
    assert routes["listPets"].kind == "tool"  # a resource read passes no `limit`


def test_template_variables_are_renamed_to_valid_names() -> None:
    document = petstore()
    document["paths"]["/pets/{pet-id}/photo"] = {
        "get": {
            "operationId": "photo",
            "parameters": [
                {"name": "pet-id", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "responses": {"200": {"description": "png"}},
        }
    }
    maps = [RouteMap("resource_template")]
    photo = by_name(document, httpx.AsyncClient(), route_maps=maps)["photo"]
    assert photo.uri == "openapi://pet-store/pets/{pet_id}/photo"
    assert photo.arguments_from_uri({"pet_id": "7"}) == {"pet-id": "7"}


def test_collisions_are_suffixed_with_their_location() -> None:
    document = petstore()
    document["paths"]["/things/{id}"] = {
        "post": {
            "operationId": "thing",
            "parameters": [
                {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
                {"name": "id", "in": "query", "schema": {"type": "string"}},
                {"name": "name", "in": "header", "schema": {"type": "string"}},
            ],
            "requestBody": {
                "content": {
                    "application/json": {
                        "schema": {"type": "object", "properties": {"name": {"type": "string"}}}
                    }
                }
            },
            "responses": {"204": {"description": "done"}},
        },
        "get": {
            "operationId": "plain",
            "parameters": [
                {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
            ],
            "responses": {"204": {"description": "done"}},
        },
    }
    routes = by_name(document, httpx.AsyncClient())
    thing = routes["thing"].input_schema
    assert list(thing["properties"]) == ["id__path", "id__query", "name__header", "name"]
    assert thing["required"] == ["id__path"]  # the body is optional, so are its properties
    assert list(routes["plain"].input_schema["properties"]) == ["id"]


async def test_each_argument_goes_back_where_it_came_from() -> None:
    document = petstore()
    document["paths"]["/things/{id}"] = {
        "post": {
            "operationId": "thing",
            "parameters": [
                {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
                {"name": "id", "in": "query", "schema": {"type": "string"}},
                {
                    "name": "tags",
                    "in": "query",
                    "style": "pipeDelimited",
                    "explode": False,
                    "schema": {"type": "array"},
                },
                {
                    "name": "filter",
                    "in": "query",
                    "style": "deepObject",
                    "explode": True,
                    "schema": {"type": "object"},
                },
                {"name": "X-Trace", "in": "header", "schema": {"type": "array"}},
                {"name": "session", "in": "cookie", "schema": {"type": "string"}},
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"type": "object", "properties": {"id": {"type": "integer"}}}
                    }
                },
            },
            "responses": {"200": {"description": "ok"}},
        }
    }
    seen: Seen = []
    async with httpx.AsyncClient(transport=httpx.MockTransport(recording(seen))) as client:
        thing = by_name(document, client)["thing"]
        await thing.call(
            {
                "id__path": "a/b c",
                "id__query": "q",
                "id": 3,
                "tags": ["x", "y"],
                "filter": {"color": "red", "size": 2},
                "X-Trace": ["t1", "t2"],
                "session": "s1",
            }
        )
    (request,) = seen
    # no base URL on the client: the document's first server, its variable at its default
    assert request.url.raw_path.decode() == (
        "/v1/things/a%2Fb%20c?id=q&tags=x%7Cy&filter%5Bcolor%5D=red&filter%5Bsize%5D=2"
    )
    assert request.url.host == "pets.test"
    assert request.headers["x-trace"] == "t1,t2"
    assert request.headers["cookie"] == "session=s1"
    assert json.loads(request.content) == {"id": 3}


async def test_query_arrays_follow_style_and_explode_and_nulls_are_left_out() -> None:
    seen: Seen = []
    transport = httpx.MockTransport(recording(seen, [{"id": 1, "name": "Rex"}]))
    async with httpx.AsyncClient(transport=transport, base_url="http://other.test/api") as client:
        routes = by_name(petstore(), client)
        listed = await routes["listPets"].call({"limit": 5, "status": ["sold", "new"]})
        await routes["categoryTree"].call({"id": "c1", "depth": None})
    assert str(seen[0].url) == "http://other.test/api/pets?limit=5&status=sold%2Cnew"
    assert str(seen[1].url) == "http://other.test/api/categories/c1/tree"
    assert listed.structured_content == {"result": [{"id": 1, "name": "Rex"}]}


async def test_unknown_or_missing_arguments_are_refused_before_sending() -> None:
    seen: Seen = []
    async with httpx.AsyncClient(transport=httpx.MockTransport(recording(seen))) as client:
        get_pet = by_name(petstore(), client)["getPet"]
        with pytest.raises(OpenApiArgumentError, match="petID"):
            await get_pet.call({"petId": 1, "petID": 2})
        with pytest.raises(OpenApiArgumentError, match="petId"):
            await get_pet.call({})
        with pytest.raises(OpenApiArgumentError, match="null"):
            await get_pet.call({"petId": None})
    assert seen == []


async def test_headers_are_forwarded_where_a_route_map_says() -> None:
    maps = [RouteMap("tool", tags=["admin"], forward_headers=["Authorization"])]
    incoming = {"Authorization": "Bearer t", "Cookie": "mcp=1", "X-Api-Key": "from-client"}
    seen: Seen = []
    async with httpx.AsyncClient(transport=httpx.MockTransport(recording(seen))) as client:
        routes = by_name(petstore(), client, route_maps=maps)
        delete = routes["delete_pets_petId"]
        forwarded = delete.headers_to_forward(incoming)
        assert forwarded == {"Authorization": "Bearer t"}
        assert routes["getPet"].headers_to_forward(incoming) == {}
        await delete.call({"petId": 4, "X-Api-Key": "k"}, forward_headers=forwarded)
        # a parameter wins over a forwarded header of the same name, whatever its case
        await delete.call({"petId": 4, "X-Api-Key": "k"}, forward_headers={"x-api-key": "f"})
    assert seen[0].headers["authorization"] == "Bearer t"
    assert seen[0].headers["x-api-key"] == "k"
    assert seen[1].headers.get_list("x-api-key") == ["k"]
    assert seen[0].method == "DELETE"


async def test_text_and_binary_bodies_are_sent_raw() -> None:
    document = petstore()
    document["paths"]["/notes"] = {
        "put": {
            "operationId": "note",
            "requestBody": {
                "required": True,
                "content": {"text/plain": {"schema": {"type": "string"}}},
            },
            "responses": {"200": {"description": "ok"}},
        },
        "post": {
            "operationId": "blob",
            "requestBody": {"content": {"application/octet-stream": {}}},
            "responses": {"200": {"description": "ok"}},
        },
    }
    seen: Seen = []
    async with httpx.AsyncClient(transport=httpx.MockTransport(recording(seen))) as client:
        routes = by_name(document, client)
        assert routes["blob"].input_schema["properties"]["body"]["contentEncoding"] == "base64"
        await routes["note"].call({"body": "hello"})
        await routes["blob"].call({"body": base64.b64encode(b"\x00\x01").decode()})
        with pytest.raises(OpenApiArgumentError, match="base64"):
            await routes["blob"].call({"body": "%%%"})
    assert (seen[0].content, seen[0].headers["content-type"]) == (b"hello", "text/plain")
    assert seen[1].content == b"\x00\x01"


async def test_multipart_files_are_parts_with_their_media_type() -> None:
    document = petstore()
    document["paths"]["/pets/{petId}/photos"] = {
        "post": {
            "operationId": "addPhotos",
            "parameters": [
                {"name": "petId", "in": "path", "required": True, "schema": {"type": "integer"}}
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "required": ["photo"],
                            "properties": {
                                "caption": {"type": "string"},
                                "photo": {"type": "string", "format": "binary"},
                                "thumbs": {
                                    "type": "array",
                                    "items": {"type": "string", "contentMediaType": "image/png"},
                                },
                            },
                        }
                    }
                },
            },
            "responses": {"200": {"description": "ok"}},
        }
    }
    seen: Seen = []
    async with httpx.AsyncClient(transport=httpx.MockTransport(recording(seen))) as client:
        photos = by_name(document, client)["addPhotos"]
        properties = photos.input_schema["properties"]
        assert properties["photo"] == {"type": "string", "contentEncoding": "base64"}
        assert properties["thumbs"]["items"] == {"type": "string", "contentEncoding": "base64"}
        png = base64.b64encode(b"\x89PNG").decode()
        await photos.call({"petId": 1, "caption": "Rex", "photo": png, "thumbs": [png, png]})
    (request,) = seen
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    body = request.content
    assert b'name="caption"\r\n\r\nRex' in body
    assert b'name="photo"; filename="photo"\r\nContent-Type: application/octet-stream' in body
    assert body.count(b'name="thumbs"; filename="thumbs"\r\nContent-Type: image/png') == 2
    assert body.count(b"\x89PNG") == 3


async def test_a_form_body_is_url_encoded() -> None:
    document = petstore()
    document["paths"]["/login"] = {
        "post": {
            "operationId": "login",
            "requestBody": {
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "user": {"type": "string"},
                                "scopes": {"type": "array", "items": {"type": "string"}},
                                "remember": {"type": "boolean"},
                            },
                        }
                    }
                }
            },
            "responses": {"200": {"description": "ok"}},
        }
    }
    seen: Seen = []
    async with httpx.AsyncClient(transport=httpx.MockTransport(recording(seen))) as client:
        login = by_name(document, client)["login"]
        await login.call({"user": "ada", "scopes": ["a", "b"], "remember": False})
    (request,) = seen
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.content == b"user=ada&scopes=a&scopes=b&remember=false"


def test_accept_content_type_and_authorization_parameters_are_ignored() -> None:
    document = petstore()
    document["paths"]["/pets"]["get"]["parameters"] += [
        {"name": name, "in": "header", "required": True, "schema": {"type": "string"}}
        for name in ("Accept", "content-type", "Authorization")
    ]
    routes = by_name(document, httpx.AsyncClient())
    assert list(routes["listPets"].input_schema["properties"]) == ["limit", "status"]


async def test_a_relative_server_url_is_relative_to_the_document() -> None:
    document = petstore()
    document["servers"] = [{"url": "/api/v3"}]
    seen: Seen = []
    async with httpx.AsyncClient(transport=httpx.MockTransport(recording(seen))) as client:
        spec = read_spec(document)
        (get_pet,) = [
            r
            for r in build_routes(
                spec, client=client, document_url="http://pets.test/docs/openapi.json"
            )
            if r.name == "getPet"
        ]
        await get_pet.call({"petId": 3})
        del document["servers"]  # no servers: the default server is "/"
        (bare,) = [
            r
            for r in build_routes(
                document, client=client, document_url="http://pets.test/docs/a.json"
            )
            if r.name == "getPet"
        ]
        await bare.call({"petId": 4})
    assert [str(r.url) for r in seen] == [
        "http://pets.test/api/v3/pets/3",
        "http://pets.test/pets/4",
    ]


def test_hints_follow_the_http_method() -> None:
    routes = by_name(petstore(), httpx.AsyncClient())
    assert routes["getPet"].hints == {
        "readOnlyHint": True,
        "destructiveHint": False,
        "idempotentHint": True,
    }
    assert routes["add_pet"].hints["idempotentHint"] is False
    assert routes["delete_pets_petId"].hints == {
        "readOnlyHint": False,
        "destructiveHint": True,
        "idempotentHint": True,
    }
