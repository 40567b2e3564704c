"""Standard-library types as tool parameters and return values, end to end: the schema has
the JSON Schema format for each, the function gets the Python type, and what comes back
validates against the advertised output schema, formats asserted."""

from __future__ import annotations

import datetime
import decimal
import enum
import ipaddress
import pathlib
import typing
import uuid
from typing import Any

import jsonschema_rs
import pytest

from mcpkit import Client, Server


class Color(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 2


class Mode(enum.StrEnum):
    FAST = "fast"


UTC = datetime.UTC
ID = uuid.UUID("12345678-1234-5678-1234-567812345678")

# (hint, JSON sent, Python value the function gets, the schema of the parameter)
CASES: list[tuple[Any, Any, Any, dict[str, Any]]] = [
    (
        datetime.datetime,
        "2025-11-25T10:30:00Z",
        datetime.datetime(2025, 11, 25, 10, 30, tzinfo=UTC),
        {"type": "string", "format": "date-time"},
    ),
    (
        datetime.date,
        "2025-11-25",
        datetime.date(2025, 11, 25),
        {"type": "string", "format": "date"},
    ),
    (
        datetime.time,
        "10:30:00Z",
        datetime.time(10, 30, tzinfo=UTC),
        {"type": "string", "format": "time"},
    ),
    (
        datetime.timedelta,
        "P1DT7200S",
        datetime.timedelta(days=1, hours=2),
        {"type": "string", "format": "duration"},
    ),
    (uuid.UUID, str(ID), ID, {"type": "string", "format": "uuid"}),
    (
        decimal.Decimal,
        "1.50",
        decimal.Decimal("1.50"),
        {"anyOf": [{"type": "string", "format": "decimal"}, {"type": "number"}]},
    ),
    (pathlib.Path, "/tmp/notes.txt", pathlib.Path("/tmp/notes.txt"), {"type": "string"}),
    (pathlib.PurePath, "a/b", pathlib.PurePath("a/b"), {"type": "string"}),
    (pathlib.PurePosixPath, "a/b", pathlib.PurePosixPath("a/b"), {"type": "string"}),
    (
        ipaddress.IPv4Address,
        "192.0.2.1",
        ipaddress.IPv4Address("192.0.2.1"),
        {"type": "string", "format": "ipv4"},
    ),
    (
        ipaddress.IPv6Address,
        "2001:db8::1",
        ipaddress.IPv6Address("2001:db8::1"),
        {"type": "string", "format": "ipv6"},
    ),
    (bytes, "aGVsbG8=", b"hello", {"type": "string", "contentEncoding": "base64"}),
    (Color, "red", Color.RED, {"enum": ["red"], "type": "string", "title": "Color"}),
    (Level, 2, Level.HIGH, {"enum": [2], "type": "integer", "title": "Level"}),
    (Mode, "fast", Mode.FAST, {"enum": ["fast"], "type": "string", "title": "Mode"}),
    (
        frozenset[int],
        [1, 2],
        frozenset({1, 2}),
        {"type": "array", "items": {"type": "integer"}, "uniqueItems": True},
    ),
    (set[str], ["a"], {"a"}, {"type": "array", "items": {"type": "string"}, "uniqueItems": True}),
    (
        tuple[int, str],
        [1, "a"],
        (1, "a"),
        {
            "type": "array",
            "minItems": 2,
            "maxItems": 2,
            "prefixItems": [{"type": "integer"}, {"type": "string"}],
            "items": False,
        },
    ),
    (tuple[int, ...], [1, 2], (1, 2), {"type": "array", "items": {"type": "integer"}}),
]

BAD: list[tuple[Any, Any]] = [
    (datetime.datetime, "yesterday"),
    (uuid.UUID, "not-a-uuid"),
    (pathlib.Path, 3),
    (ipaddress.IPv4Address, "192.0.2.300"),
    (ipaddress.IPv6Address, "192.0.2.1"),
    (bytes, "***"),
    (Color, "blue"),
    (datetime.date, 20251125),
]


def _echo(hint: Any, expected: Any) -> Any:
    def echo(value: Any) -> Any:
        # The function gets the Python type, not the JSON text.
        assert type(value) is type(expected) and value == expected, (value, expected)
        return value

    echo.__annotations__.update(value=hint, return_=hint)
    echo.__annotations__["return"] = echo.__annotations__.pop("return_")
    return echo


def _server() -> Server:
    server = Server("std")
    for i, (hint, _, value, _) in enumerate(CASES):
        server.add_tool(_echo(hint, value), name=f"t{i}")
    for i, (hint, _) in enumerate(BAD):
        server.add_tool(_echo(hint, None), name=f"bad{i}")
    return server


def _definition(schema: dict[str, Any], prop: dict[str, Any]) -> dict[str, Any]:
    ref = prop.get("$ref")
    return schema["$defs"][ref.rsplit("/", 1)[1]] if isinstance(ref, str) else prop


async def test_each_standard_type_round_trips_with_its_format() -> None:
    async with Client(_server()) as client:
        tools = {t.name: t for t in await client.list_tools()}
        for i, (hint, sent, _, expected_schema) in enumerate(CASES):
            tool = tools[f"t{i}"]
            prop = _definition(tool.input_schema, tool.input_schema["properties"]["value"])
            assert prop == expected_schema, hint
            arguments = {"value": sent}
            assert jsonschema_rs.validator_for(tool.input_schema, validate_formats=True).is_valid(
                arguments
            ), hint
            result = await client.call_tool(f"t{i}", arguments)
            assert result.is_error is not True, (hint, result)
            assert tool.output_schema is not None
            jsonschema_rs.validator_for(tool.output_schema, validate_formats=True).validate(
                result.structured_content
            )
            got = result.structured_content["result"]  # type: ignore[index]
            if typing.get_origin(hint) in (set, frozenset):
                assert sorted(got) == sorted(sent), hint  # sets have no order
            else:
                assert got == sent, hint


@pytest.mark.parametrize("index", range(len(BAD)))
async def test_malformed_values_are_refused_with_the_argument_named(index: int) -> None:
    hint, sent = BAD[index]
    async with Client(_server()) as client:
        result = await client.call_tool(f"bad{index}", {"value": sent})
        assert result.is_error is True, (hint, result)
        said = result.content[0].text  # type: ignore[union-attr]
        # a wrong type or form ("argument `value` is invalid: ..."), or a rule the schema states
        # ("value: must be one of ...")
        assert "argument `value` is invalid" in said or ": value: must be" in said, said
