"""A FastMCP 4 server (PyPI `fastmcp`, the real one) in an `mcpServers` config: its tools'
tags, sent in FastMCP's own `_meta.fastmcp`, pick what `include_tags` and `exclude_tags`
show, and a config's `tools` derives one of its tools, through `Client` in both eras
(docs/compose.md, "Servers from an mcpServers config")."""

from __future__ import annotations

import asyncio
import sys

import pytest
from interop_harness import PEERS

from mcpkit import Client, McpError
from mcpkit.proxy import from_config

SERVER = [str(PEERS / "fastmcp_tagged_server.py")]
WAIT = 60  # seconds: FastMCP imports a lot before it answers


# Four FastMCP processes start (two together, then two one after the other), each in ~2 s on
# a quiet machine and ~9 s on a busy one: the suite's default bound of 30 s is too short for
# the test's own deadline.
@pytest.mark.mcpkit_timeout(WAIT * 2 + 10)
@pytest.mark.parametrize("protocol", ["2025-11-25", "2026-07-28"])
async def test_a_fastmcp_servers_tags_pick_what_the_config_shows(protocol: str) -> None:
    upstream = {"command": sys.executable, "args": SERVER}
    config = {
        "mcpServers": {
            "picked": {**upstream, "include_tags": ["safe"], "exclude_tags": ["admin"]},
            "shaped": {
                **upstream,
                "tools": {"read": {"name": "open_file", "arguments": {"path": {"name": "file"}}}},
            },
        }
    }
    server = from_config(config, connect_timeout=WAIT)
    async with asyncio.timeout(WAIT * 2), Client(server, protocol=protocol) as client:
        names = sorted(tool.name for tool in await client.list_tools())
        assert names == ["open_file", "picked_read", "shaped_plain", "shaped_write"]
        listed = server.tools.get("picked_read")
        assert listed is not None and (listed.tags, listed.version) == (frozenset({"safe"}), "2")
        assert (await client.call_tool("picked_read", {"path": "a"})).text == "read a"
        assert (await client.call_tool("open_file", {"file": "b"})).text == "read b"
        with pytest.raises(McpError, match="Unknown tool"):  # excluded: as an unknown one
            await client.call_tool("picked_write", {"path": "c"})
