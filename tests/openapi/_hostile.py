"""Hostile OpenAPI documents, small on disk and huge once expanded: a YAML alias bomb, a
`$ref` fan-out, and a big enum shared by many operations."""

from __future__ import annotations

from typing import Any

__all__ = ["alias_bomb_yaml", "ref_fan_out", "shared_enum"]


def alias_bomb_yaml(levels: int = 9, width: int = 9) -> str:
    """A document whose one body schema is `width ** levels` properties deep in aliases
    (billion laughs), in about a kilobyte of YAML."""
    names = [f"p{i}" for i in range(width)]
    lines = ["openapi: 3.1.0", "info: {title: bomb, version: '1'}", "x-levels:"]
    lines.append("  l0: &l0 {type: string}")
    for level in range(1, levels + 1):
        members = ", ".join(f"{n}: *l{level - 1}" for n in names)
        lines.append(f"  l{level}: &l{level} {{type: object, properties: {{{members}}}}}")
    body = f"{{content: {{application/json: {{schema: *l{levels}}}}}}}"
    lines += [
        "paths:",
        "  /bomb:",
        "    post:",
        "      operationId: bomb",
        f"      requestBody: {body}",
        "      responses: {'204': {description: done}}",
    ]
    return "\n".join(lines) + "\n"


def _body(ref: str) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": {"$ref": ref}}}}


def _document(schemas: dict[str, Any], paths: dict[str, Any]) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "hostile", "version": "1"},
        "paths": paths,
        "components": {"schemas": schemas},
    }


def ref_fan_out(
    operations: int = 20, fan: int = 400, leaf_properties: int = 2000
) -> dict[str, Any]:
    """`operations` operations whose body has `fan` properties, each a `$ref` to one schema
    of `leaf_properties` properties: inlined, `operations * fan * leaf_properties` nodes."""
    leaf = {
        "type": "object",
        "properties": {f"f{i}": {"type": "string"} for i in range(leaf_properties)},
    }
    fan_schema = {
        "type": "object",
        "properties": {f"x{i}": {"$ref": "#/components/schemas/Leaf"} for i in range(fan)},
    }
    paths = {
        f"/op{n}": {
            "post": {
                "operationId": f"op{n}",
                "requestBody": _body("#/components/schemas/Fan"),
                "responses": {"200": {"description": "ok", **_body("#/components/schemas/Fan")}},
            }
        }
        for n in range(operations)
    }
    return _document({"Leaf": leaf, "Fan": fan_schema}, paths)


def shared_enum(operations: int, values: int = 200_000) -> dict[str, Any]:
    """`operations` operations each taking and answering one enum of `values` values (a
    3 MB document at the defaults), used three times by each."""
    code = {"type": "string", "enum": [f"c{i:07d}" for i in range(values)]}
    wrapper = {
        "type": "object",
        "properties": {
            "code": {"$ref": "#/components/schemas/Code"},
            "others": {"type": "array", "items": {"$ref": "#/components/schemas/Code"}},
        },
    }
    paths = {
        f"/op{n}": {
            "post": {
                "operationId": f"op{n}",
                "parameters": [
                    {"name": "q", "in": "query", "schema": {"$ref": "#/components/schemas/Code"}}
                ],
                "requestBody": _body("#/components/schemas/Wrapper"),
                "responses": {
                    "200": {"description": "ok", **_body("#/components/schemas/Wrapper")}
                },
            }
        }
        for n in range(operations)
    }
    return _document({"Code": code, "Wrapper": wrapper}, paths)
