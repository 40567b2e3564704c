"""The modern revision's request headers as plain functions: value encoding (the spec's
own examples), Mcp-Name, and which x-mcp-header declarations make a tool invalid."""

from __future__ import annotations

from typing import Any

import pytest

from mcpkit.client.http_headers import ToolHeaders, encode_value, header_params, standard_headers


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ("us-west1", "us-west1"),
        ("Hello, 世界", "=?base64?SGVsbG8sIOS4lueVjA==?="),
        (" padded ", "=?base64?IHBhZGRlZCA=?="),
        ("line1\nline2", "=?base64?bGluZTEKbGluZTI=?="),
        ("=?base64?literal?=", "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?="),
        ("us west 1", "us west 1"),
        ("\tindented", "=?base64?CWluZGVudGVk?="),
        ("", ""),
    ],
)
def test_values_are_encoded_as_the_spec_shows(value: str, encoded: str) -> None:
    assert encode_value(value) == encoded


def test_mcp_name_comes_from_name_or_uri() -> None:
    assert standard_headers("tools/call", {"name": "a-b"}) == {
        "mcp-method": "tools/call",
        "mcp-name": "a-b",
    }
    assert standard_headers("resources/read", {"uri": "file:///x y"})["mcp-name"] == "file:///x y"
    assert standard_headers("tools/list", {}) == {"mcp-method": "tools/list"}


def _prop(**schema: Any) -> dict[str, Any]:
    return {"type": "object", "properties": {"p": schema}}


@pytest.mark.parametrize(
    "schema",
    [
        _prop(type="string", **{"x-mcp-header": ""}),
        _prop(type="object", **{"x-mcp-header": "Data"}),
        _prop(type="array", items={"type": "string"}, **{"x-mcp-header": "Items"}),
        _prop(type="null", **{"x-mcp-header": "Nil"}),
        _prop(type="number", **{"x-mcp-header": "Score"}),
        _prop(type="string", **{"x-mcp-header": "My Region"}),
        _prop(type="string", **{"x-mcp-header": "Region:Primary"}),
        _prop(type="string", **{"x-mcp-header": "Région"}),
        _prop(type="string", **{"x-mcp-header": "Region\t1"}),
        {
            "type": "object",
            "properties": {
                "a": {"type": "string", "x-mcp-header": "MyField"},
                "b": {"type": "string", "x-mcp-header": "myfield"},
            },
        },
        {"type": "object", "items": {"type": "string", "x-mcp-header": "Deep"}},
        {
            "anyOf": [
                {"type": "object", "properties": {"p": {"type": "string", "x-mcp-header": "P"}}}
            ]
        },
    ],
)
def test_invalid_declarations_make_the_tool_invalid(schema: dict[str, Any]) -> None:
    assert isinstance(header_params(schema), str)
    assert ToolHeaders().take("t", schema) is not None


def test_nested_properties_are_reachable_and_absent_or_null_values_send_nothing() -> None:
    tools = ToolHeaders()
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "object", "properties": {"b": {"type": "integer", "x-mcp-header": "B"}}},
            "c": {"type": "boolean", "x-mcp-header": "C"},
        },
    }
    assert tools.take("t", schema) is None
    sent = tools.headers("tools/call", {"name": "t", "arguments": {"a": {"b": -7}, "c": None}})
    assert sent == {"mcp-method": "tools/call", "mcp-name": "t", "mcp-param-b": "-7"}
