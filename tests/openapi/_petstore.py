"""A petstore-style OpenAPI 3.0 document written for these tests: shared `$ref`d parts,
`nullable`, boolean `exclusiveMinimum`, a recursive schema, a server URL with a variable."""

from __future__ import annotations

from typing import Any

__all__ = ["petstore"]


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def petstore() -> dict[str, Any]:
    """A fresh copy of the document (tests may alter it)."""
    pet_id = {
        "name": "petId",
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 0, "exclusiveMinimum": True},
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "Pet Store", "version": "1.0"},
        "servers": [{"url": "http://pets.test/{v}", "variables": {"v": {"default": "v1"}}}],
        "paths": {
            "/pets": {
                "get": {
                    "operationId": "listPets",
                    "tags": ["pets"],
                    "summary": "List the pets",
                    "description": "Newest first.",
                    "parameters": [
                        {"$ref": "#/components/parameters/Limit"},
                        {
                            "name": "status",
                            "in": "query",
                            "explode": False,
                            "schema": {"type": "array", "items": {"type": "string"}},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "the pets",
                            "content": _json(
                                {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}}
                            ),
                        }
                    },
                },
                "post": {
                    "operationId": "add pet!",
                    "tags": ["pets"],
                    "requestBody": {"$ref": "#/components/requestBodies/NewPet"},
                    "responses": {"201": {"$ref": "#/components/responses/OnePet"}},
                },
            },
            "/pets/{petId}": {
                "parameters": [pet_id],
                "get": {
                    "operationId": "getPet",
                    "tags": ["pets"],
                    "responses": {
                        "200": {"$ref": "#/components/responses/OnePet"},
                        "404": {"description": "no such pet"},
                    },
                },
                "delete": {
                    "tags": ["admin"],
                    "parameters": [
                        {
                            "name": "X-Api-Key",
                            "in": "header",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {"204": {"description": "gone"}},
                },
            },
            "/categories/{id}/tree": {
                "get": {
                    "operationId": "categoryTree",
                    "parameters": [
                        {
                            "name": "id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "depth",
                            "in": "query",
                            "schema": {"type": "integer", "nullable": True},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "the tree",
                            "content": _json({"$ref": "#/components/schemas/Category"}),
                        }
                    },
                }
            },
        },
        "components": {
            "parameters": {
                "Limit": {
                    "name": "limit",
                    "in": "query",
                    "description": "How many at most.",
                    "schema": {
                        "type": "integer",
                        "maximum": 100,
                        "exclusiveMaximum": False,
                        "example": 20,
                    },
                }
            },
            "schemas": {
                "Pet": {
                    "type": "object",
                    "required": ["id", "name"],
                    "properties": {
                        "id": {"type": "integer", "readOnly": True},
                        "name": {"type": "string"},
                        "tag": {"type": "string", "nullable": True},
                        "kind": {"type": "string", "enum": ["cat", "dog"], "nullable": True},
                        "owner": {
                            "allOf": [{"$ref": "#/components/schemas/Owner"}],
                            "nullable": True,
                        },
                    },
                    "discriminator": {"propertyName": "kind"},
                },
                "Owner": {"type": "object", "properties": {"name": {"type": "string"}}},
                "Category": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "children": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Category"},
                        },
                    },
                },
            },
            "requestBodies": {
                "NewPet": {"required": True, "content": _json({"$ref": "#/components/schemas/Pet"})}
            },
            "responses": {
                "OnePet": {
                    "description": "a pet",
                    "content": _json({"$ref": "#/components/schemas/Pet"}),
                }
            },
        },
    }
