"""An `async def` tool whose parameters are its arguments alone is called with them by position
(`ToolSpec.in_order`: no dict made for them, nor unpacked), which binds each argument to the
parameter of its name, whatever order the client sent them in; any other tool is called by
keyword, as it always was (a context, a wrapper's own `**kwargs`, whatever signature it shows,
keyword-only parameters, a sync function)."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from mcpkit import Client, Context, Server
from mcpkit.server.catalog.tools import ToolSpec

ERAS = ["2025-11-25", "2026-07-28"]
WAIT = 10.0


def _logged(fn: Callable[..., Awaitable[str]]) -> Callable[..., Awaitable[str]]:
    """A decorator whose wrapper takes keywords alone: `inspect` would show the wrapped
    function's parameters through `__wrapped__`, which the wrapper cannot take by position."""

    @functools.wraps(fn)
    async def wrapper(**kwargs: Any) -> str:
        return "logged " + await fn(**kwargs)

    return wrapper


def _shown_as(fn: Callable[..., Awaitable[str]]) -> Callable[..., Awaitable[str]]:
    """A decorator whose wrapper takes keywords alone but says it has `fn`'s parameters
    (`__signature__`, no `__wrapped__`): only its code says what it takes."""

    async def wrapper(**kwargs: Any) -> str:
        return "shown " + await fn(**kwargs)

    wrapper.__signature__ = inspect.signature(fn)  # type: ignore[attr-defined]
    wrapper.__name__ = fn.__name__
    return wrapper


def make_server() -> Server:
    server = Server("order")

    @server.tool
    async def minus(a: int, b: int, label: str) -> str:
        return f"{label}: {a - b}"

    @server.tool
    async def minus_in(a: int, b: int, ctx: Context) -> str:
        return f"{ctx.method}: {a - b}"

    @server.tool
    async def minus_by_name(a: int, *, b: int) -> str:
        return f"by name: {a - b}"

    @server.tool
    @_logged
    async def minus_logged(a: int, b: int) -> str:
        return f"{a - b}"

    @server.tool
    @_shown_as
    async def minus_shown(a: int, b: int) -> str:
        return f"{a - b}"

    @server.tool
    def minus_sync(a: int, b: int) -> str:
        return f"sync: {a - b}"

    return server


def _spec(server: Server, name: str) -> ToolSpec:
    spec = server.tools.get(name)
    assert spec is not None
    return spec


def test_only_an_async_tool_taking_its_arguments_alone_is_called_by_position() -> None:
    server = make_server()
    assert _spec(server, "minus").in_order
    for name in ("minus_in", "minus_by_name", "minus_logged", "minus_shown", "minus_sync"):
        assert not _spec(server, name).in_order, name


def test_a_spec_made_again_with_another_function_works_it_out_again() -> None:
    spec = _spec(make_server(), "minus")

    async def by_keyword(**kwargs: Any) -> str:
        return str(kwargs)

    assert not dataclasses.replace(spec, fn=by_keyword).in_order
    assert dataclasses.replace(spec, name="other").in_order


@pytest.mark.parametrize("era", ERAS)
async def test_arguments_sent_in_any_order_reach_the_parameters_of_their_names(era: str) -> None:
    async with asyncio.timeout(WAIT), Client(make_server(), protocol=era) as client:
        sent = {"label": "x", "b": 2, "a": 7}
        assert (await client.call_tool("minus", sent)).text == "x: 5"
        assert (await client.call_tool("minus", {"a": 7, "b": 2, "label": "y"})).text == "y: 5"
        assert (await client.call_tool("minus_in", {"b": 2, "a": 7})).text == "tools/call: 5"
        assert (await client.call_tool("minus_by_name", {"b": 2, "a": 7})).text == "by name: 5"
        assert (await client.call_tool("minus_logged", {"b": 2, "a": 7})).text == "logged 5"
        assert (await client.call_tool("minus_shown", {"b": 2, "a": 7})).text == "shown 5"
        assert (await client.call_tool("minus_sync", {"b": 2, "a": 7})).text == "sync: 5"


@pytest.mark.parametrize("era", ERAS)
async def test_arguments_that_do_not_fit_are_refused_as_before(era: str) -> None:
    async with asyncio.timeout(WAIT), Client(make_server(), protocol=era) as client:
        missing = await client.call_tool("minus", {"a": 7, "label": "x"})
        assert missing.is_error
        assert "Invalid arguments for tool 'minus'" in missing.text
        assert "b" in missing.text
        extra = await client.call_tool("minus", {"a": 7, "b": 2, "label": "x", "c": 1})
        assert extra.is_error
        assert "Invalid arguments for tool 'minus'" in extra.text
