"""The official Python SDK's Streamable HTTP client against mcpkit's HTTP server, served by
uvicorn: the handshake, tools with structured output, and progress on a call's own stream."""

from __future__ import annotations

import asyncio

import pytest
from _serving import WAIT, serving, small_server
from mcp import Client as OfficialClient

from mcpkit import Server


def make_server() -> Server:
    return small_server("mcpkit-http")


@pytest.mark.parametrize(
    ("mode", "revision"),
    [("auto", "2026-07-28"), ("legacy", "2025-11-25"), ("2026-07-28", "2026-07-28")],
)
async def test_the_official_client_calls_tools_with_progress(mode: str, revision: str) -> None:
    # Its default probes server/discover and speaks 2026-07-28; "legacy" pins the handshake.
    server = make_server()
    app = server.http_app()
    seen: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(progress)

    async with asyncio.timeout(WAIT), serving(app) as base:
        async with OfficialClient(base + "/mcp", mode=mode) as client:
            if mode != revision:  # (pinned, it sends no server/discover to learn our name)
                assert client.server_info is not None
                assert client.server_info.name == "mcpkit-http"
            assert client.protocol_version == revision
            names = sorted(tool.name for tool in (await client.list_tools()).tools)
            assert names == ["add", "slow"]
            added = await client.call_tool("add", {"a": 2, "b": 3})
            assert added.structured_content == {"result": 5}
            result = await client.call_tool("slow", {"steps": 3}, progress_callback=on_progress)
            assert result.content[0].text == "3 steps"  # type: ignore[union-attr]
        assert len(app.sessions) == 0  # none under 2026; the 2025 client's DELETE ended its own
    # The SDK runs progress callbacks as tasks; those it ran came in order.
    assert seen == sorted(seen) and set(seen) <= {1, 2, 3}
