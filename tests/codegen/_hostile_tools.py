"""A server's worst tool list: names and keys that are keywords, builtins, not identifiers or the
same after normalisation, descriptions and enum values that try to end their string literal or
comment and run code, recursive and deep schemas, huge enums."""

from __future__ import annotations

from typing import Any

# Each tries to end the literal, docstring or comment it is put in and run code at import.
ESCAPES = (
    '"""\nraise RuntimeError("injected 1")\n"""',
    "'''\nraise RuntimeError('injected 2')\n'''",
    '"); raise RuntimeError("injected 3"); ("',
    "\\",
    "x\r\nraise RuntimeError('injected 4')",
    "x\u2028raise RuntimeError('injected 5')",
    "\x00\x1b[31m",
    "\ud800",
    "%(prog)s %d %",
)
SERVER_NAME = ESCAPES[0] + "everything"


def _nested(depth: int) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(depth):
        schema = {"type": "object", "properties": {"x": schema}, "required": ["x"]}
    return schema


KEYS: dict[str, Any] = {
    "class": {"type": "integer", "description": ESCAPES[0]},
    "a-b": {"type": "string", "description": ESCAPES[4]},
    "a_b": {"type": "string", "description": ESCAPES[5]},
    "A B": {"type": "boolean", "description": ESCAPES[8]},
    "self": {"type": "number"},
    "arguments": {"type": "string"},
    "result": {"type": "string"},
    "_private": {"type": "null"},
    "__init__": {"type": "string"},
    "1st": {"type": "string"},
    "str": {"type": "string"},
    "int": {"type": "integer"},
    "ключ": {"type": "string"},
    "": {"type": "string"},
    ESCAPES[2]: {"type": "string", "enum": list(ESCAPES)},
    "None": {"type": ["string", "null"]},
}

TOOLS: list[dict[str, Any]] = [
    {
        "name": "class",
        "title": ESCAPES[1],
        "description": ESCAPES[0] + ESCAPES[3],
        "inputSchema": {"type": "object", "properties": KEYS, "required": ["class", "a-b", ""]},
    },
    {"name": "class!", "description": ESCAPES[2], "inputSchema": {"type": "object"}},
    {
        "name": "Class",
        "inputSchema": {
            "type": "object",
            "properties": {
                "tree": {"$ref": "#/$defs/Node"},
                "loop": {"$ref": "#/$defs/A"},
                "remote": {"$ref": "https://example.com/schema.json"},
                "gone": {"$ref": "#/$defs/Missing"},
            },
            "required": ["tree"],
            "$defs": {
                "Node": {
                    "type": "object",
                    "properties": {
                        "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
                        "value": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
                    },
                },
                "A": {"$ref": "#/$defs/B"},
                "B": {"$ref": "#/$defs/A"},
            },
        },
        "outputSchema": {
            "type": "object",
            "properties": {
                "deep": _nested(60),
                "huge": {"enum": [f"v{i}" for i in range(5000)]},
                "long": {"enum": [f"w{i}" for i in range(200)] + [None]},
                "floats": {"enum": [1.5, 2]},
                "either": {
                    "oneOf": [
                        {"type": "object", "properties": {"k": {"type": "string"}}},
                        {"type": "array", "items": {"type": ["string", "integer"]}},
                    ]
                },
                "anything": {},
                "negated": {"not": {"type": "string"}},
                "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
                "Any": {"type": "string"},
                "cast": {"const": ESCAPES[0]},
            },
            "required": ["huge"],
        },
    },
    {"name": "ToolResult", "inputSchema": {"type": "object", "properties": {"client": {}}}},
    {
        "name": "client",
        "inputSchema": {"type": "object", "properties": {}},
        "execution": {"taskSupport": "required"},
        "outputSchema": {
            "type": "object",
            "properties": {
                "NotRequired": {"type": "string"},
                **{k: {"type": "integer"} for k in ("keys", "get", "items", "type", "match")},
            },
        },
    },
    {"name": "__init__", "inputSchema": {"type": "object", "properties": {"x": {"type": "null"}}}},
    {"name": "class", "description": "a duplicate name", "inputSchema": {"type": "object"}},
    {
        "name": "odd shapes",
        "inputSchema": {
            "type": "object",
            "properties": {"t": {"type": [{"not": "a name"}]}, "r": {"type": "string"}},
            "required": [{"not": "a key"}, "r"],
        },
    },
    {
        "name": ESCAPES[2],
        "inputSchema": {"type": "object", "properties": {"q": {"type": "string"}}},
    },
]
