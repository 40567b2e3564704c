"""Object and array arguments that arrive as JSON strings are taken when they parse to a value
that fits (on by default, `Server(json_string_arguments=False)` turns it off), in both eras;
a parameter that accepts a string keeps it as sent."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import pytest

from mcpkit import Client, Server

ERAS = ["2025-11-25", "2026-07-28"]
WAIT = 10.0


@dataclass
class Box:
    width: float
    height: float


def make_server(**options: Any) -> Server:
    server = Server("shapes", **options)

    @server.tool
    def area(size: dict[str, float]) -> float:
        return size["width"] * size["height"]

    @server.tool
    def total(values: list[int], box: Box | None = None) -> str:
        return f"{sum(values)} {box}"

    @server.tool
    def echo(value: str | dict[str, int]) -> str:
        return f"{type(value).__name__} {value}"

    @server.tool(
        input_schema={
            "type": "object",
            "properties": {"filter": {"type": "object", "required": ["field"]}},
            "required": ["filter"],
        }
    )
    def search(**arguments: Any) -> str:
        return f"by {arguments['filter']['field']}"

    return server


@pytest.mark.parametrize("era", ERAS)
async def test_a_json_string_where_an_object_or_array_is_wanted_is_parsed(
    era: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="mcpkit.server")
    async with asyncio.timeout(WAIT), Client(make_server(), protocol=era) as client:
        assert (await client.call_tool("area", {"size": '{"width": 2, "height": 3}'})).text == "6.0"
        result = await client.call_tool(
            "total", {"values": "[1, 2, 3]", "box": '{"width": 1, "height": 2}'}
        )
        assert result.text == "6 Box(width=1.0, height=2.0)"
        assert (await client.call_tool("search", {"filter": '{"field": "name"}'})).text == "by name"
    said = [r.getMessage() for r in caplog.records if "JSON string" in r.getMessage()]
    assert said == [
        "tool 'area': argument 'size' arrived as a JSON string, taken as parsed",
        "tool 'total': argument 'values' arrived as a JSON string, taken as parsed",
        "tool 'total': argument 'box' arrived as a JSON string, taken as parsed",
        "tool 'search': argument 'filter' arrived as a JSON string, taken as parsed",
    ]


@pytest.mark.parametrize("era", ERAS)
async def test_arguments_of_the_right_type_are_not_reparsed(
    era: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="mcpkit.server")
    async with asyncio.timeout(WAIT), Client(make_server(), protocol=era) as client:
        assert (await client.call_tool("area", {"size": {"width": 2, "height": 3}})).text == "6.0"
        # A parameter that takes a string keeps it, though it is JSON.
        assert (await client.call_tool("echo", {"value": '{"a": 1}'})).text == 'str {"a": 1}'
    assert not [r for r in caplog.records if "JSON string" in r.getMessage()]


@pytest.mark.parametrize("era", ERAS)
async def test_a_string_that_does_not_fit_keeps_the_first_error(era: str) -> None:
    async with asyncio.timeout(WAIT), Client(make_server(), protocol=era) as client:
        for sent in ('{"width": "wide", "height": 3}', "not json", "[2, 3]"):
            result = await client.call_tool("area", {"size": sent})
            assert result.is_error
            assert "argument `size` is invalid: expected `object`, got `str`" in result.text
        refused = await client.call_tool("search", {"filter": '{"other": 1}'})
        assert refused.is_error
        assert "filter" in refused.text


@pytest.mark.parametrize("era", ERAS)
async def test_the_switch_turns_it_off(era: str) -> None:
    server = make_server(json_string_arguments=False)
    async with asyncio.timeout(WAIT), Client(server, protocol=era) as client:
        result = await client.call_tool("area", {"size": '{"width": 2, "height": 3}'})
        assert result.is_error
        assert "expected `object`, got `str`" in result.text


def test_a_misspelt_switch_is_refused() -> None:
    with pytest.raises(TypeError, match="json_strings_arguments"):
        Server("s", json_strings_arguments=False)  # type: ignore[call-arg]
