"""Definitions in tool schemas: written in place unless recursive, recursive ones defined
(not overwritten by a reference to themselves), enum values in declared order."""

from __future__ import annotations

import dataclasses
import enum
import json
from typing import Any, Literal, TypedDict

import jsonschema_rs
import msgspec
import pydantic
import pytest
from _schema_checks import schema_problems

from mcpkit.server.schemas._refs import inline_defs
from mcpkit.server.schemas.signature import build_signature, output_spec, schema_for_type


class Node(pydantic.BaseModel):
    name: str
    children: list[Node] = []


@dataclasses.dataclass
class DNode:
    value: int
    children: list[DNode] = dataclasses.field(default_factory=list)


class SNode(msgspec.Struct):
    value: int
    children: list[SNode] = []


class TNode(TypedDict):
    value: int
    children: list[TNode]


@dataclasses.dataclass
class Even:
    odd: Odd | None = None


@dataclasses.dataclass
class Odd:
    even: Even | None = None


class Level(enum.Enum):
    LOW = "low"
    HIGH = "high"
    MEDIUM = "medium"


class Rank(enum.IntEnum):
    THIRD = 3
    FIRST = 1


@dataclasses.dataclass
class Inner:
    level: Level
    mode: Literal["zeta", "alpha"] = "zeta"


@dataclasses.dataclass
class Outer:
    inner: Inner
    many: list[Inner]


def _sound(schema: dict[str, Any] | None) -> dict[str, Any]:
    assert schema is not None
    assert schema_problems(schema) == [], json.dumps(schema)
    return schema


def _text(schema: dict[str, Any]) -> str:
    return json.dumps(schema)


@pytest.mark.parametrize("tp", [Node, DNode, SNode, TNode])
def test_recursive_types_keep_a_real_definition(tp: Any) -> None:
    def tool(tree: tp, trees: list[tp] | None = None) -> tp: ...  # type: ignore[valid-type]

    signature = build_signature(tool)
    schema = _sound(signature.input_schema)
    name = tp.__name__
    assert schema["properties"]["tree"] == {"$ref": f"#/$defs/{name}"}
    assert set(schema["$defs"]) == {name}
    definition = schema["$defs"][name]
    assert definition["type"] == "object" and "children" in definition["properties"]
    validator = jsonschema_rs.validator_for(schema)
    nested = {"value": 1, "name": "a", "children": [{"value": 2, "name": "b", "children": []}]}
    assert validator.is_valid({"tree": nested})
    bad = {"value": 1, "name": "a", "children": [{"value": 2, "name": "b", "children": [5]}]}
    assert not validator.is_valid({"tree": bad})
    output = _sound(signature.output.output_schema)
    assert output["type"] == "object" and set(output["$defs"]) == {name}


def test_a_recursive_pydantic_model_validates_and_returns() -> None:
    def tool(tree: Node) -> Node:
        return tree

    signature = build_signature(tool)
    kwargs = signature.validate({"tree": {"name": "a", "children": [{"name": "b"}]}})
    assert kwargs["tree"] == Node(name="a", children=[Node(name="b")])
    assert signature.output.to_structured(kwargs["tree"]) == {
        "name": "a",
        "children": [{"name": "b", "children": []}],
    }


def test_mutually_recursive_types_keep_both_definitions() -> None:
    schema = _sound(schema_for_type(Even))
    assert set(schema["$defs"]) == {"Even", "Odd"}
    assert jsonschema_rs.validator_for(schema).is_valid({"odd": {"even": {"odd": None}}})


def test_types_that_do_not_recurse_are_written_in_place() -> None:
    def tool(outer: Outer, level: Level = Level.LOW) -> Outer: ...

    signature = build_signature(tool)
    for schema in (signature.input_schema, signature.output.output_schema):
        assert "$ref" not in _text(_sound(schema)) and "$defs" not in _text(_sound(schema))
    inner = signature.input_schema["properties"]["outer"]["properties"]["inner"]
    assert inner["properties"]["level"]["enum"] == ["low", "high", "medium"]


def test_a_pydantic_model_with_nested_models_is_written_in_place() -> None:
    class Street(pydantic.BaseModel):
        name: str
        kind: Level

    class Home(pydantic.BaseModel):
        street: Street
        previous: list[Street] = []

    schema = _sound(schema_for_type(Home))
    assert "$ref" not in _text(schema)
    assert schema["properties"]["street"]["properties"]["kind"]["enum"] == ["low", "high", "medium"]


@pytest.mark.parametrize(
    ("hint", "values"),
    [
        (Level, ["low", "high", "medium"]),
        (Rank, [3, 1]),
        (Literal["zeta", "alpha", "mu"], ["zeta", "alpha", "mu"]),
        (Literal[3, 1, 2], [3, 1, 2]),
        (Literal[True, False], [True, False]),
        (list[Literal["b", "a"]], ["b", "a"]),
        (Literal["b", "a"] | None, ["b", "a"]),
        (Level | None, ["low", "high", "medium"]),
    ],
)
def test_enum_values_keep_their_declared_order(hint: Any, values: list[Any]) -> None:
    text = _text(_sound(schema_for_type(hint)))
    assert json.dumps(values)[1:-1] in text


def test_enum_order_survives_prompts_and_errors() -> None:
    def tool(level: Level, mode: Literal["zeta", "alpha"] = "zeta") -> None: ...

    signature = build_signature(tool)
    assert signature.input_schema["properties"]["mode"]["enum"] == ["zeta", "alpha"]
    with pytest.raises(Exception, match='expected one of: "low", "high", "medium"'):
        signature.validate({"level": "none"})


def test_two_types_of_one_name_are_refused() -> None:
    @dataclasses.dataclass
    class Other:
        label: str

    Other.__name__ = "Node"  # the name of the pydantic model above, another type

    def tool(a: int, b: int) -> None: ...

    tool.__annotations__ = {"a": Other, "b": Node, "return": None}
    with pytest.raises(TypeError, match="two different types are named 'Node'"):
        build_signature(tool)


def test_constraints_beside_a_reference_are_kept() -> None:
    defs = {"Point": {"type": "object", "properties": {"x": {"type": "integer"}}}}
    beside = {"description": "where", "type": "object", "minProperties": 1}
    schema = {"$ref": "#/$defs/Point", **beside}
    assert inline_defs({"properties": {"p": schema}}, defs) == {
        "properties": {"p": {"allOf": [defs["Point"]], **beside}}
    }
    annotated = {"$ref": "#/$defs/Point", "description": "where"}
    assert inline_defs(annotated, defs) == {**defs["Point"], "description": "where"}


def test_the_wrapped_output_of_a_recursive_list_resolves() -> None:
    _sound(output_spec(list[Node]).output_schema)
    _sound(output_spec(DNode | None).output_schema)


def test_two_classes_of_one_qualified_name_are_described_apart() -> None:
    """Classes a factory makes share a module and a qualified name; each keeps its own
    definition (msgspec 0.23 names the second `types.Twin_2`; 0.22 raised KeyError, which
    mcpkit turned into a refusal, hence the floor of 0.23)."""

    def make(hint: Any) -> type:
        return dataclasses.make_dataclass("Twin", [("x", hint)])

    def tool(a: int, b: int) -> None: ...

    tool.__annotations__ = {"a": make(int), "b": make(str), "return": None}
    properties = build_signature(tool).input_schema["properties"]
    assert properties["a"]["properties"]["x"] == {"type": "integer"}
    assert properties["b"]["properties"]["x"] == {"type": "string"}
    pair = _sound(schema_for_type(tuple[make(int), make(str)]))
    assert [item["properties"]["x"]["type"] for item in pair["prefixItems"]] == [
        "integer",
        "string",
    ]
