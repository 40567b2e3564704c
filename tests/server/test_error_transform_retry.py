"""ErrorTransform and RetryTools (mcpkit.server): a tool's or a read's exception answered
with a chosen message, and a passing fault of an idempotent tool retried, in both eras."""

from __future__ import annotations

from typing import Any

import pytest

from mcpkit import Client, Context, Server, ToolResult
from mcpkit.errors import McpError, ToolError
from mcpkit.protocol import codes
from mcpkit.server import ErrorTransform, RetryTools
from mcpkit.server.middleware import CallNext, Middleware
from mcpkit.types import TextContent, ToolAnnotations

ERAS = ["2025-11-25", "2026-07-28"]


class Backend(Exception):
    """What a real backend would raise, with internals in its text."""


def text_of(result: ToolResult) -> str:
    content = result.content
    assert isinstance(content[0], TextContent)
    return content[0].text


def failing_server(*middleware: Middleware) -> Server:
    server = Server("errors", middleware=middleware, mask_error_details=False)

    @server.tool()
    def lookup() -> str:
        raise Backend("db at 10.0.0.7 refused user admin")

    @server.tool()
    def refused() -> str:
        raise ToolError("you may not")

    @server.tool()
    def other() -> str:
        raise ValueError("not transformed")

    @server.resource("data://x")
    def x() -> str:
        raise Backend("secret path /srv/x")

    return server


@pytest.mark.parametrize("era", ERAS)
async def test_a_tools_exception_becomes_a_tool_error_with_the_chosen_message(era: str) -> None:
    transform = ErrorTransform({Backend: "The catalogue is unavailable, try later"})
    async with Client(failing_server(transform), protocol=era) as client:
        result = await client.call_tool("lookup", {})
        assert result.is_error
        assert text_of(result) == "The catalogue is unavailable, try later"
        assert "you may not" in text_of(await client.call_tool("refused", {}))
        assert "not transformed" in text_of(await client.call_tool("other", {}))
        with pytest.raises(McpError) as read:
            await client.read_resource("data://x")
        assert (read.value.code, read.value.message) == (
            codes.INTERNAL_ERROR,
            "The catalogue is unavailable, try later",
        )


@pytest.mark.parametrize("era", ERAS)
async def test_a_tools_exception_may_become_a_protocol_error(era: str) -> None:
    transform = ErrorTransform({Backend: "Unavailable"}, tools_as="mcp_error", code=-32050)
    async with Client(failing_server(transform), protocol=era) as client:
        with pytest.raises(McpError) as caught:
            await client.call_tool("lookup", {})
        assert (caught.value.code, caught.value.message) == (-32050, "Unavailable")


async def test_a_tool_error_from_a_layer_keeps_its_own_text() -> None:
    async def refuse(ctx: Context, params: Any, call_next: CallNext) -> Any:
        raise ToolError("over quota")

    transform = ErrorTransform({Exception: "Something went wrong"})
    async with Client(failing_server(transform, refuse)) as client:
        result = await client.call_tool("other", {})  # (the tool's error result, untransformed)
    assert result.is_error and text_of(result) == "over quota"


def test_error_transform_refuses_what_it_cannot_use() -> None:
    with pytest.raises(ValueError, match="tools_as"):
        ErrorTransform({Backend: "x"}, tools_as="tool")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="exception classes"):
        ErrorTransform({"Backend": "x"})  # type: ignore[dict-item]


def flaky_server(
    retry: RetryTools, failures: int, calls: list[str], *outside: Middleware
) -> Server:
    """Tools that fail with ConnectionError `failures` times, then answer."""
    server = Server("flaky", middleware=[*outside, retry], mask_error_details=False)

    def flaky(name: str) -> str:
        calls.append(name)
        if len(calls) <= failures:
            raise ConnectionError("backend hiccup")
        return "ok"

    @server.tool(annotations=ToolAnnotations(idempotent_hint=True))
    def read_rate() -> str:
        return flaky("read_rate")

    @server.tool()
    def charge_card() -> str:
        return flaky("charge_card")

    @server.tool()
    def named() -> str:
        return flaky("named")

    @server.tool(annotations=ToolAnnotations(idempotent_hint=True))
    def wrong() -> str:
        calls.append("wrong")
        raise ValueError("not a passing fault")

    return server


@pytest.mark.parametrize("era", ERAS)
async def test_an_idempotent_tool_is_retried_until_it_answers(era: str) -> None:
    calls: list[str] = []
    retry = RetryTools(attempts=3, backoff=0)
    async with Client(flaky_server(retry, 2, calls), protocol=era) as client:
        result = await client.call_tool("read_rate", {})
    assert not result.is_error
    assert calls == ["read_rate"] * 3


@pytest.mark.parametrize("era", ERAS)
async def test_attempts_are_bounded_and_the_last_failure_answers(era: str) -> None:
    calls: list[str] = []
    async with Client(
        flaky_server(RetryTools(attempts=2, backoff=0), 10, calls), protocol=era
    ) as c:
        result = await c.call_tool("read_rate", {})
    assert result.is_error and "backend hiccup" in text_of(result)
    assert calls == ["read_rate"] * 2


@pytest.mark.parametrize("era", ERAS)
async def test_a_tool_not_marked_idempotent_is_never_retried(era: str) -> None:
    calls: list[str] = []
    retry = RetryTools(attempts=5, backoff=0, tools=["named"])
    async with Client(flaky_server(retry, 1, calls), protocol=era) as client:
        assert (await client.call_tool("charge_card", {})).is_error
        assert not (await client.call_tool("named", {})).is_error  # named: retried
        assert (await client.call_tool("wrong", {})).is_error  # not a retried exception
    assert calls == ["charge_card", "named", "wrong"]


async def test_no_retry_starts_past_the_budget() -> None:
    calls: list[str] = []
    retry = RetryTools(attempts=5, backoff=0.5, budget=0.1)
    async with Client(flaky_server(retry, 1, calls)) as client:
        assert (await client.call_tool("read_rate", {})).is_error
    assert calls == ["read_rate"]


def test_retry_refuses_bad_bounds() -> None:
    with pytest.raises(ValueError, match="attempts"):
        RetryTools(attempts=0)
    with pytest.raises(ValueError, match="negative"):
        RetryTools(backoff=-1)


def test_retry_refuses_what_it_would_misread() -> None:
    # A name alone is an iterable of letters: it would retry tools "d", "e"... and never it.
    with pytest.raises(TypeError, match="list of names"):
        RetryTools(tools="deploy")
    # Caught with `except`, which fails only once a tool fails: refused here instead.
    with pytest.raises(TypeError, match="exception classes"):
        RetryTools(retry_on=(ConnectionError, "TimeoutError"))  # type: ignore[arg-type]


@pytest.mark.parametrize("era", ERAS)
async def test_an_error_transform_around_a_retry_transforms_the_last_failure(era: str) -> None:
    calls: list[str] = []
    transform = ErrorTransform({ConnectionError: "Rates are unavailable"})
    server = flaky_server(RetryTools(attempts=2, backoff=0), 10, calls, transform)
    async with Client(server, protocol=era) as client:
        result = await client.call_tool("read_rate", {})
    assert result.is_error and text_of(result) == "Rates are unavailable"
    assert calls == ["read_rate"] * 2
