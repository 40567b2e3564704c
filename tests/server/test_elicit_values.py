"""One-value elicitations (`ctx.elicit(message, int)`, a choice list, a Literal, an Enum): a
one-property form on the wire, the value itself in `data`, in both eras; and docs/server.md's
example of them, run as written."""

from __future__ import annotations

import asyncio
import enum
import pathlib
import re
from typing import Any, Literal

import pytest

from mcpkit import Client, Context, ElicitationResult, Server
from mcpkit.types import ElicitRequestParams, ElicitResult, TextContent

ERAS = ["2025-11-25", "2026-07-28"]
DOC = pathlib.Path(__file__).parents[2] / "docs" / "server.md"


class Tone(enum.Enum):
    WARM = "warm"
    COOL = "cool"


SHAPES: list[tuple[object, dict[str, Any], object, object]] = [
    # (what the tool passes, the value property sent, what the user answers, data read)
    (["red", "green"], {"type": "string", "enum": ["red", "green"]}, "green", "green"),
    (Literal["a", "b"], {"type": "string", "enum": ["a", "b"]}, "b", "b"),
    (Tone, {"type": "string", "enum": ["warm", "cool"]}, "cool", Tone.COOL),
    (int, {"type": "integer"}, 3, 3),
    (float, {"type": "number"}, 2.5, 2.5),
    (bool, {"type": "boolean"}, True, True),
    (str, {"type": "string"}, "Ada", "Ada"),
]


def asking_server(shape: object, seen: list[ElicitationResult[Any]]) -> Server:
    server = Server("asks")

    @server.tool()
    async def ask(ctx: Context) -> str:
        """Ask for one value."""
        answer = await ctx.elicit("Your answer?", shape)
        seen.append(answer)
        return repr(answer.data)

    return server


@pytest.mark.parametrize("protocol", ERAS)
@pytest.mark.parametrize(("shape", "prop", "given", "read"), SHAPES)
async def test_one_value_is_a_one_property_form_and_comes_back_as_the_value(
    protocol: str, shape: object, prop: dict[str, Any], given: object, read: object
) -> None:
    asked: list[dict[str, Any]] = []
    seen: list[ElicitationResult[Any]] = []

    def user(params: ElicitRequestParams) -> ElicitResult:
        asked.append(params.requested_schema)  # type: ignore[union-attr]
        return ElicitResult(action="accept", content={"value": given})  # type: ignore[dict-item]

    client = Client(asking_server(shape, seen), protocol=protocol, elicitation_handler=user)
    async with asyncio.timeout(10), client:
        result = await client.call_tool("ask")
    assert result.is_error is not True, result
    assert asked[-1] == {"type": "object", "properties": {"value": prop}, "required": ["value"]}
    assert seen[-1].action == "accept" and seen[-1].data == read
    assert type(seen[-1].data) is type(read)


@pytest.mark.parametrize("protocol", ERAS)
@pytest.mark.parametrize("action", ["decline", "cancel"])
async def test_decline_and_cancel_say_so_with_no_value(protocol: str, action: str) -> None:
    seen: list[ElicitationResult[Any]] = []

    def user(params: ElicitRequestParams) -> ElicitResult:
        return ElicitResult(action=action)  # type: ignore[arg-type]

    client = Client(asking_server(int, seen), protocol=protocol, elicitation_handler=user)
    async with asyncio.timeout(10), client:
        await client.call_tool("ask")
    assert seen[-1].action == action and seen[-1].data is None


@pytest.mark.parametrize("protocol", ERAS)
@pytest.mark.parametrize(("content", "problem"), [({"value": "x"}, "`value`"), ({}, "required")])
async def test_an_answer_that_does_not_fit_is_a_tool_error(
    protocol: str, content: dict[str, Any], problem: str
) -> None:
    def user(params: ElicitRequestParams) -> ElicitResult:
        return ElicitResult(action="accept", content=content)

    client = Client(asking_server(int, []), protocol=protocol, elicitation_handler=user)
    async with asyncio.timeout(10), client:
        result = await client.call_tool("ask")
    assert result.is_error is True
    assert "elicitation content is invalid" in str(result.content) and problem in str(
        result.content
    )


@pytest.mark.parametrize("shape", [[], ["a", 1], list[int], dict[str, int]])
async def test_shapes_a_form_cannot_ask_are_refused(shape: object) -> None:
    def user(params: ElicitRequestParams) -> ElicitResult:
        raise AssertionError("never asked")

    client = Client(asking_server(shape, []), elicitation_handler=user)
    async with asyncio.timeout(10), client:
        result = await client.call_tool("ask")
    assert result.is_error is True


def _paint_example() -> str:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    return next(b for b in blocks if "async def order_paint" in b)


ANSWERS = {
    "Pick a colour": "green",
    "Which size?": "large",
    "Which finish?": "gloss",
    "How many cans?": 2,
    "Add primer?": True,
}


@pytest.mark.parametrize("protocol", ERAS)
async def test_the_docs_example_runs_as_written(protocol: str) -> None:
    namespace: dict[str, Any] = {"__name__": "docs_paint", "server": Server("paint")}
    exec(compile(_paint_example(), str(DOC), "exec"), namespace)  # our own docs, as written

    def user(params: ElicitRequestParams) -> ElicitResult:
        return ElicitResult(action="accept", content={"value": ANSWERS[params.message]})

    def refuse(params: ElicitRequestParams) -> ElicitResult:
        return ElicitResult(action="decline")

    for handler, expected in [
        (user, "2 x large gloss green with primer"),
        (refuse, "No order: the user chose decline"),
    ]:
        client = Client(namespace["server"], protocol=protocol, elicitation_handler=handler)
        async with asyncio.timeout(10), client:
            result = await client.call_tool("order_paint")
        block = result.content[0]
        assert isinstance(block, TextContent) and block.text == expected
