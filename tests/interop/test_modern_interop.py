"""mcpkit's client against the TypeScript SDK v2 server (npm @modelcontextprotocol/server), which
speaks the modern revision 2026-07-28 beside 2025-11-25 over stdio: "auto" picks 2026 after
`server/discover` and answers its multi round-trip elicitation; pinned to 2025-11-25 it opens a
session with initialize and the same tool asks with a server-to-client request instead."""

from __future__ import annotations

import asyncio

import pytest
from interop_harness import HERE, PEERS, SUBPROCESS_TIMEOUT, require_node

from mcpkit import Client
from mcpkit.types import ElicitRequestParams, ElicitResult

SERVER_PACKAGE = HERE / "node_modules" / "@modelcontextprotocol" / "server" / "package.json"


def ts2_server() -> list[str]:
    node = require_node()
    if not SERVER_PACKAGE.is_file():
        pytest.fail("tests/interop/node_modules lacks @modelcontextprotocol/server (npm ci)")
    return [node, str(PEERS / "ts2_server.mjs")]


asked: list[str] = []


def confirm(params: ElicitRequestParams) -> ElicitResult:
    asked.append(params.message)
    return ElicitResult(action="accept", content={"confirm": True})


@pytest.mark.parametrize(
    ("protocol", "revision"), [("auto", "2026-07-28"), ("2025-11-25", "2025-11-25")]
)
async def test_the_ts_v2_server_in_either_era(protocol: str, revision: str) -> None:
    asked.clear()
    async with asyncio.timeout(SUBPROCESS_TIMEOUT):
        async with Client(
            ts2_server(), protocol=protocol, elicitation_handler=confirm, stderr="capture"
        ) as client:
            assert client.protocol_version == revision
            assert client.server_info.name == "ts2-interop"
            assert {tool.name for tool in await client.list_tools()} == {"echo", "deploy"}
            assert (await client.call_tool("echo", {"text": "hi"})).text == "hi"
            assert (await client.call_tool("deploy", {"env": "prod"})).text == "deployed to prod"
    assert asked == ["Deploy to prod?"]
