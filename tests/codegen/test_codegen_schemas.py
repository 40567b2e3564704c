"""JSON Schemas to Python types, with plain calls: each construct its type, and what Python's
types cannot say a wider type, never a narrower one; names made valid and distinct."""

from __future__ import annotations

import ast
from typing import Any

from mcpkit.codegen._names import Scope, class_name, snake_name
from mcpkit.codegen._schema_types import MAX_ENUM, Types
from mcpkit.codegen._source import docstring


def typed(schema: Any) -> tuple[str, Types]:
    types = Types(Scope())
    return types.expression(schema, schema, "Thing"), types


def test_scalars_arrays_and_maps() -> None:
    assert typed({"type": "string"})[0] == "str"
    assert typed({"type": "integer"})[0] == "int"
    assert typed({"type": "number"})[0] == "float"
    assert typed({"type": ["boolean", "null"]})[0] == "bool | None"
    assert typed({"type": "string", "nullable": True})[0] == "str | None"
    assert typed({"type": "array", "items": {"type": "integer"}})[0] == "list[int]"
    assert typed({"type": "array"})[0] == "list[Any]"
    assert typed({"type": "object"})[0] == "dict[str, Any]"
    counts = {"type": "object", "additionalProperties": {"type": "integer"}}
    assert typed(counts)[0] == "dict[str, int]"


def test_objects_are_typed_dicts_with_their_required_keys() -> None:
    schema = {
        "type": "object",
        "description": "A point.",
        "properties": {"x": {"type": "number", "description": "across"}, "label": {}},
        "required": ["x"],
    }
    kind, types = typed(schema)
    assert kind == "Thing"
    [record] = types.records
    assert record.doc == "A point."
    assert [(f.key, f.type, f.required, f.doc) for f in record.fields] == [
        ("x", "float", True, "across"),
        ("label", "Any", False, ""),
    ]


def test_enums_and_consts_are_literal_aliases() -> None:
    kind, types = typed({"enum": ["a", "b", 3, True, None, "a"]})
    assert kind == "Thing | None"
    assert [(a.name, a.values) for a in types.aliases] == [("Thing", ['"a"', '"b"', "3", "True"])]
    kind, types = typed({"const": "x'\"\n"})
    assert types.aliases[0].values == ["'x\\'\"\\n'"]  # escaped: it cannot end early
    assert ast.literal_eval(types.aliases[0].values[0]) == "x'\"\n"


def test_enums_literal_cannot_hold_are_typed_by_their_values() -> None:
    assert typed({"enum": [1.5, 2]})[0] == "float | int"
    assert typed({"enum": [{"a": 1}, [1]]})[0] == "dict[str, Any] | list[Any]"
    kind, types = typed({"enum": [f"v{i}" for i in range(MAX_ENUM + 1)]})
    assert (kind, types.aliases) == ("str", [])


def test_unions_and_all_of() -> None:
    either = {"anyOf": [{"type": "integer"}, {"type": "string"}, {"type": "null"}]}
    assert typed(either)[0] == "int | str | None"
    assert typed({"oneOf": [{"type": "integer"}, {}]})[0] == "Any"  # one side allows anything
    assert typed({"allOf": [{"type": "string"}]})[0] == "str"
    assert typed({"allOf": [{"type": "string"}, {"minLength": 1}]})[0] == "Any"
    # a type beside anyOf: the alternatives only narrow it, so the type is kept
    assert typed({"type": "string", "anyOf": [{"minLength": 1}]})[0] == "str"


def test_references_recursive_dangling_remote_and_cyclic() -> None:
    schema = {
        "$ref": "#/$defs/Node",
        "$defs": {
            "Node": {
                "type": "object",
                "properties": {"next": {"$ref": "#/$defs/Node"}, "alias": {"$ref": "#/$defs/A"}},
            },
            "A": {"$ref": "#/$defs/B"},
            "B": {"$ref": "#/$defs/A"},
            "a/b": {"type": "integer"},
        },
    }
    kind, types = typed(schema)
    assert kind == "Node"
    assert [(f.key, f.type) for f in types.records[0].fields] == [
        ("next", "Node"),
        ("alias", "Any"),
    ]
    assert types.expression({"$ref": "#/$defs/a~1b"}, schema, "X") == "int"
    assert types.expression({"$ref": "#/$defs/Missing"}, schema, "X") == "Any"
    assert types.expression({"$ref": "https://example.com/s.json"}, schema, "X") == "Any"


def test_depth_is_bounded() -> None:
    schema: dict[str, Any] = {"type": "string"}
    for _ in range(100):
        schema = {"type": "array", "items": schema}
    assert typed(schema)[0].endswith("[Any]" + "]" * 24)


def test_names_are_valid_and_distinct() -> None:
    assert snake_name("maxResults", "arg") == "max_results"
    assert snake_name("a-b c", "arg") == "a_b_c"
    assert snake_name("1st", "arg") == "arg_1st"
    assert snake_name("ключ", "arg") == "arg"
    assert class_name("sign_up", "Tool") == "SignUp"
    scope = Scope()
    taken = [scope.take(n) for n in ("class", "class", "a", "a", "str", "self")]
    assert taken == ["class_", "class__2", "a", "a_2", "str_", "self_"]


def test_docstrings_cannot_be_closed_early() -> None:
    text = docstring('say """hi""" \\ then\n\tmore\u2028\x00', "    ")
    assert text == '    """say \\"\\"\\"hi\\"\\"\\" \\\\ then\n        more\n    \\x00\n    """'
    assert compile(f"def f():\n{text}\n", "<doc>", "exec")
