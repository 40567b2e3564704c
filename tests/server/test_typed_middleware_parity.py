"""A middleware written with typed hooks (TypedMiddleware) behaves as the same middleware
written on the chain (`async (ctx, params, call_next)`): each case of tests/server/
test_middleware.py, run over both forms, through the real client in both eras."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import msgspec
import pytest

from mcpkit import Client, Context, Server
from mcpkit.errors import McpError
from mcpkit.protocol import codes
from mcpkit.server import TypedMiddleware
from mcpkit.server.middleware import CallNext, CallToolNext, ListNext
from mcpkit.types import Tool

ERAS = ["2025-11-25", "2026-07-28"]
FORMS = ["chain", "typed"]

#: Each case builds its middleware in a form: `(form, ...) -> middleware`.
Build = Callable[..., Any]


def make_server(*middleware: Any, mask: bool = True) -> Server:
    server = Server("parity", middleware=middleware, mask_error_details=mask)

    @server.tool()
    def add(a: int, b: int) -> int:
        return a + b

    @server.tool()
    def other() -> str:
        return "other"

    return server


def trail_layer(form: str, label: str, trail: list[str]) -> Any:
    """Records its way in and out of tools/call."""
    if form == "chain":

        async def layer(ctx: Context, params: Any, call_next: CallNext) -> Any:
            if ctx.method != "tools/call":
                return await call_next(params)
            trail.append(f"{label}>")
            result = await call_next(params)
            trail.append(f"<{label}")
            return result

        return layer

    class Trail(TypedMiddleware):
        async def on_call_tool(
            self, ctx: Context, name: str, arguments: dict[str, Any], call_next: CallToolNext
        ) -> Any:
            trail.append(f"{label}>")
            result = await call_next(name, arguments)
            trail.append(f"<{label}")
            return result

    return Trail()


@pytest.mark.parametrize("era", ERAS)
@pytest.mark.parametrize("form", FORMS)
async def test_first_added_is_outermost(form: str, era: str) -> None:
    trail: list[str] = []
    server = make_server(trail_layer(form, "a", trail))
    server.add_middleware(trail_layer(form, "b", trail))
    async with Client(server, protocol=era) as client:
        await client.call_tool("add", {"a": 1, "b": 2})
    assert trail == ["a>", "b>", "<b", "<a"]


def doubling(form: str) -> Any:
    """Doubles tools/call's `a`, and lists only the first tool."""
    if form == "chain":

        async def layer(ctx: Context, params: Any, call_next: CallNext) -> Any:
            if ctx.method == "tools/call":
                args = msgspec.json.decode(params.arguments)
                args["a"] *= 2
                raw = msgspec.Raw(msgspec.json.encode(args))
                params = msgspec.structs.replace(params, arguments=raw)
            result = await call_next(params)
            if ctx.method == "tools/list":
                result = msgspec.structs.replace(result, tools=result.tools[:1])
            return result

        return layer

    class Doubling(TypedMiddleware):
        async def on_call_tool(
            self, ctx: Context, name: str, arguments: dict[str, Any], call_next: CallToolNext
        ) -> Any:
            return await call_next(name, {**arguments, "a": arguments["a"] * 2})

        async def on_list_tools(self, ctx: Context, call_next: ListNext) -> list[Tool]:
            return (await call_next())[:1]

    return Doubling()


@pytest.mark.parametrize("era", ERAS)
@pytest.mark.parametrize("form", FORMS)
async def test_a_middleware_changes_params_and_the_result(form: str, era: str) -> None:
    async with Client(make_server(doubling(form)), protocol=era) as client:
        result = await client.call_tool("add", {"a": 5, "b": 1})
        assert result.structured_content == {"result": 11}
        assert len(await client.list_tools()) == 1


def failing(form: str, error: Exception) -> Any:
    """Raises `error` instead of calling a tool."""
    if form == "chain":

        async def layer(ctx: Context, params: Any, call_next: CallNext) -> Any:
            if ctx.method == "tools/call":
                raise error
            return await call_next(params)

        return layer

    class Failing(TypedMiddleware):
        async def on_call_tool(
            self, ctx: Context, name: str, arguments: dict[str, Any], call_next: CallToolNext
        ) -> Any:
            raise error

    return Failing()


@pytest.mark.parametrize("era", ERAS)
@pytest.mark.parametrize("form", FORMS)
async def test_an_mcp_error_answers_the_request(form: str, era: str) -> None:
    denied = McpError(codes.INVALID_PARAMS, "not today", {"why": "policy"})
    async with Client(make_server(failing(form, denied)), protocol=era) as client:
        with pytest.raises(McpError) as caught:
            await client.call_tool("add", {"a": 1, "b": 2})
        assert (caught.value.code, caught.value.message) == (codes.INVALID_PARAMS, "not today")
        assert caught.value.data == {"why": "policy"}
        assert len(await client.list_tools()) == 2  # the client goes on


@pytest.mark.parametrize("mask", [False, True])
@pytest.mark.parametrize("era", ERAS)
@pytest.mark.parametrize("form", FORMS)
async def test_an_exception_is_answered_like_a_handlers(form: str, era: str, mask: bool) -> None:
    server = make_server(failing(form, ValueError("layer broke")), mask=mask)
    async with Client(server, protocol=era) as client:
        with pytest.raises(McpError) as caught:
            await client.call_tool("add", {"a": 1, "b": 2})
        assert caught.value.code == codes.INTERNAL_ERROR
        assert ("layer broke" in caught.value.message) is not mask


def watching(form: str, cancelled: asyncio.Event) -> Any:
    """Notes a tools/call cancelled while inside it."""
    if form == "chain":

        async def layer(ctx: Context, params: Any, call_next: CallNext) -> Any:
            try:
                return await call_next(params)
            except asyncio.CancelledError:
                cancelled.set()
                raise

        return layer

    class Watching(TypedMiddleware):
        async def on_call_tool(
            self, ctx: Context, name: str, arguments: dict[str, Any], call_next: CallToolNext
        ) -> Any:
            try:
                return await call_next(name, arguments)
            except asyncio.CancelledError:
                cancelled.set()
                raise

    return Watching()


@pytest.mark.parametrize("era", ERAS)
@pytest.mark.parametrize("form", FORMS)
async def test_cancellation_passes_through(form: str, era: str) -> None:
    started, cancelled = asyncio.Event(), asyncio.Event()
    server = make_server(watching(form, cancelled))

    @server.tool()
    async def hang() -> None:
        started.set()
        await asyncio.Event().wait()

    async with Client(server, protocol=era) as client:
        call = asyncio.create_task(client.call_tool("hang", {}))
        async with asyncio.timeout(5):
            await started.wait()
            call.cancel()
            await cancelled.wait()
        assert len(await client.list_tools()) == 3
