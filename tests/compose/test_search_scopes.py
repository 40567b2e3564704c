"""Tool search on a protected server over Streamable HTTP, through `Client`, in both eras: a
caller finds, and the call tool calls, only the tools its token's scopes let it list."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "auth"))

from _resource_helpers import ADMIN, ALICE, scoped_server
from _serving import WAIT, serving

from mcpkit import Client

ERAS = ["2025-11-25", "2026-07-28"]


@pytest.mark.parametrize("era", ERAS)
async def test_a_token_without_a_tools_scopes_neither_finds_nor_calls_it(era: str) -> None:
    server, _ = scoped_server()
    server.add_tool_search(pinned=["whoami", "deploy"])
    async with asyncio.timeout(WAIT), serving(server.http_app()) as base:
        url = base + "/mcp"
        headers = {"authorization": f"Bearer {ALICE}"}
        async with Client(url, headers=headers, protocol=era) as alice:
            listed = [tool.name for tool in await alice.list_tools()]
            assert listed == ["whoami", "search_tools", "call_tool"]  # deploy: pinned, unseen
            found = await alice.call_tool("search_tools", {"query": "deploy admin"})
            assert found.structured_content == {"tools": []}
            refused = await alice.call_tool("call_tool", {"name": "deploy"})
            assert refused.is_error
            assert "Unknown tool: 'deploy'" in refused.content[0].text  # type: ignore[union-attr]
        async with Client(url, headers={"authorization": f"Bearer {ADMIN}"}, protocol=era) as admin:
            listed = [tool.name for tool in await admin.list_tools()]
            assert listed == ["whoami", "deploy", "search_tools", "call_tool"]
            found = await admin.call_tool("search_tools", {"query": "deploy"})
            assert [t["name"] for t in found.structured_content["tools"]] == ["deploy"]  # type: ignore[index]
            called = await admin.call_tool("call_tool", {"name": "deploy"})
            assert called.content[0].text == "deployed"  # type: ignore[union-attr]
