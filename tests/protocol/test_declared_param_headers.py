"""The arguments a tool mirrors into `Mcp-Param-{Name}` headers (2026-07-28 `x-mcp-header`),
read from its input schema by the protocol layer, where the server's access checks and the
HTTP transport both may take it (DESIGN.md, "Layers")."""

from __future__ import annotations

from mcpkit.protocol.param_headers import declared_param_headers


def test_marked_properties_are_found_by_path() -> None:
    schema = {
        "type": "object",
        "properties": {
            "region": {"type": "string", "x-mcp-header": "Region"},
            "plain": {"type": "integer"},
            "where": {
                "type": "object",
                "properties": {"zone": {"type": "string", "x-mcp-header": "Zone"}},
            },
        },
    }
    assert declared_param_headers(schema) == {"Region": ("region",), "Zone": ("where", "zone")}


def test_only_properties_reached_through_properties_count() -> None:
    schema = {
        "x-mcp-header": "Root",
        "properties": {
            "items": {"type": "array", "items": {"x-mcp-header": "Item"}},
            "empty": {"type": "string", "x-mcp-header": ""},
            "odd": "not a schema",
        },
    }
    assert declared_param_headers(schema) == {}
    assert declared_param_headers({"properties": []}) == {}
