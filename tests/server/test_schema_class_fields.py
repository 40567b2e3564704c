"""pydantic's Field and annotated_types constraints in the fields of the classes a tool takes
and returns (dataclasses, msgspec Structs, TypedDicts), and pydantic dataclasses validated
by pydantic."""

from __future__ import annotations

import dataclasses
import datetime
from pathlib import Path
from typing import Annotated, Any, Generic, NamedTuple, NotRequired, TypedDict, TypeVar

import annotated_types as at
import attrs
import msgspec
import pydantic
import pytest
from _schema_checks import run_in_a_fresh_interpreter, schema_problems
from pydantic import AfterValidator, Field, field_validator

from mcpkit import Client, Server
from mcpkit.server.schemas.signature import (
    ArgumentError,
    FunctionSignature,
    OutputError,
    build_signature,
)


@dataclasses.dataclass
class Query:
    """What to look for."""

    n: Annotated[int, Field(gt=0, description="How many")]
    page: int = Field(default=1, ge=1, le=50)  # as users write
    words: list[str] = dataclasses.field(default_factory=list)

    def __post_init__(self) -> None:
        if self.n == 13:
            raise ValueError("13 is unlucky")


class Box(msgspec.Struct, rename="camel"):
    box_name: Annotated[str, Field(min_length=2, description="The label")]
    size: Annotated[int, at.Interval(ge=1, le=9)] = 1


class Filters(TypedDict):
    limit: Annotated[int, Field(le=100, description="At most")]
    queries: NotRequired[list[Query]]


@pydantic.dataclasses.dataclass
class Span:
    start: Annotated[int, Field(ge=0)]
    end: int

    @field_validator("end")
    @classmethod
    def _after_start(cls, end: int, info: pydantic.ValidationInfo) -> int:
        if end < info.data.get("start", 0):
            raise ValueError("end comes before start")
        return end


@dataclasses.dataclass
class Marked:
    span: Span
    note: str = ""


def search(
    query: Query,
    box: Box | None = None,
    filters: Filters | None = None,
    span: Span | None = None,
    marked: Marked | None = None,
) -> Query:
    return query


def both_ways(sig: FunctionSignature, arguments: dict[str, Any]) -> dict[str, Any]:
    """`validate` and `validate_json` agree; the result."""
    first = sig.validate(dict(arguments))
    assert sig.validate_json(msgspec.json.encode(arguments)) == first
    return first


def refusal(sig: FunctionSignature, arguments: dict[str, Any]) -> ArgumentError:
    with pytest.raises(ArgumentError) as info:
        sig.validate(dict(arguments))
    with pytest.raises(ArgumentError) as again:
        sig.validate_json(msgspec.json.encode(arguments))
    assert str(info.value) == str(again.value)
    return info.value


def test_class_fields_reach_the_schema() -> None:
    schema = build_signature(search).input_schema
    assert schema_problems(schema) == []
    query = schema["properties"]["query"]
    assert query["description"] == "What to look for."
    assert query["properties"] == {
        "n": {"description": "How many", "type": "integer", "exclusiveMinimum": 0},
        "page": {"type": "integer", "minimum": 1, "maximum": 50, "default": 1},
        "words": {"type": "array", "items": {"type": "string"}, "default": []},
    }
    assert query["required"] == ["n"]
    box = schema["properties"]["box"]["anyOf"][0]
    assert box["properties"] == {  # the Struct keeps its camelCase names
        "boxName": {"description": "The label", "type": "string", "minLength": 2},
        "size": {"type": "integer", "minimum": 1, "maximum": 9, "default": 1},
    }
    filters = schema["properties"]["filters"]["anyOf"][0]
    assert filters["properties"]["limit"] == {
        "description": "At most",
        "type": "integer",
        "maximum": 100,
    }
    assert filters["properties"]["queries"]["items"] == query
    span = schema["properties"]["span"]["anyOf"][0]
    assert span["properties"]["start"] == {"minimum": 0, "title": "Start", "type": "integer"}


def test_class_fields_are_validated_and_the_tool_gets_its_own_classes() -> None:
    sig = build_signature(search)
    got = both_ways(
        sig,
        {
            "query": {"n": 2},
            "box": {"boxName": "ab"},
            "filters": {"limit": 5, "queries": [{"n": 1, "page": 2}]},
            "span": {"start": 1, "end": 2},
            "marked": {"span": {"start": 0, "end": 0}},
        },
    )
    assert type(got["query"]) is Query and got["query"] == Query(n=2, page=1, words=[])
    assert type(got["box"]) is Box and got["box"] == Box(box_name="ab", size=1)
    assert got["filters"] == {"limit": 5, "queries": [Query(n=1, page=2, words=[])]}
    assert type(got["filters"]["queries"][0]) is Query
    assert type(got["span"]) is Span and got["span"] == Span(start=1, end=2)
    assert type(got["marked"]) is Marked and type(got["marked"].span) is Span
    again = sig.validate({"query": {"n": 2}})["query"]
    assert again.words == [] and again.words is not got["query"].words  # a fresh list


@pytest.mark.parametrize(
    ("arguments", "path", "words"),
    [
        ({"query": {"n": 0}}, "$.query.n", "expected `int` >= 1"),
        ({"query": {"n": 1, "page": 51}}, "$.query.page", "<= 50"),
        ({"query": {"n": 13}}, "$.query", "13 is unlucky"),  # the class's own check
        ({"query": {"n": 1}, "box": {"boxName": "a"}}, "$.box.boxName", "length >= 2"),
        ({"query": {"n": 1}, "box": {"boxName": "ab", "size": 10}}, "$.box.size", "<= 9"),
        ({"query": {"n": 1}, "filters": {"limit": 101}}, "$.filters.limit", "<= 100"),
        (
            {"query": {"n": 1}, "filters": {"limit": 1, "queries": [{"n": 1}, {"n": -1}]}},
            "$.filters.queries[1].n",
            ">= 1",
        ),
        ({"query": {"n": 1}, "span": {"start": -1, "end": 0}}, "$.span", "greater than or"),
        ({"query": {"n": 1}, "span": {"start": 5, "end": 1}}, "$.span", "end comes before"),
        (
            {"query": {"n": 1}, "marked": {"span": {"start": -1, "end": 0}}},
            "$.marked.span",
            "start",
        ),
    ],
)
def test_a_violating_value_is_refused_at_its_path(
    arguments: dict[str, Any], path: str, words: str
) -> None:
    error = refusal(build_signature(search), arguments)
    assert error.path == path and words in str(error)


async def test_a_violating_call_is_an_error_result_naming_the_path() -> None:
    server = Server("classes")
    server.add_tool(search)
    async with Client(server) as client:
        (tool,) = await client.list_tools()
        assert tool.input_schema["properties"]["query"]["properties"]["n"]["exclusiveMinimum"] == 0
        bad = await client.call_tool("search", {"query": {"n": 0}})
        assert (
            bad.is_error is True
            and "query.n: must be greater than 0 (got 0)" in bad.content[0].text
        )  # type: ignore[union-attr]
        good = await client.call_tool("search", {"query": {"n": 3}})
        assert good.structured_content == {"n": 3, "page": 1, "words": []}


@dataclasses.dataclass
class Located:
    path: Path
    when: datetime.datetime
    span: Span
    n: Annotated[int, at.Ge(0)] = 0


def test_standard_types_and_models_are_built_back_as_decoded() -> None:
    def tool(located: Located) -> None: ...

    got = both_ways(
        build_signature(tool),
        {"located": {"path": "/a", "when": "2020-01-02T03:04:05Z", "span": {"start": 1, "end": 1}}},
    )
    assert got["located"] == Located(
        Path("/a"), datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=datetime.UTC), Span(1, 1)
    )


def test_the_output_schema_and_check_read_the_fields_too() -> None:
    output = build_signature(search).output
    assert output.output_schema is not None
    assert output.output_schema["properties"]["n"]["exclusiveMinimum"] == 0
    assert output.output_schema["properties"]["page"]["default"] == 1
    assert output.to_structured(Query(n=1, page=2)) == {"n": 1, "page": 2, "words": []}
    wrong = Query(n=1, page=2)
    wrong.page = 99
    with pytest.raises(OutputError, match=r"<= 50 - at `\$\.page`"):
        output.to_structured(wrong)


@dataclasses.dataclass
class Renamed:
    first_name: str = Field(alias="firstName")  # as users write


def test_an_alias_names_a_field_on_the_wire_in_arguments_only() -> None:
    def take(person: Renamed) -> str:
        return person.first_name

    sig = build_signature(take)
    assert list(sig.input_schema["properties"]["person"]["properties"]) == ["firstName"]
    assert both_ways(sig, {"person": {"firstName": "Ada"}}) == {"person": Renamed("Ada")}

    def give() -> Renamed: ...

    with pytest.raises(TypeError, match=r"give: field Renamed.first_name: an alias renames"):
        build_signature(give)


T = TypeVar("T")


@dataclasses.dataclass
class Holder(Generic[T]):
    item: Annotated[int, Field(gt=0)]


@dataclasses.dataclass
class Node:
    value: Annotated[int, Field(ge=0)]
    children: list[Node] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class Excluded:
    n: Annotated[int, Field(exclude=True)]


class Checked(msgspec.Struct):
    n: Annotated[int, AfterValidator(abs)]


class Defaulted(TypedDict):
    n: Annotated[int, Field(default=1)]


class Aliased(TypedDict):
    n: Annotated[int, Field(alias="N")]


@dataclasses.dataclass
class Plain:
    n: Annotated[list[int], "a marker of the user's own"] = dataclasses.field(default_factory=list)


class Pair(NamedTuple):
    a: Annotated[int, Field(gt=0)]


@attrs.define
class Record:
    a: Annotated[int, at.Gt(0)]


@pytest.mark.parametrize(
    ("hint", "words"),
    [
        (Pair, "class Pair: mcpkit reads pydantic Field"),
        (Record, "class Record: mcpkit reads pydantic Field"),
        (Excluded, "field Excluded.n: Field(exclude=...) has no meaning"),
        (Checked, "field Checked.n: AfterValidator("),
        (Defaulted, "field Defaulted.n: a TypedDict key has no default"),
        (Aliased, "field Aliased.n: a TypedDict key is its name"),
        (Node, "class Node: a recursive class cannot hold pydantic Field"),
        (Holder[int], "the generic class Holder holds pydantic Field"),
        (list[Excluded], "field Excluded.n"),
    ],
)
def test_what_a_class_field_cannot_honour_is_refused(hint: Any, words: str) -> None:
    def tool(value: int) -> None: ...

    tool.__annotations__ = {"value": hint, "return": None}
    with pytest.raises(TypeError) as info:
        build_signature(tool)
    assert str(info.value).startswith("tool: ") and words in str(info.value)

    def result() -> int: ...

    result.__annotations__ = {"return": hint}
    with pytest.raises(TypeError, match="result: "):
        build_signature(result)  # a return type is read the same way, loudly


@dataclasses.dataclass
class Leaf:
    tree: Tree | None = None


@dataclasses.dataclass
class Tree:
    leaf: Leaf
    n: Annotated[int, Field(gt=0)]


def test_a_cycle_through_another_class_is_refused_from_either_end() -> None:
    def from_tree(tree: Tree) -> None: ...

    def from_leaf(leaf: Leaf) -> None: ...

    with pytest.raises(TypeError, match="class Tree: a recursive class"):
        build_signature(from_tree)
    # Leaf looked plain while Tree was being read; that guess went with Tree's refusal.
    with pytest.raises(TypeError, match="class Leaf: a recursive class"):
        build_signature(from_leaf)


def test_a_default_given_twice_is_refused() -> None:
    @dataclasses.dataclass
    class Both:
        n: Annotated[list[int], Field(default_factory=list)] = dataclasses.field(
            default_factory=list
        )

    def tool(both: Both) -> None: ...

    with pytest.raises(TypeError, match=r"field Both.n: give its default once"):
        build_signature(tool)


def test_a_class_used_twice_is_one_definition() -> None:
    def tool(a: Query, b: list[Query], c: Filters) -> Query: ...

    sig = build_signature(tool)
    props = sig.input_schema["properties"]
    assert props["b"]["items"] == props["a"] == props["c"]["properties"]["queries"]["items"]
    assert sig.output.output_schema is not None


def test_classes_without_metadata_are_left_to_msgspec() -> None:
    def tool(plain: Plain) -> Plain:
        return plain

    sig = build_signature(tool)
    got = both_ways(sig, {"plain": {"n": [1]}})
    assert type(got["plain"]) is Plain and got["plain"].n == [1]
    assert sig.validate({"plain": {}})["plain"].n == []


def test_annotated_types_in_a_dataclass_load_no_pydantic() -> None:
    code = (
        "import dataclasses, sys\nfrom typing import Annotated\nimport annotated_types as at\n"
        "from mcpkit.server.schemas.signature import build_signature, ArgumentError\n"
        "@dataclasses.dataclass\nclass P:\n    n: Annotated[int, at.Gt(0)]\n"
        "def f(p: P) -> int: return p.n\n"
        "sig = build_signature(f)\n"
        "assert sig.input_schema['properties']['p']['properties']['n']['exclusiveMinimum'] == 0\n"
        "assert type(sig.validate({'p': {'n': 1}})['p']) is P\n"
        "try:\n    sig.validate({'p': {'n': 0}})\nexcept ArgumentError as e:\n"
        "    assert e.path == '$.p.n', e.path\nelse:\n    raise AssertionError('taken')\n"
        "assert 'pydantic' not in sys.modules, 'pydantic was imported'\n"
    )
    run_in_a_fresh_interpreter(code)
