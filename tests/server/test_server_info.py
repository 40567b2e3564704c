"""The `serverInfo` a server sends, in both eras."""

from __future__ import annotations

import pytest

import mcpkit
from mcpkit import Client, Server


@pytest.mark.parametrize("protocol", ["2025-11-25", "2026-07-28"])
async def test_a_server_without_a_version_sends_mcpkits(protocol: str) -> None:
    """Not a made-up `0.0.0`: what the official SDK and FastMCP do, each with its own."""
    async with Client(Server("demo"), protocol=protocol) as client:
        assert client.server_info.version == mcpkit.__version__
    async with Client(Server("demo", "2.1.0"), protocol=protocol) as client:
        assert client.server_info.version == "2.1.0"
