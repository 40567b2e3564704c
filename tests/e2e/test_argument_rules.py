"""What a tool accepts agrees with the input schema its client reads: strictly by default
(JSON Schema's reading: 3.0 is an integer, "36" is not), and in lenient mode, where
numbers and booleans may come as strings and the schema says so."""

from __future__ import annotations

import asyncio
from typing import Any, Literal

import jsonschema_rs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcpkit import Client, Server

VALUES: list[Any] = [
    36,
    3.0,
    1e3,
    9007199254740994.0,  # integral past 2**53 (found by hypothesis in lenient mode)
    -0.0,
    3.5,
    "36",
    "-7",
    "1e3",
    "3.0",
    "3.5",
    " 36",
    "+36",
    "0x10",
    "inf",
    "nan",
    "",
    "true",
    "false",
    "True",
    "1",
    True,
    None,
    [1],
    {"a": 1},
]


def make_server(**options: Any) -> Server:
    server = Server("arguments", **options)

    @server.tool()
    def count(n: int) -> int:
        return n

    @server.tool()
    def ratio(x: float) -> float:
        return x

    @server.tool()
    def flag(on: bool) -> bool:
        return on

    @server.tool()
    def many(items: list[int], limit: int | None = None) -> int:
        return len(items)

    @server.tool(lenient_arguments=True)
    def loose(n: int) -> int:
        return n

    return server


async def _agreement(server: Server, tool: str, argument: str, wrap: bool = False) -> int:
    """Call `tool` with every value; each is accepted exactly when the advertised schema
    validates it. Returns how many were accepted."""
    accepted = 0
    async with Client(server) as client:
        (wire,) = [t for t in await client.list_tools() if t.name == tool]
        validator = jsonschema_rs.validator_for(wire.input_schema)
        for value in VALUES:
            arguments = {argument: [value] if wrap else value}
            result = await client.call_tool(tool, arguments)
            valid = validator.is_valid(arguments)
            assert valid is not result.is_error, (tool, value, result)
            accepted += valid
    return accepted


@pytest.mark.parametrize(
    ("tool", "argument", "wrap"),
    [
        ("count", "n", False),
        ("ratio", "x", False),
        ("flag", "on", False),
        ("many", "items", True),
        ("loose", "n", False),
    ],
)
async def test_strict_by_default_what_is_accepted_is_what_the_schema_allows(
    tool: str, argument: str, wrap: bool
) -> None:
    assert await _agreement(make_server(), tool, argument, wrap) >= 1


@pytest.mark.parametrize(
    ("tool", "argument", "wrap"),
    [("count", "n", False), ("ratio", "x", False), ("flag", "on", False), ("many", "items", True)],
)
async def test_lenient_server_accepts_strings_and_its_schemas_say_so(
    tool: str, argument: str, wrap: bool
) -> None:
    assert await _agreement(make_server(lenient_arguments=True), tool, argument, wrap) >= 2


async def test_the_rule_in_examples() -> None:
    async with Client(make_server()) as client:
        refused = await client.call_tool("count", {"n": "36"})
        assert refused.is_error is True
        assert "argument `n` is invalid" in refused.content[0].text  # type: ignore[union-attr]
        assert (await client.call_tool("count", {"n": 3.0})).structured_content == {"result": 3}
        assert (await client.call_tool("count", {"n": 1e3})).structured_content == {"result": 1000}
        assert (await client.call_tool("loose", {"n": "36"})).structured_content == {"result": 36}
        assert (await client.call_tool("loose", {"n": "1e3"})).is_error is True
        tools = {t.name: t for t in await client.list_tools()}
        assert tools["count"].input_schema["properties"]["n"] == {"type": "integer"}
        assert tools["loose"].input_schema["properties"]["n"] == {
            "anyOf": [{"type": "integer"}, {"type": "string", "pattern": r"^-?(0|[1-9][0-9]*)$"}]
        }


async def test_a_tool_can_opt_out_of_a_lenient_server() -> None:
    server = Server("s", lenient_arguments=True)

    @server.tool(lenient_arguments=False)
    def exact(n: int) -> int:
        return n

    async with Client(server) as client:
        assert (await client.call_tool("exact", {"n": "36"})).is_error is True


# ------------------------------------------------------------------ property

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=5)
    | st.sampled_from(["36", "-1", "1e3", "2.5", "true", "false", "x", "a", "b"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["x", "y", "n"]), inner, max_size=2)
    ),
    max_leaves=5,
)


def _typed_server(lenient: bool) -> Server:
    server = Server("typed", lenient_arguments=lenient)

    @server.tool()
    def typed(
        n: int = 0,
        x: float = 0.0,
        on: bool = False,
        name: str = "",
        tags: list[int] | None = None,
        mode: Literal["a", "b"] = "a",
        scores: dict[str, float] | None = None,
    ) -> int:
        return 0

    return server


TYPED = {False: _typed_server(False), True: _typed_server(True)}


@settings(max_examples=120, deadline=None)
@given(
    st.booleans(),
    st.dictionaries(
        st.sampled_from(["n", "x", "on", "name", "tags", "mode", "scores"]), json_values, max_size=3
    ),
)
def test_any_arguments_are_accepted_exactly_when_the_schema_allows_them(
    lenient: bool, arguments: dict[str, Any]
) -> None:
    async def run() -> None:
        async with Client(TYPED[lenient]) as client:
            (tool,) = await client.list_tools()
            valid = jsonschema_rs.validator_for(tool.input_schema).is_valid(arguments)
            result = await client.call_tool("typed", arguments)
            assert valid is not result.is_error, (arguments, result)

    asyncio.run(asyncio.wait_for(run(), 20))
