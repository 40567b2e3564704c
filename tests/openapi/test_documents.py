"""Reading documents: 3.0 upgraded to JSON Schema 2020-12, `$ref`s inlined, recursion kept
under `$defs`, and what cannot be served refused with the place it is in."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs
import pytest
import yaml  # the openapi extra, in the dev extra
from _petstore import petstore

from mcpkit.openapi import OpenApiRoute, OpenApiSpecError, build_routes, load_spec, read_spec


def routes(document: dict[str, Any]) -> dict[str, OpenApiRoute]:
    client = httpx.AsyncClient()
    return {r.name: r for r in build_routes(read_spec(document), client=client)}


def test_nullable_and_exclusive_bounds_become_json_schema_2020_12() -> None:
    pet = routes(petstore())["getPet"].output_schema
    assert pet is not None
    props = pet["properties"]
    assert props["tag"] == {"type": ["string", "null"]}
    assert props["kind"] == {"type": ["string", "null"], "enum": ["cat", "dog", None]}
    owner = {"type": "object", "properties": {"name": {"type": "string"}}}
    assert props["owner"] == {"anyOf": [{"allOf": [owner]}, {"type": "null"}]}
    assert "discriminator" not in pet
    get_pet = routes(petstore())["getPet"].input_schema["properties"]["petId"]
    assert get_pet == {"type": "integer", "exclusiveMinimum": 0}
    limit = routes(petstore())["listPets"].input_schema["properties"]["limit"]
    assert limit == {
        "type": "integer",
        "maximum": 100,
        "examples": [20],
        "description": "How many at most.",
    }
    validator = jsonschema_rs.validator_for(pet)
    assert validator.is_valid({"id": 1, "name": "Rex", "tag": None, "kind": None, "owner": None})
    assert not validator.is_valid({"id": 1, "name": "Rex", "kind": "cow"})


def test_a_recursive_schema_is_kept_once_under_defs() -> None:
    tree = routes(petstore())["categoryTree"].output_schema
    assert tree is not None
    assert tree["type"] == "object"
    assert tree["properties"]["children"]["items"] == {"$ref": "#/$defs/Category"}
    assert tree["$defs"]["Category"]["properties"]["children"]["items"] == {
        "$ref": "#/$defs/Category"
    }
    validator = jsonschema_rs.validator_for(tree)
    assert validator.is_valid({"name": "a", "children": [{"name": "b", "children": []}]})
    assert not validator.is_valid({"name": "a", "children": [{"name": 5}]})


def test_mutual_recursion_in_a_body_keeps_both_definitions() -> None:
    document = petstore()
    schemas = document["components"]["schemas"]
    schemas["Person"] = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "pets": {"type": "array", "items": {"$ref": "#/components/schemas/Animal"}},
        },
    }
    schemas["Animal"] = {
        "type": "object",
        "properties": {"keeper": {"$ref": "#/components/schemas/Person"}},
    }
    document["paths"]["/people"] = {
        "post": {
            "operationId": "addPerson",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Person"}}
                },
            },
            "responses": {"204": {"description": "added"}},
        }
    }
    schema = routes(document)["addPerson"].input_schema
    assert set(schema["properties"]) == {"name", "pets"}
    assert schema["properties"]["pets"]["items"] == {
        "type": "object",
        "properties": {"keeper": {"$ref": "#/$defs/Person"}},
    }
    assert set(schema["$defs"]) == {"Person"}
    assert jsonschema_rs.validator_for(schema).is_valid(
        {"name": "a", "pets": [{"keeper": {"name": "b", "pets": []}}]}
    )


def test_read_only_properties_are_not_arguments() -> None:
    add = routes(petstore())["add_pet"].input_schema
    assert "id" not in add["properties"]
    assert add["required"] == ["name"]


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (lambda d: d.pop("openapi") and d.update(swagger="2.0"), "#/swagger"),
        (lambda d: d.update(openapi="2.5"), "#/openapi"),
        (lambda d: d.pop("paths"), "#/paths"),
        (
            lambda d: d["paths"]["/pets"]["get"]["parameters"].append(
                {"$ref": "common.yaml#/components/parameters/Page"}
            ),
            "#/paths/~1pets/get/parameters/2",
        ),
        (
            lambda d: d["components"]["schemas"]["Owner"]["properties"].update(
                home={"$ref": "https://example.test/home.json"}
            ),
            "#/components/schemas/Owner/properties/home",
        ),
        (
            lambda d: d["components"]["schemas"]["Owner"]["properties"].update(
                pet={"$ref": "#/components/schemas/Nothing"}
            ),
            "#/components/schemas/Owner/properties/pet",
        ),
    ],
)
def test_what_cannot_be_served_is_refused_naming_its_place(change: Any, where: str) -> None:
    document = petstore()
    change(document)
    with pytest.raises(OpenApiSpecError) as caught:
        routes(document)
    assert caught.value.where == where
    assert str(caught.value).startswith(where)


async def test_a_document_from_a_json_file_a_yaml_file_or_a_url(tmp_path: Path) -> None:
    document = petstore()
    as_json = tmp_path / "pets.json"
    as_json.write_text(json.dumps(document))
    as_yaml = tmp_path / "pets.yaml"
    as_yaml.write_text(yaml.safe_dump(document))
    assert await load_spec(as_json) == document
    assert await load_spec(str(as_yaml)) == document

    def serve(request: httpx.Request) -> httpx.Response:
        assert request.url == "http://docs.test/pets.json"
        return httpx.Response(200, json=document)

    async with httpx.AsyncClient(transport=httpx.MockTransport(serve)) as client:
        assert await load_spec("http://docs.test/pets.json", client=client) == document
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(OpenApiSpecError, match="not valid JSON"):
        await load_spec(broken)


async def test_yaml_without_pyyaml_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    as_yaml = tmp_path / "pets.yml"
    as_yaml.write_text(yaml.safe_dump(petstore()))
    monkeypatch.setitem(sys.modules, "yaml", None)  # what an install without the extra sees
    with pytest.raises(OpenApiSpecError, match=r"mcpkit\[openapi\]"):
        await load_spec(as_yaml)


async def test_a_one_of_body_is_one_argument_kept_as_json_schema() -> None:
    document = petstore()
    schemas = document["components"]["schemas"]
    schemas["Cat"] = {
        "type": "object",
        "required": ["kind", "indoor"],
        "properties": {"kind": {"enum": ["cat"]}, "indoor": {"type": "boolean"}},
    }
    schemas["Dog"] = {
        "type": "object",
        "required": ["kind"],
        "properties": {"kind": {"enum": ["dog"]}, "barks": {"type": "boolean", "nullable": True}},
    }
    document["paths"]["/adopt"] = {
        "post": {
            "operationId": "adopt",
            "parameters": [{"name": "id", "in": "query", "schema": {"type": "integer"}}],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "oneOf": [
                                {"$ref": "#/components/schemas/Cat"},
                                {"$ref": "#/components/schemas/Dog"},
                            ],
                            "discriminator": {"propertyName": "kind"},
                        }
                    }
                },
            },
            "responses": {"200": {"description": "ok"}},
        }
    }
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"adopted": True})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as client:
        (adopt,) = [
            r for r in build_routes(read_spec(document), client=client) if r.name == "adopt"
        ]
        schema = adopt.input_schema
        assert schema["required"] == ["body"]
        body = schema["properties"]["body"]
        assert body == {
            "oneOf": [
                schemas["Cat"],
                {
                    **schemas["Dog"],
                    "properties": {
                        "kind": {"enum": ["dog"]},
                        "barks": {"type": ["boolean", "null"]},
                    },
                },
            ]
        }
        validator = jsonschema_rs.validator_for(schema)
        assert validator.is_valid({"body": {"kind": "dog", "barks": None}})
        assert not validator.is_valid({"body": {"kind": "cat"}})
        result = await adopt.call({"id": 2, "body": {"kind": "cat", "indoor": True}})
    assert result.body == {"adopted": True}
    assert json.loads(sent[0].content) == {"kind": "cat", "indoor": True}
    assert sent[0].url.params["id"] == "2"


def test_siblings_of_a_ref_apply_in_3_1_and_are_ignored_in_3_0() -> None:
    document = petstore()
    owner = {"$ref": "#/components/schemas/Owner", "description": "who keeps it"}
    document["components"]["schemas"]["Pet"]["properties"]["owner"] = owner
    document["components"]["schemas"]["Pet"]["properties"]["keeper"] = {
        "$ref": "#/components/schemas/Owner",
        "properties": {"since": {"type": "integer"}},
    }
    plain = {"type": "object", "properties": {"name": {"type": "string"}}}
    as_30 = routes(document)["getPet"].output_schema
    assert as_30 is not None
    assert as_30["properties"]["owner"] == plain
    document["openapi"] = "3.1.0"
    as_31 = routes(document)["getPet"].output_schema
    assert as_31 is not None
    assert as_31["properties"]["owner"] == {**plain, "description": "who keeps it"}
    assert as_31["properties"]["keeper"] == {
        "allOf": [plain],
        "properties": {"since": {"type": "integer"}},
    }


def test_widely_shared_schemas_stop_being_inlined_past_the_budget() -> None:
    # each level refers to the next twice: inlining all of it would take 2**40 copies
    levels = 40
    schemas: dict[str, Any] = {
        f"L{i}": {
            "type": "object",
            "properties": {
                "left": {"$ref": f"#/components/schemas/L{i + 1}"},
                "right": {"$ref": f"#/components/schemas/L{i + 1}"},
            },
        }
        for i in range(levels)
    }
    schemas[f"L{levels}"] = {"type": "string"}
    document = petstore()
    document["components"]["schemas"].update(schemas)
    document["paths"]["/tree"] = {
        "get": {
            "operationId": "tree",
            "responses": {
                "200": {
                    "description": "ok",
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/L0"}}
                    },
                }
            },
        }
    }
    tree = routes(document)["tree"].output_schema
    assert tree is not None
    assert len(json.dumps(tree)) < 200_000
    assert tree["$defs"]  # the deep levels are kept once each
    validator = jsonschema_rs.validator_for(tree)
    assert validator.is_valid({"left": {"left": {}, "right": {}}, "right": {}})
    assert not validator.is_valid({"left": {"right": 5}})


def test_a_ref_into_a_path_item_is_read_with_its_escapes_and_percent_encoding() -> None:
    # `#/paths/~1pets~1%7BpetId%7D/...`: "/" escaped as ~1 (RFC 6901) and the braces
    # percent-encoded, as a URI fragment must spell them (RFC 3986).
    shared = {"name": "petId", "in": "path", "required": True, "schema": {"type": "string"}}
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "refs", "version": "1"},
        "paths": {
            "/pets/{petId}": {"get": {"operationId": "getPet", "parameters": [shared]}},
            "/pets/{petId}/toys": {
                "get": {
                    "operationId": "getToys",
                    "parameters": [{"$ref": "#/paths/~1pets~1%7BpetId%7D/get/parameters/0"}],
                }
            },
        },
    }
    toys = routes(document)["getToys"].input_schema
    assert toys["properties"]["petId"] == {"type": "string"}
    assert toys["required"] == ["petId"]
