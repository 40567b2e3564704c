"""The client's GET stream on a server that answers it late (a busy machine): the first
message after initialize waits for the GET's answer, bounded by the transport's `timeout`,
so what the server then sends outside any request is not dropped for want of a stream.

On a fake clock: the server's lateness and the client's bound are virtual seconds, so the
tests take no real time for them, and the clock jumps only after 1 s of real time with
nothing to do, so no I/O wait of a loaded machine is taken for idleness."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from _client_helpers import Receive, Scope, Send
from _serving import serving, small_server

from mcpkit import Client
from mcpkit.testing import run_with_fake_clock
from mcpkit.transports.http_client import StreamableHttpTransport

BOUND = 600.0  # virtual seconds: a bound on hangs, never a measurement


class LateGet:
    """`app`, answering each GET only `delay` seconds after it came: the server has no
    stream for the session's GET until then."""

    def __init__(self, app: Any, delay: float) -> None:
        self.app = app
        self.delay = delay

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            await asyncio.sleep(self.delay)
        await self.app(scope, receive, send)


async def connect_and_call(
    delay: float, *, news: bool = True, **transport: Any
) -> tuple[str, str | None, float]:
    """Connect to a server whose GET is answered `delay` s late and call a tool; with
    `news`, then change the server's resources: (what the call returned, the first
    notification heard, virtual seconds from connecting to the call's answer)."""
    server = small_server("late-get")
    heard: asyncio.Queue[str] = asyncio.Queue()
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(BOUND), serving(LateGet(server.http_app(), delay)) as base:
        started = loop.time()
        async with Client(
            StreamableHttpTransport(base + "/mcp", **transport),
            protocol="2025-11-25",
            on_notification=lambda method, params: heard.put_nowait(method),
        ) as client:
            result = await client.call_tool("add", {"a": 1, "b": 2})
            took = loop.time() - started
            if not news:
                return result.text, None, took
            server.add_resource(lambda: "late", "note://late")  # news outside any request
            return result.text, await heard.get(), took


def test_a_get_stream_answered_late_loses_nothing() -> None:
    """Answered 10 s late, within the client's 30 s `timeout`: the call waits for it, and
    the list_changed the server sends after the call reaches the client."""
    text, news, _ = run_with_fake_clock(connect_and_call(10.0), idle=1.0)
    assert (text, news) == ("3", "notifications/resources/list_changed")


def test_the_wait_for_the_get_stream_is_bounded_by_the_timeout(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A GET not answered within `timeout` holds the first call that long and no longer,
    the client says so, and the call is served."""
    with caplog.at_level(logging.WARNING, logger="mcpkit.client.http"):
        text, _, took = run_with_fake_clock(
            connect_and_call(100.0, news=False, timeout=20.0), idle=1.0
        )
    assert text == "3"
    assert 20.0 <= took < 100.0
    (record,) = caplog.records
    assert "did not answer the GET stream within 20 s" in record.getMessage()
