"""KeepAlive (mcpkit.server): quiet 2025-era sessions are pinged, a client that stops
answering is ended after its misses, and a 2026-07-28 client has nothing to keep."""

from __future__ import annotations

import asyncio
import itertools
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from mcpkit import Client, Server
from mcpkit.errors import ConnectionClosed
from mcpkit.server import KeepAlive, ServerSessionHandle
from mcpkit.server.serving.keepalive import _listening  # pyright: ignore[reportPrivateUsage]
from mcpkit.testing import raw_session
from mcpkit.transports.http.streams import HttpChannel

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))
from _serving import serving


def make_server(keepalive: KeepAlive) -> Server:
    server = Server("kept", middleware=[keepalive])

    @server.tool()
    def add(a: int, b: int) -> int:
        return a + b

    return server


async def next_ping(peer: Any) -> dict[str, Any]:
    while True:
        message: dict[str, Any] = await peer.receive()
        if message.get("method") == "ping":
            return message


async def test_a_quiet_session_is_pinged_and_stays_while_it_answers() -> None:
    ticks, quiet = itertools.count(), asyncio.Event()

    def clock() -> float:  # still until `quiet`, then a long time passes between readings
        return next(ticks) * 100.0 if quiet.is_set() else 0.0

    keepalive = KeepAlive(0.01, timeout=5.0, clock=clock)
    async with raw_session(make_server(keepalive)) as peer:
        assert "result" in await peer.request("tools/list")
        assert keepalive.sent == 0  # never quiet yet: nothing sent
        quiet.set()
        async with asyncio.timeout(5):
            for _ in range(3):
                ping = await next_ping(peer)
                await peer.send({"jsonrpc": "2.0", "id": ping["id"], "result": {}})
        call = {"name": "add", "arguments": {"a": 1, "b": 2}}
        assert "result" in await peer.request("tools/call", call)
    assert keepalive.answered >= 2


async def test_a_client_that_stops_answering_is_ended_after_its_misses() -> None:
    keepalive = KeepAlive(0.01, timeout=0.01, misses=2)
    async with raw_session(make_server(keepalive)) as peer:
        pings = 0
        with pytest.raises(ConnectionClosed):
            async with asyncio.timeout(5):
                while True:
                    await next_ping(peer)  # never answered
                    pings += 1
        assert pings == 2


async def test_a_real_client_answers_the_pings() -> None:
    keepalive = KeepAlive(0.01, timeout=5.0, misses=1)
    async with Client(make_server(keepalive), protocol="2025-11-25") as client:
        async with asyncio.timeout(5):
            while keepalive.answered < 2:  # (each ping wakes this loop's client task)
                await asyncio.sleep(0.01)
        assert (await client.call_tool("add", {"a": 1, "b": 2})).structured_content == {"result": 3}
    assert keepalive.sent >= keepalive.answered >= 2


async def test_over_http_the_pings_go_on_the_get_stream() -> None:
    keepalive = KeepAlive(0.01, timeout=5.0, misses=1)
    async with serving(make_server(keepalive).http_app()) as base:
        async with Client(f"{base}/mcp", protocol="2025-11-25") as client:
            await client.call_tool("add", {"a": 1, "b": 2})  # (the GET stream is open by now)
            async with asyncio.timeout(10):
                while keepalive.answered < 2:
                    await asyncio.sleep(0.01)
            result = await client.call_tool("add", {"a": 2, "b": 2})
            assert result.structured_content == {"result": 4}


async def test_a_2026_client_has_no_session_to_keep() -> None:
    keepalive = KeepAlive(0.01)
    async with Client(make_server(keepalive), protocol="2026-07-28") as client:
        await client.call_tool("add", {"a": 1, "b": 2})
        assert keepalive.watched == 0


def test_an_http_session_is_pinged_only_while_its_get_stream_is_open() -> None:
    session = cast(
        "ServerSessionHandle", SimpleNamespace(connection=SimpleNamespace(channel=HttpChannel()))
    )
    assert not _listening(session)


def test_keepalive_refuses_bad_settings() -> None:
    with pytest.raises(ValueError, match="positive"):
        KeepAlive(0)
    with pytest.raises(ValueError, match="misses"):
        KeepAlive(1, misses=0)
