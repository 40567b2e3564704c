"""An OpenAPI document sizes the work of reading it, and inlining multiplies that work: YAML
aliases are refused, and the schemas of a whole document come to at most
`max_schema_nodes` nodes once inlined (each inlined copy counted again), checked while they
are converted, so that a few kilobytes cannot take the server's memory or its start-up
(issue 64: 1.3 KB of aliases, 558 KB of `$ref` fan-out and a shared 200,000-value enum
each took hundreds of MiB to GiBs and minutes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from mcpkit.openapi import OpenApiSpecError, build_routes, read_spec
from mcpkit.openapi.schemas import MAX_SCHEMA_NODES


def operations(count: int, schema: dict[str, Any]) -> dict[str, Any]:
    """`count` POST operations whose body is `schema`."""
    body = {"content": {"application/json": {"schema": schema}}}
    return {
        f"/op{i}": {"post": {"operationId": f"op{i}", "requestBody": body}} for i in range(count)
    }


def document(paths: dict[str, Any], schemas: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "hostile", "version": "1"},
        "paths": paths,
        "components": {"schemas": schemas or {}},
    }


def routes_of(spec: dict[str, Any], **options: Any) -> int:
    client = httpx.AsyncClient(base_url="http://api.test")  # (never sends: nothing is called)
    return len(build_routes(read_spec(spec), client=client, **options))


def refused(spec: dict[str, Any], **options: Any) -> str:
    with pytest.raises(OpenApiSpecError) as refusal:
        routes_of(spec, **options)
    return str(refusal.value)


def test_yaml_aliases_are_refused_before_they_expand(tmp_path: Path) -> None:
    # The billion laughs: nine levels of ten aliases each, 10**9 nodes from ~1 KB.
    lines = ["openapi: 3.1.0", "info: {title: laughs, version: '1'}", "x-a0: &a0 [lol]"]
    lines += [f"x-a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    lines += ["paths:", "  /p:", "    get:", "      parameters:"]
    lines += ["        - {name: q, in: query, schema: {type: string, default: *a9}}"]
    path = tmp_path / "laughs.yaml"
    path.write_text("\n".join(lines) + "\n")
    assert path.stat().st_size < 1500
    with pytest.raises(OpenApiSpecError, match=r"the YAML alias \*a0 on line 4 is refused"):
        read_spec(path)


def test_yaml_without_aliases_still_reads(tmp_path: Path) -> None:
    path = tmp_path / "plain.yaml"
    path.write_text("openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n")
    assert read_spec(path)["info"] == {"title": "t", "version": "1"}


def test_a_ref_fan_out_is_refused_at_the_node_budget() -> None:
    # Each level refers to the next from 40 properties: every operation inlines its
    # INLINE_BUDGET of 500 references, each of them wide: ~1,400 nodes an operation, and
    # 3,000 operations of it (on the code before the budget: minutes and GiBs). A budget
    # below the default keeps the test short; the default is the same count.
    schemas = {
        f"L{level}": {
            "type": "object",
            "properties": {
                f"p{i}": {"$ref": f"#/components/schemas/L{level + 1}"} for i in range(40)
            },
        }
        for level in range(6)
    }
    schemas["L6"] = {"type": "string"}
    spec = document(operations(3000, {"$ref": "#/components/schemas/L0"}), schemas)
    said = refused(spec, max_schema_nodes=100_000)
    assert "more than 100000 nodes once their $refs are inlined" in said
    assert f"(max_schema_nodes, default {MAX_SCHEMA_NODES})" in said


def test_a_large_enum_shared_by_many_operations_is_refused_at_the_node_budget() -> None:
    big = {"type": "string", "enum": [f"v{i}" for i in range(200_000)]}
    spec = document(operations(6, {"$ref": "#/components/schemas/Big"}), {"Big": big})
    assert f"more than {MAX_SCHEMA_NODES} nodes" in refused(spec)
    # Each copy is counted: the one operation that uses it is well within the budget.
    alone = document(operations(1, {"$ref": "#/components/schemas/Big"}), {"Big": big})
    assert routes_of(alone) == 1


def test_a_large_ordinary_document_passes_the_default_budget() -> None:
    item = {
        "type": "object",
        "properties": {f"f{i}": {"type": "string", "description": "a field"} for i in range(20)},
    }
    spec = document(operations(1000, {"$ref": "#/components/schemas/Item"}), {"Item": item})
    assert routes_of(spec) == 1000


def test_the_budget_must_be_a_positive_number() -> None:
    with pytest.raises(ValueError, match="max_schema_nodes must be >= 1"):
        routes_of(document({}), max_schema_nodes=0)
