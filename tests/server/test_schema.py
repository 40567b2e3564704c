"""Function signatures to tool input/output schemas and validators (`mcpkit.server.schemas`)."""

from __future__ import annotations

import dataclasses
import datetime
import decimal
import enum
import functools
import uuid
from collections.abc import Mapping
from typing import Annotated, Any, Literal, NamedTuple, Optional, TypedDict

import jsonschema_rs
import msgspec
import pydantic
import pytest
from _schema_checks import run_in_a_fresh_interpreter
from hypothesis import given, settings
from hypothesis import strategies as st

from mcpkit.errors import UnsupportedAnnotation
from mcpkit.server.schemas.signature import (
    ArgumentError,
    OutputError,
    build_signature,
    output_spec,
    schema_for_type,
)
from mcpkit.types import CallToolResult, ImageContent, TextContent


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@dataclasses.dataclass
class Point:
    x: int
    y: int = 0


class Span(TypedDict):
    start: int
    end: int


class Pair(NamedTuple):
    left: int
    right: str


class Box(msgspec.Struct):
    width: float
    tags: list[str] = []


@dataclasses.dataclass
class Tree:
    value: int
    children: list[Tree] = dataclasses.field(default_factory=list)


class Ctx:
    """Stands in for the framework's Context: injected, never an argument."""


def is_ctx(annotation: object) -> bool:
    return annotation is Ctx


def schema_of(hint: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """The property schema of one parameter annotated `hint`, and the whole input schema."""

    def fn(value: int) -> None: ...

    fn.__annotations__ = {"value": hint, "return": None}
    schema = build_signature(fn).input_schema
    return schema["properties"]["value"], schema


def resolve(schema: dict[str, Any], prop: dict[str, Any]) -> dict[str, Any]:
    ref = prop.get("$ref")
    if ref is None:
        return prop
    assert ref.startswith("#/$defs/")
    found: dict[str, Any] = schema["$defs"][ref.removeprefix("#/$defs/")]
    return found


# ------------------------------------------------------------------ input schemas


@pytest.mark.parametrize(
    ("hint", "expected"),
    [
        (int, {"type": "integer"}),
        (float, {"type": "number"}),
        (str, {"type": "string"}),
        (bool, {"type": "boolean"}),
        (Optional[int], {"anyOf": [{"type": "integer"}, {"type": "null"}]}),  # noqa: UP045
        (int | None, {"anyOf": [{"type": "integer"}, {"type": "null"}]}),
        (list[int], {"type": "array", "items": {"type": "integer"}}),
        (dict[str, int], {"type": "object", "additionalProperties": {"type": "integer"}}),
        (set[str], {"type": "array", "items": {"type": "string"}, "uniqueItems": True}),
        (Literal["a", "b"], {"type": "string", "enum": ["a", "b"]}),
        (Literal[1, 2], {"type": "integer", "enum": [1, 2]}),
        (uuid.UUID, {"type": "string", "format": "uuid"}),
        # msgspec decodes a Decimal from a number as well, so the schema says so.
        (decimal.Decimal, {"anyOf": [{"type": "string", "format": "decimal"}, {"type": "number"}]}),
        (datetime.date, {"type": "string", "format": "date"}),
        (datetime.datetime, {"type": "string", "format": "date-time"}),
        (Any, {}),
        (
            Annotated[int, msgspec.Meta(ge=1, le=9, description="digit")],
            {"type": "integer", "minimum": 1, "maximum": 9, "description": "digit"},
        ),
        (
            tuple[int, str],
            {
                "type": "array",
                "prefixItems": [{"type": "integer"}, {"type": "string"}],
                "minItems": 2,
                "maxItems": 2,
                "items": False,
            },
        ),
    ],
)
def test_builtin_hints(hint: Any, expected: dict[str, Any]) -> None:
    prop, schema = schema_of(hint)
    assert prop == expected
    assert schema["required"] == ["value"]
    assert schema["type"] == "object" and schema["additionalProperties"] is False


@pytest.mark.parametrize(
    ("hint", "shape"),
    [
        (Color, {"type": "string", "enum": ["red", "blue"]}),  # as declared
        (Point, {"type": "object", "required": ["x"]}),
        (Span, {"type": "object", "required": ["end", "start"]}),  # msgspec sorts TypedDicts
        (Box, {"type": "object", "required": ["width"]}),
        (Pair, {"type": "array", "minItems": 2, "maxItems": 2}),
    ],
)
def test_named_types_are_written_in_place(hint: Any, shape: dict[str, Any]) -> None:
    prop, schema = schema_of(hint)
    assert "$defs" not in schema  # only recursive types keep a definition
    assert prop["title"] == hint.__name__
    assert {key: prop.get(key) for key in shape} == shape


def test_nested_refs_resolve_for_a_validator() -> None:
    def fn(tree: Tree, boxes: list[Box], color: Color = Color.RED) -> None: ...

    schema = build_signature(fn).input_schema
    assert set(schema["$defs"]) == {"Tree"}  # the recursive one
    assert schema["properties"]["tree"] == {"$ref": "#/$defs/Tree"}
    validator = jsonschema_rs.validator_for(schema)
    good = {"tree": {"value": 1, "children": [{"value": 2}]}, "boxes": [{"width": 1.5}]}
    assert validator.is_valid(good)
    assert not validator.is_valid({"tree": {"value": 1, "children": [{"value": "x"}]}, "boxes": []})
    assert not validator.is_valid({**good, "extra": 1})


def test_validate_builds_objects_for_each_hint_kind() -> None:
    def fn(
        point: Point,
        span: Span,
        pair: Pair,
        box: Box,
        color: Color,
        when: datetime.datetime,
        ident: uuid.UUID,
        amount: decimal.Decimal,
        coords: tuple[int, str],
        names: set[str],
    ) -> None: ...

    kwargs = build_signature(fn).validate(
        {
            "point": {"x": 1},
            "span": {"start": 1, "end": 2},
            "pair": [1, "b"],
            "box": {"width": 2},
            "color": "blue",
            "when": "2025-11-25T10:00:00Z",
            "ident": "12345678-1234-5678-1234-567812345678",
            "amount": "1.50",
            "coords": [3, "c"],
            "names": ["a", "a", "b"],
        }
    )
    assert kwargs["point"] == Point(1, 0)
    assert kwargs["span"] == {"start": 1, "end": 2}
    assert kwargs["pair"] == Pair(1, "b")
    assert kwargs["box"] == Box(width=2.0)
    assert kwargs["color"] is Color.BLUE
    assert kwargs["when"] == datetime.datetime(2025, 11, 25, 10, tzinfo=datetime.UTC)
    assert kwargs["ident"] == uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert kwargs["amount"] == decimal.Decimal("1.50")
    assert kwargs["coords"] == (3, "c")
    assert kwargs["names"] == {"a", "b"}


def test_strings_are_coerced_where_json_would_be_a_number_or_boolean_only_if_asked() -> None:
    def fn(count: int, ratio: float, flag: bool) -> None: ...

    given = {"count": "3", "ratio": "0.5", "flag": "true"}
    assert build_signature(fn, coerce=True).validate(given) == {
        "count": 3,
        "ratio": 0.5,
        "flag": True,
    }
    with pytest.raises(ArgumentError, match="argument `count` is invalid"):
        build_signature(fn).validate(given)


@pytest.mark.parametrize("value", [3.0, 1e3, -0.0])
def test_a_whole_float_is_an_integer_as_json_schema_says(value: float) -> None:
    def fn(count: int, nested: list[int], ratio: float) -> None: ...

    sig = build_signature(fn)
    got = sig.validate({"count": value, "nested": [value], "ratio": 2.5})
    assert got == {"count": int(value), "nested": [int(value)], "ratio": 2.5}
    assert type(got["count"]) is int
    raw = msgspec.json.encode({"count": value, "nested": [value], "ratio": 2.5})
    assert sig.validate_json(raw) == got


@pytest.mark.parametrize("bad", ["36", "1e3", 3.5, True, None])
def test_strict_integers_refuse_what_the_schema_refuses(bad: object) -> None:
    def fn(count: int) -> None: ...

    sig = build_signature(fn)
    assert sig.input_schema["properties"]["count"] == {"type": "integer"}
    with pytest.raises(ArgumentError, match="argument `count` is invalid"):
        sig.validate({"count": bad})
    with pytest.raises(ArgumentError, match="argument `count` is invalid"):
        sig.validate_json(msgspec.json.encode({"count": bad}))


def test_defaults_are_in_the_schema_and_left_to_the_function() -> None:
    sentinel = object()

    def fn(
        a: int, b: str = "x", c: list[int] | None = None, d: Color = Color.RED, e: Any = sentinel
    ) -> None: ...

    sig = build_signature(fn)
    props = sig.input_schema["properties"]
    assert list(props) == ["a", "b", "c", "d", "e"]  # declaration order, not sorted
    assert props["b"]["default"] == "x"
    assert props["c"]["default"] is None
    assert props["d"]["default"] == "red"
    assert "default" not in props["e"]  # not JSON-encodable: left out
    assert sig.input_schema["required"] == ["a"]
    assert sig.validate({"a": 1}) == {"a": 1}


def test_required_follows_declaration_order() -> None:
    def fn(zeta: int, alpha: int, *, mid: str, opt: int = 0) -> None: ...

    assert build_signature(fn).input_schema["required"] == ["zeta", "alpha", "mid"]


def test_no_parameters_gives_the_recommended_empty_schema() -> None:
    def fn() -> None: ...

    sig = build_signature(fn)
    assert sig.input_schema == {"type": "object", "properties": {}, "additionalProperties": False}
    assert sig.validate(None) == {} and sig.validate({}) == {}


# ------------------------------------------------------------------ descriptions


def test_google_docstring_descriptions() -> None:
    def fn(a: int, b: str, c: bool = False) -> None:
        """Do a thing.

        Args:
            a: the first
                number, continued
            b (str): the second
            c: a flag

        Returns:
            nothing
        """

    props = build_signature(fn).input_schema["properties"]
    assert props["a"]["description"] == "the first number, continued"
    assert props["b"]["description"] == "the second"
    assert props["c"]["description"] == "a flag"


def test_numpy_docstring_descriptions() -> None:
    def fn(a: int, b: str, c: float) -> None:
        """Do a thing.

        Parameters
        ----------
        a : int
            the first
            of two lines
        b, c
            shared text

        Returns
        -------
        None
        """

    props = build_signature(fn).input_schema["properties"]
    assert props["a"]["description"] == "the first of two lines"
    assert props["b"]["description"] == props["c"]["description"] == "shared text"


def test_sphinx_docstring_descriptions() -> None:
    def fn(a: int, b: int) -> None:
        """Do a thing.

        :param a: the first
        :param int b: the second
        """

    props = build_signature(fn).input_schema["properties"]
    assert props["a"]["description"] == "the first"
    assert props["b"]["description"] == "the second"


def test_annotated_description_wins_over_the_docstring() -> None:
    def fn(a: Annotated[int, msgspec.Meta(description="from the hint", ge=0)]) -> None:
        """Do a thing.

        Args:
            a: from the docstring
        """

    prop = build_signature(fn).input_schema["properties"]["a"]
    assert prop == {"type": "integer", "minimum": 0, "description": "from the hint"}


def test_docstring_description_on_an_inlined_type() -> None:
    def fn(p: Point) -> None:
        """Do a thing.

        Args:
            p: where
        """

    prop = build_signature(fn).input_schema["properties"]["p"]
    assert prop == {**schema_for_type(Point), "description": "where"}


# ------------------------------------------------------------------ injected parameters


def test_injected_parameters_are_skipped_also_inside_optional_and_annotated() -> None:
    def fn(a: int, ctx: Ctx, maybe: Ctx | None = None, tagged: Annotated[Ctx, "x"] = None) -> None:  # type: ignore[assignment]
        ...

    sig = build_signature(fn, skip=is_ctx)
    assert sig.parameters == ("a",)
    assert sig.injected == ("ctx", "maybe", "tagged")
    assert list(sig.input_schema["properties"]) == ["a"]
    with pytest.raises(ArgumentError, match="unknown argument `ctx`"):
        sig.validate({"a": 1, "ctx": {}})


# ------------------------------------------------------------------ validation errors


def weather(
    city: str, days: int = 1, unit: Literal["c", "f"] = "c", at: Point | None = None
) -> None:
    """A tool with a few kinds of parameter."""


def test_missing_required_argument_is_named() -> None:
    with pytest.raises(ArgumentError) as info:
        build_signature(weather).validate({"days": 2})
    assert str(info.value) == "missing required argument `city`"
    assert info.value.argument == "city" and info.value.path == "$.city"


def test_wrong_type_names_argument_and_path() -> None:
    with pytest.raises(ArgumentError) as info:
        build_signature(weather).validate({"city": "Oslo", "days": "many"})
    assert str(info.value) == "argument `days` is invalid: expected `int`, got `str` (at `$.days`)"
    assert info.value.argument == "days"


def test_nested_errors_give_the_json_path() -> None:
    with pytest.raises(ArgumentError) as info:
        build_signature(weather).validate({"city": "Oslo", "at": {"x": "left"}})
    assert info.value.path == "$.at.x"
    assert "argument `at`" in str(info.value) and "`$.at.x`" in str(info.value)
    with pytest.raises(ArgumentError) as missing:
        build_signature(weather).validate({"city": "Oslo", "at": {"y": 1}})
    assert "missing required field `x`" in str(missing.value)
    assert missing.value.path == "$.at"


def test_list_item_errors_give_the_index() -> None:
    def fn(values: list[int]) -> None: ...

    with pytest.raises(ArgumentError) as info:
        build_signature(fn).validate({"values": [1, 2, "three"]})
    assert info.value.path == "$.values[2]"
    assert "argument `values`" in str(info.value)


def test_enum_errors_list_the_allowed_values() -> None:
    with pytest.raises(ArgumentError) as info:
        build_signature(weather).validate({"city": "Oslo", "unit": "k"})
    assert 'expected one of: "c", "f"' in str(info.value)

    def paint(color: Color | None = None) -> None: ...

    with pytest.raises(ArgumentError) as enum_info:
        build_signature(paint).validate({"color": "green"})
    assert 'expected one of: "red", "blue"' in str(enum_info.value)  # declared order


def test_constraint_errors_name_the_argument() -> None:
    def fn(value: Annotated[float, msgspec.Meta(ge=0)]) -> None: ...

    with pytest.raises(ArgumentError, match=r"argument `value` is invalid: expected `float` >= 0"):
        build_signature(fn).validate({"value": -1})


def test_unknown_arguments_are_refused_with_a_suggestion() -> None:
    with pytest.raises(ArgumentError) as info:
        build_signature(weather).validate({"city": "Oslo", "dayz": 3})
    message = str(info.value)
    assert message.startswith("unknown argument `dayz`; did you mean `days`?")
    assert "`city`, `days`, `unit`, `at`" in message
    with pytest.raises(ArgumentError, match="unknown arguments `p`, `q`"):
        build_signature(weather).validate({"city": "Oslo", "q": 1, "p": 2})


def test_arguments_must_be_an_object() -> None:
    with pytest.raises(ArgumentError, match="arguments must be a JSON object, got an array"):
        build_signature(weather).validate([1, 2])  # type: ignore[arg-type]


def test_null_for_a_non_optional_argument_is_an_error() -> None:
    with pytest.raises(ArgumentError, match=r"argument `days`.*got `null`"):
        build_signature(weather).validate({"city": "Oslo", "days": None})


def test_var_keyword_takes_unknown_arguments() -> None:
    def fn(a: int, **extra: Any) -> None: ...

    sig = build_signature(fn)
    assert "additionalProperties" not in sig.input_schema
    assert sig.validate({"a": 1, "b": [2]}) == {"a": 1, "b": [2]}


# ------------------------------------------------------------------ callables and hints


def test_positional_only_parameters_are_refused() -> None:
    def fn(a: int, /) -> None: ...

    with pytest.raises(TypeError, match="positional-only parameter 'a'"):
        build_signature(fn)


def test_var_positional_is_ignored() -> None:
    def fn(a: int, *rest: int) -> None: ...

    assert build_signature(fn).parameters == ("a",)


def test_unsupported_hint_names_the_function() -> None:
    class Opaque:
        pass

    def fn(thing: Opaque) -> None: ...

    with pytest.raises(TypeError, match=r"fn.*no JSON Schema"):
        build_signature(fn)


def test_unsupported_hint_is_one_error_naming_parameter_annotation_and_what_works() -> None:
    class Opaque:
        pass

    def fn(ok: int, thing: dict[str, list[Opaque]] | None = None) -> None: ...

    with pytest.raises(UnsupportedAnnotation) as caught:
        build_signature(fn)
    error = caught.value
    assert (error.function, error.parameter) == ("fn", "thing")
    assert error.annotation == dict[str, list[Opaque]] | None
    assert str(error).startswith(
        "fn(thing: dict[str, list[Opaque]] | None): the annotation of parameter 'thing' has "
        "no JSON Schema (Opaque is a plain class: make it a dataclass, a TypedDict or a "
        "msgspec.Struct); annotate it with a type that has one: "
    )
    assert "a pydantic model" in str(error) and "Literal[...]" in str(error)
    assert error.__cause__ is None and error.__suppress_context__  # no chain to read past


@pytest.mark.parametrize(
    ("annotation", "said"),
    [
        ("list[int, str]", "list takes one type: list[int], or list[int | str]"),
        ("dict[str, list[int, str]] | None", "list takes one type"),
        ("set[int, int]", "set takes one type: set[int]"),
    ],
)
def test_a_generic_given_the_wrong_number_of_types_says_how_many(
    annotation: str, said: str
) -> None:
    namespace: dict[str, Any] = {}
    exec(f"def fn(p: {annotation}) -> str: ...", namespace)
    with pytest.raises(UnsupportedAnnotation) as caught:
        build_signature(namespace["fn"])
    assert str(caught.value).startswith(f"fn(p: {annotation}): the annotation of parameter 'p'")
    assert f"no JSON Schema ({said}" in str(caught.value)


def test_an_unsupported_return_annotation_is_named_as_the_return() -> None:
    class Opaque:
        pass

    def fn() -> Opaque: ...

    with pytest.raises(UnsupportedAnnotation) as caught:
        build_signature(fn, force_output=True)
    assert caught.value.parameter is None
    assert str(caught.value).startswith("fn() -> Opaque: the return annotation has no JSON")


def test_unannotated_parameters_take_any_json() -> None:
    def fn(a, b=2):  # type: ignore[no-untyped-def]
        return a

    sig = build_signature(fn)
    assert sig.input_schema["properties"] == {"a": {}, "b": {"default": 2}}
    assert sig.validate({"a": [1, {"x": None}]}) == {"a": [1, {"x": None}]}


def test_object_parameters_take_any_json_as_any_does() -> None:
    def fn(a: object, b: dict[str, object], c: list[object]) -> None: ...

    sig = build_signature(fn)
    props = sig.input_schema["properties"]
    assert props["a"] == {} and props["b"] == {"type": "object", "additionalProperties": {}}
    assert "x-mcpkit-any" not in str(sig.input_schema)
    args = {"a": [1], "b": {"k": {"n": None}}, "c": [1, "x"]}
    assert sig.validate(args) == args


def test_methods_partials_and_callable_objects() -> None:
    class Service:
        def method(self, a: int) -> int:
            """Do a thing.

            Args:
                a: the value
            """
            return a

        def __call__(self, b: str) -> str:
            return b

    def fn(a: int, b: str) -> None: ...

    method = build_signature(Service().method)
    assert method.parameters == ("a",)
    assert method.input_schema["properties"]["a"]["description"] == "the value"
    assert build_signature(Service()).parameters == ("b",)
    partial = build_signature(functools.partial(fn, b="x"))
    assert partial.parameters == ("a", "b")
    assert partial.input_schema["required"] == ["a"]


def make_local_tool() -> Any:
    @dataclasses.dataclass
    class Local:
        name: str

    class Unused(TypedDict):
        n: int

    def tool(item: Local, other: Unused) -> Local:
        return item

    # Built here, where `Unused` is a local of the caller's frame but not in the closure.
    return build_signature(tool)


def test_string_annotations_of_local_classes_resolve() -> None:
    sig = make_local_tool()
    properties = sig.input_schema["properties"]
    assert properties["item"]["title"] == "Local" and properties["other"]["title"] == "Unused"
    assert sig.output.output_schema is not None
    assert sig.output.output_schema["properties"] == {"name": {"type": "string"}}


def test_unresolvable_annotations_raise_type_error() -> None:
    def fn(a: int, b: NoSuchType) -> None: ...  # type: ignore[name-defined]  # noqa: F821

    with pytest.raises(TypeError, match="cannot resolve the annotation 'NoSuchType' of parameter"):
        build_signature(fn)


def test_unresolvable_injected_or_return_annotations_are_tolerated() -> None:
    # As with `if TYPE_CHECKING: from mcpkit import Context`: the predicate sees the string.
    def fn(a: int, ctx: Context) -> Result:  # type: ignore[name-defined]  # noqa: F821
        return None

    def skip(annotation: object) -> bool:
        return annotation == "Context"

    sig = build_signature(fn, skip=skip)
    assert sig.parameters == ("a",) and sig.injected == ("ctx",)
    assert sig.output.output_schema is None
    with pytest.raises(TypeError, match="cannot resolve the return annotation 'Result'"):
        build_signature(fn, skip=skip, force_output=True)


# ------------------------------------------------------------------ output


@pytest.mark.parametrize(
    "annotation",
    [None, type(None), Any, object, str, TextContent, list[ImageContent], CallToolResult],
)
def test_returns_without_an_output_schema(annotation: Any) -> None:
    spec = output_spec(annotation)
    assert spec.output_schema is None
    assert spec.to_structured("anything") is None


def test_no_return_annotation_gives_no_output_schema() -> None:
    def fn(a: int):  # type: ignore[no-untyped-def]
        return a

    assert build_signature(fn).output.output_schema is None


@pytest.mark.parametrize(
    ("annotation", "value", "structured"),
    [
        (Point, Point(1, 2), {"x": 1, "y": 2}),
        (Span, {"start": 1, "end": 2}, {"start": 1, "end": 2}),
        (Box, Box(1.0, ["a"]), {"width": 1.0, "tags": ["a"]}),
        (dict[str, int], {"a": 1}, {"a": 1}),
        # `object` is any JSON value, as `Any` is (examples/protected.py's whoami)
        (dict[str, object], {"a": [1, {"b": None}]}, {"a": [1, {"b": None}]}),
        (Mapping[str, object], {"a": "x"}, {"a": "x"}),
        (dict[str, list[object]], {"a": [1, "x"]}, {"a": [1, "x"]}),
    ],
)
def test_object_returns_are_used_as_they_are(
    annotation: Any, value: Any, structured: dict[str, Any]
) -> None:
    spec = output_spec(annotation)
    assert spec.wrapped is False
    assert spec.output_schema is not None and spec.output_schema["type"] == "object"
    assert "$ref" not in spec.output_schema and "x-fastmcp-wrap-result" not in spec.output_schema
    assert spec.to_structured(value) == structured
    assert jsonschema_rs.validator_for(spec.output_schema).is_valid(structured)


@pytest.mark.parametrize(
    ("annotation", "value", "result"),
    [
        (int, 5, 5),
        (float, 1.5, 1.5),
        (bool, True, True),
        (list[int], [1, 2], [1, 2]),
        (Point | None, None, None),
        (Point | None, Point(1), {"x": 1, "y": 0}),
        (tuple[int, str], (1, "a"), (1, "a")),  # encoded as a JSON array
        (Color, Color.RED, "red"),
        (datetime.date, datetime.date(2025, 11, 25), "2025-11-25"),
        (Pair, Pair(1, "b"), (1, "b")),
        (list[dict[str, object]], [{"a": None}], [{"a": None}]),  # list[object]: no schema
    ],
)
def test_other_returns_are_wrapped_in_result(annotation: Any, value: Any, result: Any) -> None:
    spec = output_spec(annotation)
    assert spec.wrapped is True
    schema = spec.output_schema
    assert schema is not None and schema["type"] == "object" and schema["required"] == ["result"]
    assert schema["x-fastmcp-wrap-result"] is True  # FastMCP's client unwraps the value
    structured = spec.to_structured(value)
    assert structured == {"result": result}
    assert jsonschema_rs.validator_for(schema).is_valid(structured)


def test_wrapped_recursive_refs_keep_defs_at_the_top() -> None:
    schema = output_spec(list[Tree]).output_schema
    assert schema is not None
    assert schema["properties"]["result"] == {"type": "array", "items": {"$ref": "#/$defs/Tree"}}
    assert set(schema["$defs"]) == {"Tree"}
    valid = {"result": [{"value": 1, "children": [{"value": 2}]}]}
    assert jsonschema_rs.validator_for(schema).is_valid(valid)


def test_recursive_return_keeps_its_definition() -> None:
    spec = output_spec(Tree)
    schema = spec.output_schema
    assert schema is not None and schema["type"] == "object"
    assert schema["properties"]["children"]["items"] == {"$ref": "#/$defs/Tree"}
    assert "Tree" in schema["$defs"]
    tree = Tree(1, [Tree(2)])
    assert spec.to_structured(tree) == {
        "value": 1,
        "children": [{"value": 2, "children": []}],
    }


def test_force_wraps_str_and_refuses_no_schema() -> None:
    spec = output_spec(str, force=True)
    assert spec.wrapped and spec.to_structured("hi") == {"result": "hi"}
    with pytest.raises(TypeError, match="gives no output schema"):
        output_spec(None, force=True)
    with pytest.raises(TypeError):
        output_spec(complex, force=True)
    assert output_spec(complex).output_schema is None  # quietly none without force


def test_structured_output_is_checked_against_the_annotation() -> None:
    with pytest.raises(OutputError, match=r"return annotation int.*got `null`"):
        output_spec(int).to_structured(None)
    with pytest.raises(OutputError, match=r"missing required field `end`"):
        output_spec(Span).to_structured({"start": 1})
    with pytest.raises(OutputError, match="Point"):
        output_spec(Point).to_structured(object())
    assert output_spec(Span).to_structured({"start": 1}, check=False) == {"start": 1}


def test_build_signature_exposes_the_output_spec() -> None:
    def fn() -> list[str]:
        return []

    sig = build_signature(fn)
    assert sig.output.wrapped and sig.output.to_structured(["a"]) == {"result": ["a"]}
    assert build_signature(fn, force_output=True).output.wrapped


def test_schema_for_type_inlines_the_root() -> None:
    assert schema_for_type(Point) == {
        "title": "Point",
        "type": "object",
        "properties": {"x": {"type": "integer"}, "y": {"type": "integer", "default": 0}},
        "required": ["x"],
    }
    assert schema_for_type(list[Color]) == {
        "type": "array",
        "items": {"title": "Color", "type": "string", "enum": ["red", "blue"]},
    }


# ------------------------------------------------------------------ pydantic


class Address(pydantic.BaseModel):
    street: str
    number: int


class Person(pydantic.BaseModel):
    name: str
    address: Address


def test_pydantic_models_as_parameters() -> None:
    def fn(person: Person, people: list[Person] | None = None) -> None: ...

    sig = build_signature(fn)
    schema = sig.input_schema
    assert "$defs" not in schema
    assert schema["properties"]["person"]["title"] == "Person"
    assert schema["properties"]["person"]["properties"]["address"]["title"] == "Address"
    validator = jsonschema_rs.validator_for(schema)
    good = {"person": {"name": "Ada", "address": {"street": "Main", "number": "1"}}}
    assert validator.is_valid({"person": {"name": "Ada", "address": {"street": "M", "number": 1}}})
    kwargs = sig.validate(good)
    assert kwargs["person"] == Person(name="Ada", address=Address(street="Main", number=1))
    with pytest.raises(ArgumentError) as info:
        sig.validate({"person": {"name": "Ada", "address": {"street": "Main"}}})
    assert "argument `person`" in str(info.value)
    assert "address.number: Field required" in str(info.value)
    assert "https://" not in str(info.value)


def test_pydantic_model_as_output() -> None:
    spec = output_spec(Person)
    assert spec.output_schema is not None and spec.wrapped is False
    assert spec.output_schema["type"] == "object"
    assert "$defs" not in spec.output_schema
    assert spec.output_schema["properties"]["address"]["required"] == ["street", "number"]
    person = Person(name="Ada", address=Address(street="Main", number=1))
    structured = spec.to_structured(person)
    assert structured == {"name": "Ada", "address": {"street": "Main", "number": 1}}
    assert jsonschema_rs.validator_for(spec.output_schema).is_valid(structured)


def test_schema_module_does_not_import_pydantic() -> None:
    code = (
        "import sys, dataclasses\n"
        "from mcpkit.server.schemas.signature import build_signature\n"
        "@dataclasses.dataclass\n"
        "class P:\n    x: int\n"
        "def f(p: P, n: int = 1) -> P: return p\n"
        "sig = build_signature(f)\n"
        "sig.validate({'p': {'x': 1}}); sig.output.to_structured(P(1))\n"
        "assert 'pydantic' not in sys.modules, 'pydantic was imported'\n"
    )
    run_in_a_fresh_interpreter(code)


# ---------------------------------------------------------------- JSON fast path parity


class _Color(enum.Enum):
    red = "red"
    blue = "blue"


@dataclasses.dataclass
class _Point:
    x: int
    y: float = 0.0


def _parity_target(
    a: int,
    b: Annotated[float, msgspec.Meta(ge=0)] = 1.0,
    name: str = "n",
    tags: list[str] | None = None,
    color: _Color = _Color.red,
    point: _Point | None = None,
    mode: Literal["fast", "slow"] = "fast",
) -> None:
    raise NotImplementedError


_PARITY = build_signature(_parity_target)
_scalar = (
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.floats(-2, 2)
    | st.sampled_from(["red", "blue", "fast", "x", "1", "2.5"])
)
_value = st.recursive(
    _scalar,
    lambda inner: (
        st.lists(inner, max_size=2)
        | st.dictionaries(st.sampled_from(["x", "y", "z"]), inner, max_size=2)
    ),
    max_leaves=5,
)


def _outcome(call: Any) -> Any:
    try:
        return ("ok", call())
    except ArgumentError as exc:
        return ("error", str(exc))


@settings(max_examples=400, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from(["a", "b", "name", "tags", "color", "point", "mode", "extra"]),
        _value,
        max_size=5,
    )
    | _value
)
def test_validate_json_agrees_with_validate(arguments: Any) -> None:
    text = msgspec.json.encode(arguments)
    assert _PARITY._json_decoder is not None
    assert _outcome(lambda: _PARITY.validate_json(text)) == _outcome(
        lambda: _PARITY.validate(arguments)
    )


def test_validate_json_without_arguments_and_with_kwargs() -> None:
    with pytest.raises(ArgumentError, match="missing required argument `a`"):
        _PARITY.validate_json(b"")

    def loose(a: int, **rest: Any) -> None:
        raise NotImplementedError

    sig = build_signature(loose)
    assert sig._json_decoder is None  # **kwargs: the dict path keeps the extra names
    assert sig.validate_json(b'{"a": 3, "z": 1}') == {"a": 3, "z": 1}
