"""The legacy HTTP+SSE fallback decision (basic/transports, "Backwards Compatibility"): an
initialize POST refused with 400, 404 or 405 makes the transport raise `LegacyFallback`, and
`Client` then speaks the older transport, `mcpkit.transports.legacy_sse_client`, sending it
the initialize it kept. That transport is replaced here by a fake that serves an in-process
server; the end-to-end test against the real one comes with it."""

from __future__ import annotations

import asyncio
import sys
import types
from collections.abc import Mapping
from typing import Any

import httpx
import pytest
from _client_helpers import Recorder, Seen, rpc_error
from _serving import WAIT, serving

from mcpkit import Client, ConnectionClosed, McpError, Server
from mcpkit.runtime.channel import MessageChannel
from mcpkit.transports.http_client import (
    LegacyFallback,
    StreamableHttpTransport,
    falls_back_to_legacy,
)
from mcpkit.transports.memory import memory_channel_pair

LEGACY = "mcpkit.transports.legacy_sse_client"


def make_server(name: str) -> Server:
    server = Server(name)

    @server.tool()
    def where() -> str:
        return name

    return server


def refusing(status: int) -> Recorder:
    def refuse(seen: Seen) -> tuple[int, bytes] | None:
        return status, rpc_error("not here")

    return Recorder(make_server("streamable").http_app(), override=refuse)


class FakeLegacy:
    """`open_legacy_sse_channel` as the brief names it, serving an in-process server."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, httpx.AsyncClient, Mapping[str, str], int]] = []
        self.tasks: list[asyncio.Task[None]] = []

    async def open_legacy_sse_channel(
        self,
        url: str,
        *,
        http_client: httpx.AsyncClient,
        headers: Mapping[str, str],
        max_message_size: int,
        auth: httpx.Auth | None = None,
    ) -> MessageChannel:
        self.calls.append((url, http_client, headers, max_message_size))
        client_end, server_end = memory_channel_pair()
        self.tasks.append(asyncio.create_task(make_server("legacy").serve(server_end)))
        return client_end


@pytest.fixture
def fake_legacy(monkeypatch: pytest.MonkeyPatch) -> FakeLegacy:
    fake = FakeLegacy()
    module = types.ModuleType(LEGACY)
    module.open_legacy_sse_channel = fake.open_legacy_sse_channel  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, LEGACY, module)
    return fake


def test_the_statuses_that_mean_an_old_server() -> None:
    assert [s for s in range(100, 600) if falls_back_to_legacy(s)] == [400, 404, 405]


@pytest.mark.parametrize("status", [400, 404, 405])
async def test_a_refused_initialize_is_signalled_with_the_body_to_replay(status: int) -> None:
    async with asyncio.timeout(WAIT), serving(refusing(status)) as base:
        transport = StreamableHttpTransport(base + "/mcp")
        transport.open()
        body = b'{"jsonrpc":"2.0","id":0,"method":"initialize","params":{}}'
        await transport.send(body)
        with pytest.raises(LegacyFallback) as info:
            await transport.receive()
        await transport.aclose()
    assert info.value.status == status and info.value.initialize_body == body
    assert "not here" in str(info.value) and f"HTTP {status}" in str(info.value)


@pytest.mark.parametrize("status", [400, 404, 405])
async def test_the_client_falls_back_and_replays_its_initialize(
    status: int, fake_legacy: FakeLegacy
) -> None:
    async with asyncio.timeout(WAIT), serving(refusing(status)) as base:
        async with Client(base + "/mcp", headers={"x-k": "v"}, max_message_size=5000) as client:
            assert client.server_info.name == "legacy"
            assert (await client.call_tool("where", {})).text == "legacy"
    ((url, http_client, headers, size),) = fake_legacy.calls
    assert url == base + "/mcp" and headers == {"x-k": "v"} and size == 5000
    assert http_client.is_closed  # the transport's own client, closed with it


@pytest.mark.parametrize("status", [401, 403, 500])
async def test_other_refusals_do_not_fall_back(status: int, fake_legacy: FakeLegacy) -> None:
    async with asyncio.timeout(WAIT), serving(refusing(status)) as base:
        with pytest.raises(McpError, match=f"HTTP {status}"):
            async with Client(base + "/mcp"):
                pass
    assert fake_legacy.calls == []


async def test_a_url_ending_in_sse_speaks_the_old_transport_at_once(
    fake_legacy: FakeLegacy,
) -> None:
    async with asyncio.timeout(WAIT), Client("http://127.0.0.1:9/sse") as client:
        assert (await client.call_tool("where", {})).text == "legacy"
    assert [c[0] for c in fake_legacy.calls] == ["http://127.0.0.1:9/sse"]


async def test_a_failed_fallback_says_both_what_was_refused_and_why_it_failed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken(url: str, **options: Any) -> MessageChannel:
        raise ConnectionClosed("no endpoint event came")

    module = types.ModuleType(LEGACY)
    module.open_legacy_sse_channel = broken  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, LEGACY, module)
    async with asyncio.timeout(WAIT), serving(refusing(405)) as base:
        with pytest.raises(ConnectionClosed, match=r"HTTP 405 .*failed too: no endpoint event"):
            async with Client(base + "/mcp"):
                pass
