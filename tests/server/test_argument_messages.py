"""A tool argument that breaks a constraint of its schema is an error result worded as the
schema says it, at the value's JSON path: "quantity: must be greater than 0 (got 0)", for
every kind of constraint a schema carries, whether msgspec checks the hints or jsonschema-rs
checks a schema of the tool's own; through the real client."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import pydantic
import pytest
from msgspec import Meta

from mcpkit import Client, Server

ERAS = ["2025-11-25", "2026-07-28"]
WAIT = 10.0


@dataclass
class Line:
    sku: str
    quantity: Annotated[int, Meta(gt=0)]


@dataclass
class Order:
    items: list[Line]


class Item(pydantic.BaseModel):
    sku: str
    quantity: int = pydantic.Field(gt=0)


class Basket(pydantic.BaseModel):
    items: list[Item]


def hinted_server() -> Server:
    server = Server("hinted")

    @server.tool
    def check(
        gt: Annotated[int, Meta(gt=0)] = 1,
        ge: Annotated[int, Meta(ge=1)] = 1,
        lt: Annotated[float, Meta(lt=10)] = 1,
        le: Annotated[int, Meta(le=10)] = 1,
        multiple: Annotated[int, Meta(multiple_of=5)] = 5,
        short: Annotated[str, Meta(min_length=2)] = "ab",
        long: Annotated[str, Meta(max_length=3)] = "a",
        word: Annotated[str, Meta(pattern="^[a-z]+$")] = "a",
        some: Annotated[list[int], Meta(min_length=1)] = [1],  # noqa: B006
        few: Annotated[list[int], Meta(max_length=2)] = [1],  # noqa: B006
        choice: Literal["a", "b"] = "a",
        order: Order | None = None,
    ) -> str:
        return "ok"

    return server


RAW_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "gt": {"type": "integer", "exclusiveMinimum": 0},
        "ge": {"type": "integer", "minimum": 1},
        "lt": {"type": "number", "exclusiveMaximum": 10},
        "le": {"type": "integer", "maximum": 10},
        "multiple": {"type": "integer", "multipleOf": 5},
        "short": {"type": "string", "minLength": 2},
        "long": {"type": "string", "maxLength": 3},
        "word": {"type": "string", "pattern": "^[a-z]+$"},
        "some": {"type": "array", "minItems": 1},
        "few": {"type": "array", "maxItems": 2},
        "choice": {"enum": ["a", "b"]},
        "order": {
            "type": "object",
            "properties": {
                "items": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"quantity": {"type": "integer", "exclusiveMinimum": 0}},
                    },
                }
            },
        },
    },
}


def raw_server() -> Server:
    server = Server("raw")

    @server.tool(input_schema=RAW_SCHEMA)
    def check(**arguments: Any) -> str:
        return "ok"

    return server


NESTED = {"items": [{"sku": "a", "quantity": 1}, {"sku": "b", "quantity": 0}]}
CASES = [
    ({"gt": 0}, "gt: must be greater than 0 (got 0)"),
    ({"ge": 0}, "ge: must be greater than or equal to 1 (got 0)"),
    ({"lt": 10}, "lt: must be less than 10 (got 10)"),
    ({"le": 11}, "le: must be less than or equal to 10 (got 11)"),
    ({"multiple": 7}, "multiple: must be a multiple of 5 (got 7)"),
    ({"short": "a"}, 'short: must be at least 2 characters long (got "a")'),
    ({"long": "abcd"}, 'long: must be at most 3 characters long (got "abcd")'),
    ({"word": "A1"}, 'word: must match the pattern "^[a-z]+$" (got "A1")'),
    ({"some": []}, "some: must have at least 1 item (got [])"),
    ({"few": [1, 2, 3]}, "few: must have at most 2 items (got [1,2,3])"),
    ({"choice": "c"}, 'choice: must be one of "a", "b" (got "c")'),
    ({"order": NESTED}, "order.items[1].quantity: must be greater than 0 (got 0)"),
]


@pytest.mark.parametrize(("arguments", "message"), CASES)
@pytest.mark.parametrize("make", [hinted_server, raw_server], ids=["hints", "raw_schema"])
async def test_each_constraint_reads_as_must_at_its_path(
    make: Any, arguments: dict[str, Any], message: str
) -> None:
    async with asyncio.timeout(WAIT), Client(make()) as client:
        result = await client.call_tool("check", arguments)
        assert result.is_error
        assert result.text == f"Invalid arguments for tool 'check': {message}"


@pytest.mark.parametrize("era", ERAS)
async def test_a_pydantic_models_nested_field_is_named_by_its_path(era: str) -> None:
    server = Server("shop")

    @server.tool
    def place(order: Basket) -> str:
        return "ok"

    async with asyncio.timeout(WAIT), Client(server, protocol=era) as client:
        result = await client.call_tool("place", {"order": NESTED})
        assert result.is_error
        # (pydantic's own message named only the outer argument, `order`)
        assert result.text == (
            "Invalid arguments for tool 'place': "
            "order.items[1].quantity: must be greater than 0 (got 0)"
        )


async def test_several_broken_constraints_are_all_named() -> None:
    async with asyncio.timeout(WAIT), Client(hinted_server()) as client:
        result = await client.call_tool("check", {"gt": 0, "word": "A"})
        assert result.text == (
            "Invalid arguments for tool 'check': gt: must be greater than 0 (got 0); "
            'word: must match the pattern "^[a-z]+$" (got "A")'
        )


async def test_a_wrong_type_keeps_the_checkers_own_words() -> None:
    async with asyncio.timeout(WAIT), Client(hinted_server()) as client:
        result = await client.call_tool("check", {"gt": "x"})
        assert result.text == (
            "Invalid arguments for tool 'check': argument `gt` is invalid: "
            "expected `int`, got `str` (at `$.gt`)"
        )


async def test_a_pattern_only_python_reads_keeps_the_checkers_own_words() -> None:
    server = Server("py-only")

    @server.tool
    def code(value: Annotated[str, Meta(pattern=r"^[a-z]+\Z")]) -> str:  # (no `\Z` in Rust)
        return value

    async with asyncio.timeout(WAIT), Client(server) as client:
        result = await client.call_tool("code", {"value": "A"})
        assert result.is_error
        assert result.text is not None and "argument `value` is invalid" in result.text
        assert (await client.call_tool("code", {"value": "abc"})).text == "abc"
