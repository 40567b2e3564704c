"""What the server logs when a handler fails: an expected refusal (a ToolError, elicitation
asked of a client that cannot be asked) is one WARNING line with no traceback; an unexpected
exception in the application's code is one ERROR record whose traceback shows the
application's frames, none of mcpkit's above or between them."""

from __future__ import annotations

import asyncio
import logging
import os
import traceback
from typing import Any

import pytest
from _serving import WAIT, serving

import mcpkit
from mcpkit import Client, Context, InvalidUrl, Server, ToolError
from mcpkit.runtime.handler_failure import user_traceback
from mcpkit.runtime.workers import call_handler
from mcpkit.transports.endpoint_url import check_endpoint_url

MCPKIT_DIR = os.path.dirname(mcpkit.__file__) + os.sep
FORM = {"type": "object", "properties": {"name": {"type": "string"}}}


def _fail_deeply() -> str:
    raise ValueError("the disk is full")


def make_server(**options: Any) -> Server:
    server = Server("logs", **options)

    @server.tool()
    async def ask(ctx: Context) -> str:
        """Asks the person for a name."""
        answer = await ctx.elicit("Your name?", FORM)
        return answer.action

    @server.tool()
    def crash() -> str:
        """Fails in a helper of the application's."""
        return _fail_deeply()

    @server.tool()
    async def crash_async() -> str:
        """The same, from a coroutine."""
        return _fail_deeply()

    @server.resource("memo://refused")
    def refused() -> str:
        raise ToolError("this memo is private")

    @server.prompt()
    def broken() -> str:
        return _fail_deeply()

    return server


async def _decline(params: Any) -> dict[str, str]:
    return {"action": "decline"}


def _records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith("mcpkit") and r.levelno >= 30]


def _only_warning(caplog: pytest.LogCaptureFixture, says: str) -> None:
    (record,) = _records(caplog)
    assert record.levelno == logging.WARNING, record.getMessage()
    assert record.exc_info is None and "\n" not in record.getMessage()
    assert says in record.getMessage(), record.getMessage()


@pytest.mark.parametrize(
    ("client_options", "says"),
    [
        ({"protocol": "2025-11-25"}, "did not declare the 'elicitation' capability"),
        (
            {"protocol_version": "2024-11-05", "elicitation_handler": _decline},
            "not a request in revision 2024-11-05",
        ),
    ],
)
async def test_elicitation_a_client_cannot_answer_is_one_warning(
    caplog: pytest.LogCaptureFixture, client_options: dict[str, Any], says: str
) -> None:
    caplog.set_level(logging.INFO)
    async with asyncio.timeout(WAIT), Client(make_server(), **client_options) as client:
        result = await client.call_tool("ask", {})
    assert result.is_error and says in result.text
    _only_warning(caplog, "tool 'ask': LocalProtocolError: ")


async def test_elicitation_on_a_stateless_server_is_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    app = make_server().http_app(stateless=True)
    async with asyncio.timeout(WAIT), serving(app) as base:
        async with Client(
            base + "/mcp", protocol="2025-11-25", elicitation_handler=_decline
        ) as client:
            result = await client.call_tool("ask", {})
    assert result.is_error and "serves stateless HTTP" in result.text
    _only_warning(caplog, "tool 'ask': LocalProtocolError: cannot send elicitation/create")


@pytest.mark.parametrize("protocol", ["2025-11-25", "2026-07-28"])
async def test_a_tool_error_outside_a_tool_is_one_warning(
    caplog: pytest.LogCaptureFixture, protocol: str
) -> None:
    caplog.set_level(logging.INFO)
    async with asyncio.timeout(WAIT), Client(make_server(), protocol=protocol) as client:
        with pytest.raises(mcpkit.PeerError, match="this memo is private"):
            await client.read_resource("memo://refused")
    _only_warning(caplog, "handler for resources/read: ToolError: this memo is private")


def _traceback_of(record: logging.LogRecord) -> str:
    assert record.exc_info is not None
    return logging.Formatter().formatException(record.exc_info)


@pytest.mark.parametrize("tool", ["crash", "crash_async"])
@pytest.mark.parametrize("masked", [False, True])
async def test_an_unexpected_exception_keeps_only_the_applications_frames(
    caplog: pytest.LogCaptureFixture, tool: str, masked: bool
) -> None:
    caplog.set_level(logging.INFO)
    server = make_server(mask_error_details=masked)
    async with asyncio.timeout(WAIT), Client(server, protocol="2025-11-25") as client:
        result = await client.call_tool(tool, {})
    assert result.is_error
    (record,) = _records(caplog)
    assert record.levelno == logging.ERROR and record.getMessage() == f"tool {tool!r} failed"
    shown = _traceback_of(record)
    assert f"in {tool}\n" in shown and "in _fail_deeply\n" in shown, shown
    assert shown.rstrip().endswith("ValueError: the disk is full"), shown
    assert MCPKIT_DIR not in shown, shown  # not one frame of ours, above or between


@pytest.mark.parametrize("protocol", ["2025-11-25", "2026-07-28"])
@pytest.mark.parametrize("masked", [False, True])
async def test_a_failing_prompt_is_logged_with_the_applications_frames(
    caplog: pytest.LogCaptureFixture, protocol: str, masked: bool
) -> None:
    caplog.set_level(logging.INFO)
    server = make_server(mask_error_details=masked)
    async with asyncio.timeout(WAIT), Client(server, protocol=protocol) as client:
        with pytest.raises(mcpkit.PeerError):
            await client.get_prompt("broken", {})
    (record,) = _records(caplog)
    assert record.levelno == logging.ERROR, record.getMessage()
    shown = _traceback_of(record)
    assert "in broken\n" in shown and "in _fail_deeply\n" in shown, shown
    assert MCPKIT_DIR not in shown, shown


async def test_mcpkit_frames_between_go_and_those_below_the_application_stay() -> None:
    """The application called mcpkit wrongly: where mcpkit raised, below its frames, is kept;
    mcpkit's frames that called the application are not."""

    def application() -> None:
        check_endpoint_url("http://[::1")

    try:
        await call_handler(application, (), {}, is_async=False, in_thread=False)
    except InvalidUrl as exc:
        caught = exc
    names = [frame.name for frame in traceback.extract_tb(user_traceback(caught.__traceback__))]
    assert names[:2] == [
        "test_mcpkit_frames_between_go_and_those_below_the_application_stay",
        "application",
    ]
    assert "call_handler" not in names and "check_endpoint_url" in names, names
    assert caught.__traceback__ is not None  # the exception itself is left as it was
    assert "call_handler" in [f.name for f in traceback.extract_tb(caught.__traceback__)]
