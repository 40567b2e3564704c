"""Legacy HTTP+SSE (2024-11-05) between mcpkit and the official SDKs, served by uvicorn on
127.0.0.1 in the test: the Python SDK's `sse_client` and the TypeScript SDK's
`SSEClientTransport` against mcpkit's legacy server, and mcpkit's legacy client against the
Python SDK's `MCPServer.sse_app()`; tools and progress."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from _processes import finished
from mcp import Client as OfficialClient
from mcp.client.sse import sse_client
from mcp.server.mcpserver import Context as OfficialContext
from mcp.server.mcpserver import MCPServer

from mcpkit import Client, Server
from mcpkit.transports.legacy_sse.endpoint import LegacySse

# The HTTP tests' helpers: uvicorn on an ephemeral port, and the relay that runs mcpkit's
# Client over any channel without connect.py.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))
from _serving import WAIT, serving, small_server
from interop_harness import PEERS, SUBPROCESS_TIMEOUT, require_node


def mcpkit_server() -> Server:
    return small_server("mcpkit-legacy")


def official_server() -> MCPServer:
    server = MCPServer("official-legacy", version="1.0.0")

    @server.tool()
    async def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    @server.tool()
    async def slow(steps: int, ctx: OfficialContext) -> str:
        """Report one progress step per unit of work, then finish."""
        for i in range(steps):
            await ctx.report_progress(i + 1, total=steps)
        return "done"

    return server


async def test_the_official_legacy_client_uses_mcpkits_legacy_server() -> None:
    server = mcpkit_server()
    app = server.http_app()
    assert app.legacy is not None
    seen: list[float] = []
    all_seen = asyncio.Event()

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(progress)
        if len(seen) == 3:
            all_seen.set()

    async with asyncio.timeout(WAIT), serving(app) as base:
        async with OfficialClient(sse_client(base + "/sse")) as client:
            assert client.server_info is not None and client.server_info.name == "mcpkit-legacy"
            names = sorted(tool.name for tool in (await client.list_tools()).tools)
            assert names == ["add", "slow"]
            added = await client.call_tool("add", {"a": 2, "b": 3})
            assert added.structured_content == {"result": 5}
            result = await client.call_tool("slow", {"steps": 3}, progress_callback=on_progress)
            assert result.content[0].text == "3 steps"  # type: ignore[union-attr]
            # The SDK runs progress callbacks as tasks: the last may still be queued.
            await asyncio.wait_for(all_seen.wait(), WAIT)
            assert len(app.legacy.sessions) == 1
        tasks = {session.task for _, session in app.legacy.sessions.items()}
        if tasks:  # the SDK closed its GET: the server frees the session when it notices
            await asyncio.wait(tasks, timeout=WAIT)
        assert len(app.legacy.sessions) == 0 and len(server.sessions) == 0
    assert sorted(seen) == [1, 2, 3]


async def test_mcpkits_legacy_client_uses_the_official_legacy_server() -> None:
    app = official_server().sse_app()
    seen: list[tuple[float, float | None]] = []

    def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total))

    async with asyncio.timeout(WAIT), serving(app) as base:
        async with Client(base + "/sse") as client:  # a URL ending in /sse: legacy at once
            assert client.server_info.name == "official-legacy"
            assert client.protocol_version == "2025-11-25"
            assert sorted(t.name for t in await client.list_tools()) == ["add", "slow"]
            added = await client.call_tool("add", {"a": 2, "b": 3})
            assert added.structured_content == {"result": 5}
            done = await client.call_tool("slow", {"steps": 3}, progress=on_progress)
            assert done.content[0].text == "done"  # type: ignore[union-attr]
            await client.ping()
    assert seen == [(1, 3), (2, 3), (3, 3)]


async def test_mcpkits_legacy_client_asks_the_official_server_for_2024_11_05() -> None:
    app = official_server().sse_app()
    async with asyncio.timeout(WAIT), serving(app) as base:
        async with Client(base + "/sse", protocol_version="2024-11-05") as client:
            assert client.protocol_version == "2024-11-05"
            added = await client.call_tool("add", {"a": 1, "b": 2})
            assert added.content[0].text == "3"  # type: ignore[union-attr]


async def test_mcpkits_client_falls_back_to_the_official_legacy_server() -> None:
    """basic/transports, "Backwards Compatibility": the POST of initialize to an old server's
    URL gets 405 (404 or 400 from others), and the client opens the legacy stream there."""
    app = official_server().sse_app(sse_path="/events")
    async with asyncio.timeout(WAIT), serving(app) as base:
        async with Client(base + "/events") as client:
            assert client.server_info.name == "official-legacy"
            added = await client.call_tool("add", {"a": 2, "b": 2})
            assert added.structured_content == {"result": 4}


async def test_mcpkits_client_falls_back_to_mcpkits_legacy_endpoint() -> None:
    server = mcpkit_server()
    app = server.http_app(legacy_sse=LegacySse(sse_path="/events"))
    async with asyncio.timeout(WAIT), serving(app) as base:
        legacy = app.legacy
        assert legacy is not None
        async with Client(base + "/events") as client:
            added = await client.call_tool("add", {"a": 1, "b": 1})
            assert added.structured_content == {"result": 2}
            assert len(legacy.sessions) == 1 and len(app.sessions) == 0
            tasks = {session.task for _, session in legacy.sessions.items()}
        # The client closed its stream: the session ends with it.
        await asyncio.wait(tasks, timeout=WAIT)
        assert len(legacy.sessions) == 0 and len(server.sessions) == 0


async def test_the_typescript_sdks_sse_client_uses_mcpkits_legacy_server() -> None:
    node = require_node()
    server = mcpkit_server()
    app = server.http_app()
    async with asyncio.timeout(SUBPROCESS_TIMEOUT), serving(app) as base:
        peer = await asyncio.create_subprocess_exec(
            node,
            str(PEERS / "legacy_ts_client.mjs"),
            base + "/sse",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await finished(peer)
        assert peer.returncode == 0, err.decode()
        tasks = (
            {session.task for _, session in app.legacy.sessions.items()} if app.legacy else set()
        )
        if tasks:  # the peer closed its stream: the server frees the session when it notices
            await asyncio.wait(tasks, timeout=WAIT)
        assert len(server.sessions) == 0
    summary = json.loads(out.decode().strip().splitlines()[-1])
    assert summary["server_name"] == "mcpkit-legacy"
    assert summary["protocol_version"] == "2025-11-25"
    assert summary["tools"] == ["add", "slow"]
    assert summary["add"] == {"structured": {"result": 5}, "text": "5"}
    assert summary["slow"]["text"] == "3 steps"
    # The SDK's onprogress can miss progress read together with the response (see
    # peers/ts_client.mjs): those that came, came in order.
    progress = summary["slow"]["progress"]
    assert progress == sorted(progress) and all(total == 3 for _, total in progress)
    assert summary["ping"] is True
