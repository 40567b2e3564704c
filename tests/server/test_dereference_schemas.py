"""DereferenceSchemas (mcpkit.server): tools/list shows schemas with their `$ref`s written
out, recursive types left as references, and a schema too large to expand left as it is,
in both eras."""

from __future__ import annotations

import logging
import pathlib
import re
from typing import Any

import pytest

from mcpkit import Client, Server
from mcpkit.server import DereferenceSchemas

ERAS = ["2025-11-25", "2026-07-28"]
DOC = pathlib.Path(__file__).parents[2] / "docs" / "server.md"

ADDRESS = {"type": "object", "properties": {"city": {"type": "string"}}}
ORDER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "ship_to": {"$ref": "#/$defs/Address", "description": "where it goes"},
        "bill_to": {"$ref": "#/$defs/Address"},
    },
    "$defs": {"Address": ADDRESS},
}
TREE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"root": {"$ref": "#/definitions/Node"}, "at": {"$ref": "#/definitions/Place"}},
    "definitions": {
        "Node": {
            "type": "object",
            "properties": {"children": {"type": "array", "items": {"$ref": "#/definitions/Node"}}},
        },
        "Place": {"type": "string"},
    },
}


def make_server(*middleware: DereferenceSchemas) -> Server:
    server = Server("refs", middleware=middleware)

    @server.tool(input_schema=ORDER_SCHEMA, output_schema=ORDER_SCHEMA)
    def order(**arguments: Any) -> dict[str, Any]:
        return arguments

    @server.tool(input_schema=TREE_SCHEMA)
    def tree(**arguments: Any) -> str:
        return "ok"

    @server.tool()
    def plain(a: int) -> int:
        return a

    return server


@pytest.mark.parametrize("era", ERAS)
async def test_references_are_written_out_in_tools_list(era: str) -> None:
    async with Client(make_server(DereferenceSchemas()), protocol=era) as client:
        tools = {tool.name: tool for tool in await client.list_tools()}
        result = await client.call_tool("order", {"ship_to": {"city": "Oslo"}})
    expected = {
        "type": "object",
        "properties": {
            "ship_to": {**ADDRESS, "description": "where it goes"},
            "bill_to": ADDRESS,
        },
    }
    assert tools["order"].input_schema == expected
    assert tools["order"].output_schema == expected
    assert tools["plain"].input_schema["properties"] == {"a": {"type": "integer"}}
    assert not result.is_error  # the tool itself still validates against its own schema


@pytest.mark.parametrize("era", ERAS)
async def test_a_recursive_type_stays_a_reference_and_is_logged(
    era: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, "mcpkit.server"):
        async with Client(make_server(DereferenceSchemas()), protocol=era) as client:
            tree = {t.name: t for t in await client.list_tools()}["tree"]
    schema = tree.input_schema
    assert schema["properties"]["at"] == {"type": "string"}  # draft-07 definitions too
    assert schema["properties"]["root"] == {"$ref": "#/$defs/Node"}
    assert schema["$defs"]["Node"]["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}
    assert "definitions" not in schema
    assert "recursive types Node stay references" in caplog.text


async def test_a_schema_past_the_bound_is_shown_as_it_is(caplog: pytest.LogCaptureFixture) -> None:
    # Each level uses the one below twice: written out, 2**20 leaves.
    defs: dict[str, Any] = {
        f"L{i}": {"anyOf": [{"$ref": f"#/$defs/L{i + 1}"}] * 2} for i in range(20)
    }
    defs["L20"] = {"type": "string"}
    wide: dict[str, Any] = {
        "type": "object",
        "properties": {"x": {"$ref": "#/$defs/L0"}},
        "$defs": defs,
    }
    server = Server("wide", middleware=[DereferenceSchemas(max_nodes=1000)])

    @server.tool(input_schema=wide)
    def deep(**arguments: Any) -> str:
        return "ok"

    with caplog.at_level(logging.WARNING, "mcpkit.server"):
        async with Client(server) as client:
            (tool,) = await client.list_tools()
    assert tool.input_schema == wide
    assert "max_nodes=1000" in caplog.text


def test_the_bound_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_nodes"):
        DereferenceSchemas(max_nodes=0)


async def test_the_docs_example_lists_its_schema_written_out() -> None:
    namespace: dict[str, Any] = {"__name__": "docs_server"}
    for block in re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL):
        exec(compile(block, str(DOC), "exec", dont_inherit=True), namespace)
    async with Client(namespace["plain"]) as client:
        (tool,) = await client.list_tools()
    city = {"type": "object", "properties": {"city": {"type": "string"}}}
    assert tool.input_schema == {"type": "object", "properties": {"ship_to": city}}
