"""pydantic's Field and annotated_types constraints in elicitation forms: in the requested
schema and checked in the answer, for a form class's fields and for one value."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Annotated, Any

import annotated_types as at
import msgspec
import pytest
from pydantic import Field

from mcpkit import Client, Context, Server
from mcpkit.server.asking.elicitation_value import value_hint
from mcpkit.server.elicitation_schema import requested_schema, validate_content
from mcpkit.types import ElicitRequestParams, ElicitResult


@dataclasses.dataclass
class Booking:
    guests: Annotated[int, Field(ge=1, le=8, description="How many people")]
    name: str = Field(default="guest", max_length=20)  # as users write


class Pick(msgspec.Struct):
    size: Annotated[int, at.Ge(1)]


def test_a_form_class_gives_its_fields_constraints_and_defaults() -> None:
    assert requested_schema(Booking) == {
        "type": "object",
        "properties": {
            "guests": {
                "description": "How many people",
                "type": "integer",
                "minimum": 1,
                "maximum": 8,
            },
            "name": {"type": "string", "maxLength": 20, "default": "guest"},
        },
        "required": ["guests"],
    }
    got = validate_content(Booking, {"guests": 2})
    assert type(got) is Booking and got == Booking(guests=2, name="guest")
    with pytest.raises(ValueError, match=r"field `guests`: expected `int` <= 8"):
        validate_content(Booking, {"guests": 9})
    with pytest.raises(ValueError, match=r"field `size`: expected `int` >= 1"):
        validate_content(Pick, {"size": 0})


def asking_server(shape: object, seen: list[Any]) -> Server:
    server = Server("asks")

    @server.tool()
    async def ask(ctx: Context) -> str:
        """Ask."""
        answer = await ctx.elicit("Your answer?", shape)
        seen.append(answer.data)
        return repr(answer.data)

    return server


@pytest.mark.parametrize(
    ("shape", "good", "bad", "prop"),
    [
        (
            Annotated[int, Field(ge=1, description="How many")],
            {"value": 2},
            {"value": 0},
            {"description": "How many", "type": "integer", "minimum": 1},
        ),
        (Booking, {"guests": 3}, {"guests": 0}, None),
    ],
)
async def test_the_client_is_asked_the_constraints_and_held_to_them(
    shape: object, good: dict[str, Any], bad: dict[str, Any], prop: dict[str, Any] | None
) -> None:
    asked: list[dict[str, Any]] = []
    answers = [good, bad]
    seen: list[Any] = []

    def user(params: ElicitRequestParams) -> ElicitResult:
        asked.append(params.requested_schema)  # type: ignore[union-attr]
        return ElicitResult(action="accept", content=answers.pop(0))

    client = Client(asking_server(shape, seen), elicitation_handler=user)
    async with asyncio.timeout(10), client:
        taken = await client.call_tool("ask")
        refused = await client.call_tool("ask")
    assert taken.is_error is not True
    if prop is not None:
        assert asked[0]["properties"]["value"] == prop
        assert seen == [2]
    else:
        assert asked[0] == requested_schema(Booking)
        assert seen == [Booking(guests=3, name="guest")]
    assert refused.is_error is True and "elicitation content is invalid" in str(refused.content)


def test_a_field_default_for_one_value_is_refused() -> None:
    with pytest.raises(TypeError, match="the elicited value: a Field default or alias"):
        value_hint(Annotated[int, Field(default=1)])
