"""Bedrock AgentCore Runtime's MCP contract (docs/deploy.md, "Bedrock AgentCore"): the server
at 0.0.0.0:8000/mcp, and requests carrying the session headers the platform adds
(`Mcp-Session-Id`, made up by the platform when the client sent none, and
`X-Amzn-Bedrock-AgentCore-Runtime-Session-Id`) served, not refused."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx

from mcpkit import Server
from mcpkit.server.serving.transport_serving import TransportServing
from mcpkit.transports.deployment.app import McpHttpApp

WAIT = 10.0  # seconds: a bound on hangs, not a measurement
ACCEPT = "application/json, text/event-stream"
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "agent", "version": "1"},
    },
}
META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {},
}


def platform_headers() -> dict[str, str]:
    """What AgentCore adds to a request that came without a session id."""
    made_up = str(uuid.uuid4())
    return {"mcp-session-id": made_up, "x-amzn-bedrock-agentcore-runtime-session-id": made_up}


def make_server() -> Server:
    server = Server("on-agentcore")

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    return server


@contextlib.asynccontextmanager
async def client_of(app: McpHttpApp) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        app.lifespan(),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app), base_url="http://127.0.0.1:8000"
        ) as client,
    ):
        yield client


def last_message(response: httpx.Response) -> Any:
    if response.headers["content-type"].startswith("text/event-stream"):
        data = [line[5:] for line in response.text.splitlines() if line.startswith("data:")]
        return json.loads(data[-1])
    return response.json()


def test_the_defaults_are_agentcores_port_and_path() -> None:
    run = inspect.signature(TransportServing.run).parameters
    assert (run["port"].default, run["path"].default) == (8000, "/mcp")
    assert inspect.signature(McpHttpApp.__init__).parameters["path"].default == "/mcp"


async def test_a_2026_call_with_the_platforms_session_headers_is_served() -> None:
    """A 2026-07-28 request carries its own terms: the session id beside it is ignored, on a
    server with sessions and on a stateless one alike."""
    call = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "add", "arguments": {"a": 2, "b": 3}, "_meta": META},
    }
    headers = {
        "accept": ACCEPT,
        "mcp-protocol-version": "2026-07-28",
        "mcp-method": "tools/call",
        "mcp-name": "add",
        **platform_headers(),
    }
    for stateless in (False, True):
        app = make_server().http_app(bind_host="0.0.0.0", stateless=stateless)
        async with asyncio.timeout(WAIT), client_of(app) as client:
            response = await client.post("/mcp", json=call, headers=headers)
        assert response.status_code == 200, (stateless, response.text)
        assert last_message(response)["result"]["structuredContent"] == {"result": 5}


async def test_a_2025_client_on_a_stateless_server_keeps_the_platforms_id() -> None:
    """`mcpkit run --stateless`: the made-up id on initialize and on each later request is
    no session of ours and is not refused; each request is served on its own."""
    app = make_server().http_app(bind_host="0.0.0.0", stateless=True)
    headers = {"accept": ACCEPT, **platform_headers()}
    async with asyncio.timeout(WAIT), client_of(app) as client:
        opened = await client.post("/mcp", json=INITIALIZE, headers=headers)
        assert opened.status_code == 200, opened.text
        assert last_message(opened)["result"]["protocolVersion"] == "2025-11-25"
        headers["mcp-protocol-version"] = "2025-11-25"
        call = {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "add", "arguments": {"a": 1, "b": 1}},
        }
        called = await client.post("/mcp", json=call, headers=headers)
    assert called.status_code == 200, called.text
    assert last_message(called)["result"]["structuredContent"] == {"result": 2}


async def test_a_2025_initialize_with_a_made_up_id_is_404_on_a_server_with_sessions() -> None:
    """Why the recipe says --stateless if a runtime adds its own id to `initialize`: a server
    with sessions knows no session by it, and answers 404 (the spec's 'start a new
    session'), as the official SDK does."""
    app = make_server().http_app(bind_host="0.0.0.0")
    headers = {"accept": ACCEPT, **platform_headers()}
    async with asyncio.timeout(WAIT), client_of(app) as client:
        response = await client.post("/mcp", json=INITIALIZE, headers=headers)
    assert response.status_code == 404


async def test_a_2025_session_on_a_server_with_sessions_carries_the_platforms_header() -> None:
    """AWS's stateful mode: `initialize` comes without an id, the server's id goes back, and
    later requests carry it beside the platform's runtime session header."""
    app = make_server().http_app(bind_host="0.0.0.0")
    runtime = {"x-amzn-bedrock-agentcore-runtime-session-id": str(uuid.uuid4())}
    async with asyncio.timeout(WAIT), client_of(app) as client:
        opened = await client.post("/mcp", json=INITIALIZE, headers={"accept": ACCEPT, **runtime})
        assert opened.status_code == 200, opened.text
        session = opened.headers["mcp-session-id"]
        headers = {
            "accept": ACCEPT,
            "mcp-session-id": session,
            "mcp-protocol-version": "2025-11-25",
            **runtime,
        }
        initialized = {"jsonrpc": "2.0", "method": "notifications/initialized"}
        assert (await client.post("/mcp", json=initialized, headers=headers)).status_code == 202
        call = {
            "jsonrpc": "2.0",
            "id": 2,
            "method": "tools/call",
            "params": {"name": "add", "arguments": {"a": 4, "b": 5}},
        }
        called = await client.post("/mcp", json=call, headers=headers)
    assert called.status_code == 200, called.text
    assert last_message(called)["result"]["structuredContent"] == {"result": 9}
