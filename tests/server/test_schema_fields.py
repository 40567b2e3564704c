"""pydantic's Field and annotated_types constraints on tool and prompt parameters: in the
input schema and in validation alike, and refused at registration where not honoured."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import annotated_types as at
import jsonschema_rs
import pydantic
import pytest
from _schema_checks import run_in_a_fresh_interpreter, schema_problems
from pydantic import AfterValidator, AliasChoices, Field, StringConstraints

from mcpkit import Client, Server
from mcpkit.server.schemas.signature import ArgumentError, FunctionSignature, build_signature


def measure(
    x: Annotated[float, Field(gt=0, description="A positive length")],
    y: int = Field(default=1, ge=0, title="Times"),
    tags: list[str] = Field(default_factory=list, max_length=3),  # noqa: B008  # as users write
) -> float:
    return x * y


def both_ways(sig: FunctionSignature, arguments: dict[str, Any]) -> dict[str, Any]:
    """`validate` and `validate_json` (the tools/call fast path) agree; the result."""
    first = sig.validate(dict(arguments))
    second = sig.validate_json(pydantic.TypeAdapter(dict[str, Any]).dump_json(arguments))
    assert first == second
    return first


def refusal(sig: FunctionSignature, arguments: dict[str, Any]) -> str:
    with pytest.raises(ArgumentError) as info:
        sig.validate(dict(arguments))
    with pytest.raises(ArgumentError) as again:
        sig.validate_json(pydantic.TypeAdapter(dict[str, Any]).dump_json(arguments))
    assert str(info.value) == str(again.value)
    return str(info.value)


def test_field_description_constraints_and_defaults_reach_schema_and_tool() -> None:
    sig = build_signature(measure)
    schema = sig.input_schema
    assert schema["properties"]["x"] == {
        "description": "A positive length",
        "type": "number",
        "exclusiveMinimum": 0,
    }
    assert schema["properties"]["y"] == {
        "title": "Times",
        "type": "integer",
        "minimum": 0,
        "default": 1,
    }
    assert schema["properties"]["tags"] == {
        "type": "array",
        "items": {"type": "string"},
        "maxItems": 3,
    }
    assert schema["required"] == ["x"]
    assert schema_problems(schema) == []
    kwargs = both_ways(sig, {"x": 2.5})
    assert kwargs["y"] == 1 and kwargs["tags"] == []  # never the FieldInfo
    assert both_ways(sig, {"x": 2.5})["tags"] is not kwargs["tags"]  # a fresh list per call
    raw = b'{"x": 2.5}'
    assert sig.validate_json(raw)["tags"] is not sig.validate_json(raw)["tags"]
    assert "argument `x` is invalid: expected `float` > 0.0" in refusal(sig, {"x": -1})
    assert "argument `y` is invalid" in refusal(sig, {"x": 1, "y": -1})
    assert "argument `tags` is invalid" in refusal(sig, {"x": 1, "tags": ["a"] * 4})


async def test_a_violating_call_is_an_error_result_naming_the_argument() -> None:
    server = Server("fields")
    server.add_tool(measure)
    async with Client(server) as client:
        (tool,) = await client.list_tools()
        assert tool.input_schema["properties"]["x"]["exclusiveMinimum"] == 0
        bad = await client.call_tool("measure", {"x": -1})
        assert bad.is_error is True and "x: must be greater than 0 (got -1)" in bad.content[0].text  # type: ignore[union-attr]
        good = await client.call_tool("measure", {"x": 2})
        assert good.structured_content == {"result": 2.0}


@pytest.mark.parametrize(
    ("hint", "keywords", "good", "bad"),
    [
        (Annotated[int, Field(ge=1, le=5)], {"minimum": 1, "maximum": 5}, 5, 6),
        (Annotated[int, Field(gt=0, lt=5)], {"exclusiveMinimum": 0, "exclusiveMaximum": 5}, 4, 5),
        (Annotated[int, Field(multiple_of=3)], {"multipleOf": 3}, 9, 10),
        (
            Annotated[str, Field(min_length=2, max_length=3)],
            {"minLength": 2, "maxLength": 3},
            "ab",
            "a",
        ),
        (Annotated[str, Field(pattern=r"^[a-z]+$")], {"pattern": "^[a-z]+$"}, "abc", "aB"),
        (Annotated[str, Field(pattern=re.compile("^x"))], {"pattern": "^x"}, "xy", "yx"),
        (Annotated[int, at.Gt(0)], {"exclusiveMinimum": 0}, 1, 0),
        (Annotated[float, at.Interval(ge=0, lt=1)], {"minimum": 0, "exclusiveMaximum": 1}, 0.5, 1),
        (Annotated[list[int], at.Len(1, 2)], {"minItems": 1, "maxItems": 2}, [1], []),
        (Annotated[str, at.MinLen(1), at.MaxLen(2)], {"minLength": 1, "maxLength": 2}, "a", "abc"),
        (Annotated[int, at.MultipleOf(2)], {"multipleOf": 2}, 4, 3),
        (
            Annotated[str, StringConstraints(min_length=1, pattern="^a")],
            {"pattern": "^a"},
            "a",
            "b",
        ),
        (list[Annotated[int, Field(gt=0)]], {"type": "array"}, [1, 2], [1, 0]),
        (Annotated[int, Field(strict=True, allow_inf_nan=False)], {"type": "integer"}, 1, "1"),
    ],
)
def test_constraints_are_advertised_and_enforced(
    hint: Any, keywords: dict[str, Any], good: Any, bad: Any
) -> None:
    def tool(value: int) -> None: ...

    tool.__annotations__ = {"value": hint, "return": None}
    sig = build_signature(tool)
    prop = sig.input_schema["properties"]["value"]
    assert {k: prop.get(k) for k in keywords} == keywords
    validator = jsonschema_rs.validator_for(sig.input_schema)
    assert validator.is_valid({"value": good}) and not validator.is_valid({"value": bad})
    assert both_ways(sig, {"value": good}) == {"value": good}
    assert "argument `value` is invalid" in refusal(sig, {"value": bad})


def test_constraints_on_an_optional_apply_to_the_value() -> None:
    def tool(n: Annotated[int | None, Field(ge=1, description="How many")] = None) -> None: ...

    sig = build_signature(tool)
    prop = sig.input_schema["properties"]["n"]
    assert prop["description"] == "How many" and prop["default"] is None
    assert {"type": "integer", "minimum": 1} in prop["anyOf"]
    assert both_ways(sig, {"n": None}) == {"n": None}
    assert both_ways(sig, {"n": 2}) == {"n": 2}
    assert "argument `n` is invalid" in refusal(sig, {"n": 0})


def test_alias_names_the_argument_on_the_wire() -> None:
    def tool(first_name: str = Field(alias="firstName"), n: int = 0) -> str:
        return first_name

    sig = build_signature(tool)
    assert list(sig.input_schema["properties"]) == ["firstName", "n"]
    assert sig.input_schema["required"] == ["firstName"]
    assert sig.parameters == ("first_name", "n") and sig.arguments == ("firstName", "n")
    assert both_ways(sig, {"firstName": "Ada"}) == {"first_name": "Ada"}
    assert "unknown argument `first_name`; did you mean `firstName`?" in refusal(
        sig, {"first_name": "Ada"}
    )
    assert "missing required argument `firstName`" in refusal(sig, {})

    def extra(name: str = Field(alias="Name"), **rest: Any) -> None: ...

    sig = build_signature(extra)
    assert sig.validate({"Name": "a", "other": 1}) == {"name": "a", "other": 1}
    with pytest.raises(ArgumentError, match="did you mean `Name`"):
        sig.validate({"Name": "a", "name": "b"})


def test_annotations_examples_and_extra_schema() -> None:
    def tool(
        q: Annotated[
            str,
            Field(examples=["cats"], json_schema_extra={"format": "search"}, deprecated=True),
        ],
        r: Annotated[str, Field(description="From the Field")] = "",
    ) -> None:
        """Search.

        Args:
            q: From the docstring.
            r: Also from the docstring.
        """

    props = build_signature(tool).input_schema["properties"]
    assert props["q"] == {
        "description": "From the docstring.",
        "examples": ["cats"],
        "format": "search",
        "deprecated": True,
        "type": "string",
    }
    assert props["r"]["description"] == "From the Field"  # the hint wins over the docstring


def _refused(hint: Any, default: Any = None, *, coerce: bool = False) -> str:
    def tool(value: int) -> None: ...

    tool.__annotations__ = {"value": hint, "return": None}
    if default is not None:
        tool.__defaults__ = (default,)
    with pytest.raises(TypeError) as info:
        build_signature(tool, coerce=coerce)
    message = str(info.value)
    assert "tool" in message and "'value'" in message
    return message


@pytest.mark.parametrize(
    ("hint", "default", "words"),
    [
        (Annotated[int, Field(exclude=True)], None, "exclude"),
        (Annotated[int, Field(frozen=True)], None, "frozen"),
        (Annotated[int, Field(validate_default=True)], None, "validate_default"),
        (Annotated[int, Field(repr=False)], None, "repr"),
        (int, Field(discriminator="kind"), "discriminator"),
        (Annotated[int, Field(max_digits=3)], None, "max_digits"),
        (Annotated[float, Field(allow_inf_nan=True)], None, "allow_inf_nan"),
        (Annotated[int, Field(strict=False)], None, "strict"),
        (Annotated[str, StringConstraints(strip_whitespace=True)], None, "strip_whitespace"),
        (Annotated[int, AfterValidator(abs)], None, "AfterValidator"),
        (Annotated[str, at.Predicate(str.islower)], None, "Predicate"),
        (Annotated[int, at.Gt(1.5j)], None, "Gt"),  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
        (Annotated[str, Field(gt=0)], None, "numeric"),
        (Annotated[int | str, Field(gt=0)], None, "union"),
        (Annotated[int, Field(json_schema_extra=lambda s: None)], None, "json_schema_extra"),
        (int, Field(validation_alias=AliasChoices("a", "b")), "alias"),
        (Annotated[int, Field(default=1)], Field(default=2), "default once"),
        (int, Field(default_factory=lambda data: 1), "default_factory"),
        (list[Annotated[int, Field(alias="x")]], None, "inside another type"),
    ],
)
def test_what_cannot_be_honoured_is_refused(hint: Any, default: Any, words: str) -> None:
    assert words in _refused(hint, default)


def test_strict_is_refused_where_strings_are_converted() -> None:
    assert "strict" in _refused(Annotated[int, Field(strict=True)], coerce=True)


def test_two_parameters_of_one_wire_name_are_refused() -> None:
    def tool(a: int = Field(alias="b"), b: int = 0) -> None: ...

    with pytest.raises(TypeError, match="two parameters take the argument 'b'"):
        build_signature(tool)


async def test_prompt_arguments_read_the_field() -> None:
    server = Server("prompts")

    @server.prompt()
    def review(
        code: Annotated[str, Field(description="The code to review", min_length=1)],
        language: str = Field(default="python", alias="lang"),
    ) -> str:
        return f"Review this {language}: {code}"

    async with Client(server) as client:
        (prompt,) = await client.list_prompts()
        arguments = {a.name: a for a in prompt.arguments or []}
        assert arguments["code"].description == "The code to review" and arguments["code"].required
        assert arguments["lang"].required is False
        got = await client.get_prompt("review", {"code": "x"})
        assert got.messages[0].content.text == "Review this python: x"  # type: ignore[union-attr]
        with pytest.raises(Exception, match="code"):
            await client.get_prompt("review", {"code": ""})


def test_annotated_types_alone_load_no_pydantic() -> None:
    code = (
        "import sys\nfrom typing import Annotated\nimport annotated_types as at\n"
        "from mcpkit.server.schemas.signature import build_signature\n"
        "def f(n: Annotated[int, at.Gt(0)]) -> int: return n\n"
        "sig = build_signature(f)\n"
        "assert sig.input_schema['properties']['n']['exclusiveMinimum'] == 0\n"
        "assert 'pydantic' not in sys.modules, 'pydantic was imported'\n"
    )
    run_in_a_fresh_interpreter(code)


async def test_completion_offers_the_choices_of_an_aliased_argument() -> None:
    server = Server("complete")

    @server.prompt()
    def greet(tone: Literal["warm", "dry"] = Field(default="warm", alias="Tone")) -> str:
        return f"Say hello, {tone}ly."

    async with Client(server) as client:
        done = await client.complete({"prompt": "greet"}, "Tone", "d")
        assert done.completion.values == ["dry"]
        got = await client.get_prompt("greet", {"Tone": "dry"})
        assert got.messages[0].content.text == "Say hello, dryly."  # type: ignore[union-attr]
