"""`on_initialize` and `on_discover` over Streamable HTTP: the session opened by an initialize
that middleware answers is kept, one refused is told why, and a 2026-07-28 POST's
server/discover goes through the hook as an in-memory one does."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
from test_handshake_hooks import Greeter, make_server

from mcpkit import Client
from mcpkit.errors import McpError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))
from _serving import serving


async def test_an_http_session_opened_through_on_initialize_is_kept() -> None:
    async with serving(make_server(Greeter()).http_app()) as base:
        async with Client(f"{base}/mcp", protocol="2025-11-25") as client:
            assert client.instructions == f"hello {client.client_info.name}"
            result = await client.call_tool("add", {"a": 1, "b": 2})
            assert result.structured_content == {"result": 3}


async def test_an_http_initialize_refused_by_on_initialize_is_told_why() -> None:
    async with serving(make_server(Greeter()).http_app()) as base:
        with pytest.raises(McpError, match="not you"):
            async with asyncio.timeout(10):
                async with Client(f"{base}/mcp", protocol="2025-11-25", name="intruder"):
                    pass


async def test_an_http_2026_discover_goes_through_on_discover() -> None:
    async with serving(make_server(Greeter()).http_app()) as base:
        async with Client(f"{base}/mcp", protocol="2026-07-28") as client:
            assert client.instructions == "discovered"
            result = await client.call_tool("add", {"a": 1, "b": 2})
            assert result.structured_content == {"result": 3}


async def test_a_stateless_http_initialize_goes_through_on_initialize() -> None:
    async with serving(make_server(Greeter()).http_app(stateless=True)) as base:
        async with Client(f"{base}/mcp", protocol="2025-11-25") as client:
            assert client.instructions == f"hello {client.client_info.name}"
            result = await client.call_tool("add", {"a": 1, "b": 2})
            assert result.structured_content == {"result": 3}
        with pytest.raises(McpError, match="not you"):
            async with asyncio.timeout(10):
                async with Client(f"{base}/mcp", protocol="2025-11-25", name="intruder"):
                    pass
