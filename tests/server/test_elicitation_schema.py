"""Form-mode elicitation schemas (mcpkit.server.elicitation_schema): building from typed
classes, checking raw schemas against the restricted subset, and reading content back."""

from __future__ import annotations

import dataclasses
import datetime
import enum
from typing import Annotated, Any, Literal, NotRequired, TypedDict

import jsonschema_rs
import msgspec
import pytest

from mcpkit.server.elicitation_schema import (
    EnumTitles,
    check_requested_schema,
    requested_schema,
    validate_content,
)


class Color(enum.Enum):
    RED = "#f00"
    GREEN = "#0f0"
    BLUE = "#00f"


COLOR_TITLES = EnumTitles({"#f00": "Red", "#0f0": "Green", "#00f": "Blue"})
Size = Literal["s", "m", "l"]


@dataclasses.dataclass
class Profile:
    name: Annotated[str, msgspec.Meta(min_length=2, max_length=40, title="Display name")]
    email: Annotated[str, msgspec.Meta(extra_json_schema={"format": "email"})]
    age: Annotated[int, msgspec.Meta(ge=18, le=130, description="Your age")] = 30
    height: float = 1.7
    subscribe: bool = False
    birthday: datetime.date | None = None
    wake_up: datetime.datetime | None = None
    homepage: Annotated[str, msgspec.Meta(extra_json_schema={"format": "uri"})] = ""


@dataclasses.dataclass
class Choices:
    plain: Color = Color.RED
    titled: Annotated[Color, COLOR_TITLES] = Color.GREEN
    size: Size = "m"
    many: list[Color] = dataclasses.field(default_factory=lambda: [Color.RED, Color.BLUE])
    many_titled: Annotated[list[Color], COLOR_TITLES, msgspec.Meta(min_length=1, max_length=2)] = (
        dataclasses.field(default_factory=lambda: [Color.GREEN])
    )
    sizes: list[Size] | None = None


class Survey(TypedDict):
    answer: str
    score: NotRequired[int]


class Vote(msgspec.Struct, rename="camel"):
    choice_made: Literal["yes", "no"]
    sure: bool = True


# ------------------------------------------------------------------ building


def test_primitive_fields() -> None:
    schema = requested_schema(Profile)
    props = schema["properties"]
    assert schema["type"] == "object" and schema["required"] == ["name", "email"]
    assert props["name"] == {
        "type": "string",
        "title": "Display name",
        "minLength": 2,
        "maxLength": 40,
    }
    assert props["email"] == {"type": "string", "format": "email"}
    assert props["age"] == {
        "type": "integer",
        "description": "Your age",
        "minimum": 18,
        "maximum": 130,
        "default": 30,
    }
    assert props["height"] == {"type": "number", "default": 1.7}
    assert props["subscribe"] == {"type": "boolean", "default": False}
    assert props["birthday"] == {"type": "string", "format": "date"}
    assert props["wake_up"] == {"type": "string", "format": "date-time"}
    assert props["homepage"] == {"type": "string", "format": "uri", "default": ""}


def test_every_enum_shape() -> None:
    props = requested_schema(Choices)["properties"]
    # Untitled single-select, in the Enum's own order.
    assert props["plain"] == {"type": "string", "enum": ["#f00", "#0f0", "#00f"], "default": "#f00"}
    # Titled single-select (SEP-1330).
    assert props["titled"] == {
        "type": "string",
        "oneOf": [
            {"const": "#f00", "title": "Red"},
            {"const": "#0f0", "title": "Green"},
            {"const": "#00f", "title": "Blue"},
        ],
        "default": "#0f0",
    }
    assert props["size"] == {"type": "string", "enum": ["s", "m", "l"], "default": "m"}
    # Untitled multi-select.
    assert props["many"] == {
        "type": "array",
        "items": {"type": "string", "enum": ["#f00", "#0f0", "#00f"]},
        "default": ["#f00", "#00f"],
    }
    # Titled multi-select: `items.anyOf`, as the 2025-11-25 schema has it.
    assert props["many_titled"] == {
        "type": "array",
        "minItems": 1,
        "maxItems": 2,
        "items": {
            "anyOf": [
                {"const": "#f00", "title": "Red"},
                {"const": "#0f0", "title": "Green"},
                {"const": "#00f", "title": "Blue"},
            ]
        },
        "default": ["#0f0"],
    }
    assert props["sizes"] == {"type": "array", "items": {"type": "string", "enum": ["s", "m", "l"]}}
    assert "required" not in requested_schema(Choices)


def test_typed_dict_and_struct() -> None:
    assert requested_schema(Survey) == {
        "type": "object",
        "properties": {"answer": {"type": "string"}, "score": {"type": "integer"}},
        "required": ["answer"],
    }
    # Struct fields go out under their wire names.
    assert requested_schema(Vote) == {
        "type": "object",
        "properties": {
            "choiceMade": {"type": "string", "enum": ["yes", "no"]},
            "sure": {"type": "boolean", "default": True},
        },
        "required": ["choiceMade"],
    }


def test_built_schemas_pass_the_checker_and_validate_content() -> None:
    for tp in (Profile, Choices, Survey, Vote):
        schema = requested_schema(tp)
        check_requested_schema(schema)
        jsonschema_rs.validator_for(schema)  # a valid 2020-12 schema


@dataclasses.dataclass
class Address:
    street: str


@dataclasses.dataclass
class Nested:
    address: Address


@dataclasses.dataclass
class WithDict:
    extra: dict[str, str]


class Level(enum.IntEnum):
    LOW = 1


@dataclasses.dataclass
class IntEnumField:
    level: Level


@dataclasses.dataclass
class MissingTitle:
    color: Annotated[Color, EnumTitles({"#f00": "Red"})]


@dataclasses.dataclass
class ListOfStr:
    tags: list[str]


@dataclasses.dataclass
class Exclusive:
    n: Annotated[int, msgspec.Meta(gt=0)]


@pytest.mark.parametrize(
    ("tp", "message"),
    [
        (Nested, r"field 'address' has type 'Address': form elicitation takes only flat"),
        (WithDict, r"field 'extra'"),
        (IntEnumField, r"field 'level': enum values must be strings"),
        (MissingTitle, r"field 'color': EnumTitles has no title for \['#0f0', '#00f'\]"),
        (ListOfStr, r"field 'tags': a list is allowed only of Literal or Enum"),
        (Exclusive, r"property 'n' has keywords \['exclusiveMinimum'\]"),
        (int, r"needs a dataclass, TypedDict or msgspec.Struct"),
    ],
)
def test_types_outside_the_subset_raise_type_error(tp: Any, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        requested_schema(tp)


# ------------------------------------------------------------------ checking raw schemas

SPEC_EXAMPLES: list[dict[str, Any]] = [
    {
        "type": "string",
        "title": "Display Name",
        "description": "Description text",
        "minLength": 3,
        "maxLength": 50,
        "pattern": "^[A-Za-z]+$",
        "format": "email",
        "default": "user@example.com",
    },
    {
        "type": "number",
        "title": "N",
        "description": "d",
        "minimum": 0,
        "maximum": 100,
        "default": 50,
    },
    {"type": "integer", "minimum": 1},
    {"type": "boolean", "title": "B", "description": "d", "default": False},
    {"type": "string", "enum": ["Red", "Green", "Blue"], "default": "Red"},
    {
        "type": "string",
        "oneOf": [{"const": "#FF0000", "title": "Red"}, {"const": "#00FF00", "title": "Green"}],
        "default": "#FF0000",
    },
    {
        "type": "array",
        "minItems": 1,
        "maxItems": 2,
        "items": {"type": "string", "enum": ["Red", "Green", "Blue"]},
        "default": ["Red", "Green"],
    },
    {
        "type": "array",
        "items": {"anyOf": [{"const": "#FF0000", "title": "Red"}]},
        "default": ["#FF0000"],
    },
    # SEP-1330's prose spells the titled multi-select with oneOf; read it too.
    {"type": "array", "items": {"oneOf": [{"const": "a", "title": "A"}]}},
    # Legacy titles, still accepted when reading.
    {"type": "string", "enum": ["a", "b"], "enumNames": ["A", "B"], "default": "b"},
]


@pytest.mark.parametrize("prop", SPEC_EXAMPLES)
def test_spec_shapes_are_accepted(prop: dict[str, Any]) -> None:
    check_requested_schema({"type": "object", "properties": {"field": prop}, "required": ["field"]})


@pytest.mark.parametrize(
    ("prop", "message"),
    [
        ({"type": "object", "properties": {}}, "has type 'object'"),
        ({"type": "null"}, "has type 'null'"),
        ({"enum": ["a"]}, "has type None"),
        ({"type": "string", "format": "uuid"}, "has format 'uuid'"),
        ({"type": "string", "items": {}}, r"has keywords \['items'\]"),
        ({"type": "string", "minLength": -1}, "`minLength` -1"),
        ({"type": "number", "minimum": "0"}, "`minimum` '0'"),
        ({"type": "string", "default": 3}, "has default 3"),
        ({"type": "integer", "default": 1.5}, "has default 1.5"),
        ({"type": "boolean", "default": "yes"}, "has default 'yes'"),
        ({"type": "string", "enum": ["a"], "default": "b"}, "has default 'b'"),
        ({"type": "string", "enum": []}, "non-empty list of strings"),
        ({"type": "string", "enum": [1, 2]}, "non-empty list of strings"),
        ({"type": "string", "enum": ["a"], "enumNames": ["A", "B"]}, "different length"),
        ({"type": "string", "oneOf": [{"const": "a"}]}, "const, title"),
        ({"type": "array", "items": {"type": "string"}}, "not a string enum"),
        ({"type": "array", "items": {"type": "integer", "enum": [1]}}, "not a string enum"),
        ({"type": "array"}, "without an `items` object"),
        (
            {"type": "array", "items": {"type": "string", "enum": ["a"]}, "default": ["z"]},
            "default",
        ),
        ({"type": "string", "title": 5}, "non-string `title`"),
        ("string", "is not a JSON object"),
    ],
)
def test_properties_outside_the_subset_are_named(prop: Any, message: str) -> None:
    schema = {"type": "object", "properties": {"bad_one": prop}}
    with pytest.raises(ValueError, match="property 'bad_one'") as info:
        check_requested_schema(schema)
    assert info.match(message)


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ({"type": "array", "properties": {}}, "type 'object'"),
        ({"type": "object"}, "needs a `properties` object"),
        ({"type": "object", "properties": {}, "$defs": {}}, r"keywords \['\$defs'\]"),
        ({"type": "object", "properties": {}, "required": ["ghost"]}, "'ghost'"),
        ({"type": "object", "properties": {}, "required": "name"}, "list of property names"),
        ([], "type 'object'"),
    ],
)
def test_root_outside_the_subset(schema: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_requested_schema(schema)


# ------------------------------------------------------------------ reading content back


def test_content_becomes_the_typed_value() -> None:
    profile = validate_content(
        Profile,
        {
            "name": "Ada",
            "email": "ada@example.com",
            "age": "36",
            "birthday": "1815-12-10",
            "wake_up": "2025-11-25T07:00:00Z",
        },
    )
    assert profile == Profile(
        name="Ada",
        email="ada@example.com",
        age=36,
        birthday=datetime.date(1815, 12, 10),
        wake_up=datetime.datetime(2025, 11, 25, 7, tzinfo=datetime.UTC),
    )
    choices = validate_content(Choices, {"titled": "#00f", "many_titled": ["#f00"], "sizes": ["s"]})
    assert choices.titled is Color.BLUE and choices.many_titled == [Color.RED]
    assert choices.sizes == ["s"] and choices.many == [Color.RED, Color.BLUE]
    assert validate_content(Vote, {"choiceMade": "no"}) == Vote(choice_made="no")
    assert validate_content(Survey, {"answer": "42"}) == {"answer": "42"}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"email": "a@b.c"}, "missing required field `name`"),
        (
            {"name": 5, "email": "a@b.c"},
            r"field `name`: expected `str`, got `int` \(at `\$.name`\)",
        ),
        ({"name": "Ada", "email": "a@b.c", "age": 3}, r"field `age`: expected `int` >= 18"),
        ({"name": "A", "email": "a@b.c"}, r"field `name`: expected `str` of length >= 2"),
    ],
)
def test_bad_content_names_the_field(content: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_content(Profile, content)


def test_bad_enum_content_names_the_field() -> None:
    with pytest.raises(ValueError, match=r"field `many`: invalid enum value 'pink'"):
        validate_content(Choices, {"many": ["#f00", "pink"]})


def test_content_against_a_raw_schema() -> None:
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string", "minLength": 2},
            "age": {"type": "integer", "minimum": 18},
            "colors": {"type": "array", "items": {"type": "string", "enum": ["r", "g"]}},
        },
        "required": ["name"],
    }
    content = {"name": "Ada", "age": 20, "colors": ["r"]}
    assert validate_content(schema, content) == content
    with pytest.raises(ValueError) as info:
        validate_content(schema, {"age": 3, "colors": ["b"]})
    message = str(info.value)
    assert '"name" is a required property' in message
    assert "field `age`: 3 is less than the minimum of 18" in message
    assert "field `colors`" in message


def test_content_must_be_an_object() -> None:
    with pytest.raises(ValueError, match="must be an object, got list"):
        validate_content(Profile, ["Ada"])  # type: ignore[call-overload]
