"""The mcpkit client against the official SDKs' Streamable HTTP servers: the Python SDK's
MCPServer app served by uvicorn in the test (SSE answers with an event store and a stream
the server closes mid-call, and JSON answers), and the TypeScript SDK's server in a node
peer. Tools, progress, and sampling and elicitation answered on a POST of their own."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from interop_harness import PEERS, require_node, require_python_sdk

from mcpkit import Client
from mcpkit.transports.http_client import StreamableHttpTransport
from mcpkit.types import CreateMessageResult, ElicitResult, TextContent

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))  # the HTTP tests' helpers
from _serving import WAIT, serving


def official_app(json_response: bool) -> Any:
    require_python_sdk()
    sys.path.insert(0, str(PEERS))
    from http_official_server import make_app

    return make_app(json_response)


def sample(params: Any) -> CreateMessageResult:
    text = params.messages[0].content.text
    return CreateMessageResult(role="assistant", content=TextContent(text=text[::-1]), model="m")


def elicit(params: Any) -> ElicitResult:
    return ElicitResult(action="accept", content={"name": "Ada"})


async def use_server(url: str, *, resumable: bool) -> dict[str, Any]:
    seen: list[float] = []
    transport = StreamableHttpTransport(url, reconnect_delay=0.05)
    # The legacy era, whose server-to-client requests this server's tools use.
    async with Client(
        transport, sampling_handler=sample, elicitation_handler=elicit, protocol="2025-11-25"
    ) as client:
        found: dict[str, Any] = {"server": client.server_info.name}
        found["version"] = client.protocol_version
        found["tools"] = sorted(t.name for t in await client.list_tools())
        found["add"] = (await client.call_tool("add", {"a": 2, "b": 3})).structured_content
        slow = await client.call_tool("slow", {"steps": 3}, progress=lambda p, t, m: seen.append(p))
        found["slow"] = (slow.text, list(seen))
        if resumable:  # JSON answers leave the official server no way to ask the client
            found["ask_llm"] = (await client.call_tool("ask_llm", {"question": "abc"})).text
            found["ask_name"] = (await client.call_tool("ask_name", {})).text
            seen.clear()
            poll = await client.call_tool("poll", {}, progress=lambda p, t, m: seen.append(p))
            found["poll"] = (poll.text, list(seen))
        found["session"] = transport.session_id is not None
    return found


# Sampling and elicitation are deprecated by the 2026-07-28 revision; the server speaks
# 2025-11-25 with us, where they are current.
@pytest.mark.filterwarnings("ignore::mcp.shared.exceptions.MCPDeprecationWarning")
@pytest.mark.parametrize("json_response", [False, True], ids=["sse-event-store", "json"])
async def test_the_mcpkit_client_uses_the_official_python_server(json_response: bool) -> None:
    app = official_app(json_response)
    async with asyncio.timeout(WAIT * 2), serving(app) as base:
        found = await use_server(base + "/mcp", resumable=not json_response)
    assert found["server"] == "official-http" and found["version"] == "2025-11-25"
    assert found["tools"] == ["add", "ask_llm", "ask_name", "poll", "slow"]
    assert found["add"] == {"result": 5}
    assert found["slow"][0] == "3 steps"
    assert found["session"]
    if json_response:
        assert found["slow"][1] == []  # the SDK drops progress when it answers with JSON
    else:
        assert found["slow"][1] == [1, 2, 3]
        assert found["ask_llm"] == "cba"
        assert found["ask_name"] == "accept:name='Ada'"
        assert found["poll"] == ("resumed", [1, 2])


async def test_the_mcpkit_client_uses_the_typescript_server() -> None:
    node = require_node()
    process = await asyncio.create_subprocess_exec(
        node,
        str(PEERS / "http_ts_server.mjs"),
        stdout=subprocess.PIPE,  # its stderr is ours: a failure shows there
    )
    try:
        assert process.stdout is not None
        async with asyncio.timeout(WAIT * 2):
            line = await process.stdout.readline()
            port = json.loads(line)["port"]
            found = await use_server(f"http://127.0.0.1:{port}/mcp", resumable=True)
    finally:
        process.terminate()
        await process.wait()
    assert found["server"] == "ts-http" and found["version"] == "2025-11-25"
    assert found["tools"] == ["add", "ask_llm", "ask_name", "poll", "slow"]
    assert found["add"] == {"result": 5}
    assert found["slow"] == ("3 steps", [1, 2, 3])
    assert found["ask_llm"] == "cba"
    assert found["ask_name"] == "accept:Ada"
    assert found["poll"] == ("resumed", [1, 2])
