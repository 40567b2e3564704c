"""Whatever a tool's return hint, what it sends satisfies what it advertises: an output
schema (object-rooted) only when structuredContent is always sent, and structuredContent
that validates against it, checked with jsonschema-rs on what the real Client receives."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Sequence
from typing import Any, Literal, Optional, TypedDict, Union

import jsonschema_rs
import msgspec
import pydantic
import pytest

from mcpkit import Client, Server, image, text
from mcpkit.server.catalog.calling.content import is_content
from mcpkit.types import CallToolResult, ImageContent, TextContent


@dataclasses.dataclass
class Point:
    x: int
    y: int


class Movie(TypedDict):
    title: str
    year: int


class Track(msgspec.Struct):
    name: str
    seconds: float = 0.0


class Pair(msgspec.Struct, array_like=True):
    a: int
    b: str


class User(pydantic.BaseModel):
    name: str
    age: int = 0


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


# (return hint, values the function returns): each value is called once.
HINTS: list[tuple[Any, list[Any]]] = [
    (list, [[1, "a", None], [], [text("a block")], [{"x": 1}]]),
    (dict, [{}, {"a": [1, 2]}, {1: "int keys"}]),
    (list[int], [[1, 2, 3], []]),
    (list[Any], [[1, "x"], [image(b"png", "image/png")]]),
    (tuple, [(1, "a"), ()]),
    (tuple[int, str], [(1, "a")]),
    (tuple[int, ...], [(1, 2), ()]),
    (set, [{1, 2}, set()]),
    (set[str], [{"a", "b"}]),
    (frozenset[int], [frozenset({1})]),
    (None, [None]),
    (Any, [1, "s", None, [1], {"a": 1}, text("t")]),
    (object, [1, "s"]),
    (int | str, [1, "s"]),
    # typing.Union / Optional are other objects than `X | Y`: both spellings are covered.
    (Union[int, list[str]], [1, ["a"]]),  # noqa: UP007
    (Optional[int], [None, 3]),  # noqa: UP045
    (Optional[Point], [None, Point(1, 2)]),  # noqa: UP045
    (Point | None, [None, Point(1, 2)]),
    (Point | Movie, [Point(1, 2), {"title": "x", "year": 1}]),
    (str, ["plain"]),
    (Optional[str], [None, "s"]),  # noqa: UP045
    (int, [0, -5]),
    (float, [1.5, 2]),
    (bool, [True, False]),
    (Point, [Point(1, 2)]),
    (Movie, [{"title": "Alien", "year": 1979}]),
    (Track, [Track("a"), Track("b", 3.5)]),
    (Pair, [Pair(1, "x")]),
    (User, [User(name="ada", age=36)]),
    (list[User], [[User(name="ada")]]),
    (dict[str, Point], [{"p": Point(0, 0)}]),
    (dict[str, Any], [{"a": None}]),
    (Literal["a", "b"], ["a"]),
    (Color, [Color.RED]),
    (Level, [Level.HIGH]),
    (TextContent, [text("t")]),
    (list[TextContent], [[text("t")]]),
    (ImageContent | TextContent, [text("t")]),
    (CallToolResult, [CallToolResult(content=[text("whole")])]),
]
CASES = [(hint, value) for hint, values in HINTS for value in values]


def _tool_for(hint: Any, value: Any) -> Any:
    def tool() -> Any:
        return value

    tool.__annotations__["return"] = hint  # the hint under test, as if written in place
    return tool


def _server() -> tuple[Server, dict[str, tuple[Any, Any]]]:
    server = Server("outputs", mask_error_details=False)  # the details are what is checked
    cases: dict[str, tuple[Any, Any]] = {}
    for i, (hint, value) in enumerate(CASES):
        server.add_tool(_tool_for(hint, value), name=f"t{i}")
        cases[f"t{i}"] = (hint, value)
    return server, cases


async def test_every_return_hint_sends_what_it_advertises() -> None:
    server, cases = _server()
    async with Client(server) as client:
        tools = {t.name: t for t in await client.list_tools()}
        for name, (hint, value) in cases.items():
            schema = tools[name].output_schema
            result = await client.call_tool(name)
            assert result.is_error is not True, (hint, value, result)
            if schema is None:
                continue
            assert schema.get("type") == "object", (hint, schema)
            if is_content(value):  # content blocks are content alone, never sent twice
                assert result.structured_content is None, (hint, value, result)
                assert result.content == (value if isinstance(value, list) else [value])
                continue
            assert result.structured_content is not None, (hint, value, result)
            validator = jsonschema_rs.validator_for(schema)
            errors = [e.message for e in validator.iter_errors(result.structured_content)]
            assert not errors, (hint, value, result.structured_content, errors)


@pytest.mark.parametrize(
    ("hint", "advertised"),
    [
        (list, False),  # its items may be content blocks, sent as content alone
        (list[Any], False),
        (list[object], False),
        (Sequence[Any], False),
        (list[Any] | None, False),
        (list[int], True),
        (tuple, True),
        (dict, True),
        (int, True),
        (Point | None, True),
        (str, False),
        (None, False),
        (Any, False),
        (TextContent, False),
        (list[TextContent], False),
    ],
)
def test_which_hints_advertise_a_schema(hint: Any, advertised: bool) -> None:
    server = Server("s")
    spec = server.add_tool(_tool_for(hint, None), name="t")
    assert (spec.wire.output_schema is not None) is advertised


async def test_a_value_that_breaks_the_hint_is_an_error_result_not_a_broken_promise() -> None:
    server = Server("s", mask_error_details=False)  # the detail is what is checked

    def wrong() -> Point:
        return image(b"png", "image/png")  # type: ignore[return-value]

    def bare() -> Point:
        return CallToolResult(content=[text("no structured content")])  # type: ignore

    def off_schema() -> Point:
        return CallToolResult(content=[], structured_content={"x": "one"})  # type: ignore

    def not_a_number() -> list[float]:
        return [1.0, float("nan")]

    def opaque() -> Any:
        return object()

    for fn in (wrong, bare, off_schema, not_a_number, opaque):
        server.add_tool(fn)
    async with Client(server) as client:
        for name in ("wrong", "bare", "off_schema", "not_a_number", "opaque"):
            result = await client.call_tool(name)
            assert result.is_error is True and result.structured_content is None, result
        bare_text = (await client.call_tool("bare")).content[0].text  # type: ignore[union-attr]
        assert "without structuredContent" in bare_text


async def test_a_given_output_schema_is_kept_as_promised() -> None:
    server = Server("s", mask_error_details=False)  # the detail is what is checked
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}

    @server.tool(output_schema=schema)
    def given(n: int) -> Any:
        if n == 0:
            return {"n": float("nan")}
        if n == 1:
            return {"n": object()}
        return {"n": n} if n > 0 else {"n": "negative"}

    async with Client(server) as client:
        good = await client.call_tool("given", {"n": 2})
        assert good.structured_content == {"n": 2}
        bad = await client.call_tool("given", {"n": -1})
        assert bad.is_error is True and "does not fit the output schema" in str(bad.content)
        for n in (0, 1):  # NaN, and a value JSON cannot hold at all
            assert (await client.call_tool("given", {"n": n})).is_error is True


def test_a_given_output_schema_must_be_an_object() -> None:
    with pytest.raises(TypeError, match="root"):
        Server("s").add_tool(lambda: 1, name="t", output_schema={"type": "integer"})


@pytest.mark.parametrize("protocol", ["2025-11-25", "2026-07-28"])
async def test_content_blocks_are_never_sent_again_as_structured_content(
    protocol: str, caplog: pytest.LogCaptureFixture
) -> None:
    server = Server("blocks")

    @server.tool()
    def loose() -> list[object]:  # its items may be blocks: no output schema
        return [text("two files:"), image(b"png", "image/png")]

    @server.tool()
    def one() -> Any:
        return text("one block")

    @server.tool(structured_output=True)  # a schema asked for, and then blocks returned
    def forced() -> list[object]:
        return [text("a block")]

    @server.tool()
    def data() -> list[int]:  # other values still come as structured content
        return [1, 2]

    async with Client(server, protocol=protocol) as client:
        schemas = {t.name: t.output_schema for t in await client.list_tools()}
        assert schemas["loose"] is None and schemas["one"] is None
        assert schemas["forced"] is not None and schemas["data"] is not None
        listed = await client.call_tool("loose")
        assert listed.structured_content is None
        assert [block.type for block in listed.content] == ["text", "image"]
        single = await client.call_tool("one")
        assert single.structured_content is None and single.content == [text("one block")]
        for _ in range(2):
            kept = await client.call_tool("forced")
            assert kept.structured_content is None and kept.content == [text("a block")]
        assert (await client.call_tool("data")).structured_content == {"result": [1, 2]}
    # The schema `forced` advertises goes unmet: said once, with the annotation to use.
    warned = [r.getMessage() for r in caplog.records if "returned content blocks" in r.getMessage()]
    assert len(warned) == 1 and "'forced'" in warned[0] and "list[ContentBlock]" in warned[0]
