"""`Client(url, auth=OAuth(...))` against a real mcpkit server behind a bearer-token gate, over
real HTTP on 127.0.0.1: the flow runs on the first 401, and every request afterwards (POST, the
GET stream, DELETE; the legacy SSE GET and POSTs) carries the token (spec: basic/authorization,
"Token Requirements": authorization in every HTTP request)."""

from __future__ import annotations

import asyncio

import httpx
import msgspec
import pytest
from _client_gate import Gate
from _client_world import ISSUER, World, mock_client
from _serving import WAIT, serving

from mcpkit import Client, ConnectionClosed, Server
from mcpkit.auth.client import HeadlessRedirect, OAuth
from mcpkit.transports.legacy_sse_client import open_legacy_sse_channel


def make_server() -> Server:
    server = Server("protected")

    @server.tool()
    def add(a: int, b: int) -> int:
        """Adds two numbers."""
        return a + b

    return server


def oauth_for(world: World, **options: object) -> OAuth:
    # The authorization server is the fake one; only the MCP server is real.
    http = mock_client(world)
    return OAuth(HeadlessRedirect(http_client=http), http_client=http, **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("era", ["2025-11-25", "2026-07-28"])
async def test_every_streamable_http_request_carries_the_token(era: str) -> None:
    session = era == "2025-11-25"  # (GET stream and DELETE: a session's; 2026 only POSTs)
    gate = Gate(make_server().http_app())
    async with serving(gate) as base:
        gate.world = world = World(mcp=f"{base}/mcp")
        async with asyncio.timeout(WAIT):
            async with Client(f"{base}/mcp", auth=oauth_for(world), protocol=era) as client:
                assert client.protocol_version == era
                result = await client.call_tool("add", {"a": 2, "b": 3})
                assert result.structured_content == {"result": 5}
                if session:
                    await asyncio.wait_for(gate.arrived("GET").wait(), WAIT)
    assert gate.seen[0] == ("POST", "/mcp", None)  # the first try, answered 401
    later = gate.seen[1:]
    assert {m for m, _, _ in later} == ({"POST", "GET", "DELETE"} if session else {"POST"})
    tokens = {a for _, _, a in later}
    assert len(tokens) == 1 and next(iter(tokens), "").startswith("Bearer ")
    assert len(world.requests_to(f"{ISSUER}/authorize")) == 1


async def test_a_failed_authorization_ends_the_connection_with_the_reason() -> None:
    gate = Gate(make_server().http_app())
    async with serving(gate) as base:
        gate.world = world = World(mcp=f"{base}/mcp", forged_state="not-ours")
        async with asyncio.timeout(WAIT):
            with pytest.raises(ConnectionClosed, match="invalid_state") as caught:
                async with Client(f"{base}/mcp", auth=oauth_for(world)):
                    pass
    assert "is the server running" not in str(caught.value)


async def test_the_legacy_sse_transport_carries_the_token_too() -> None:
    gate = Gate(make_server().http_app())
    async with serving(gate) as base:
        gate.world = world = World(mcp=f"{base}/sse")
        auth = oauth_for(world)
        async with httpx.AsyncClient() as http, asyncio.timeout(WAIT):
            channel = await open_legacy_sse_channel(
                f"{base}/sse", http_client=http, headers={}, max_message_size=1 << 20, auth=auth
            )
            try:
                await channel.send(
                    msgspec.json.encode(
                        {
                            "jsonrpc": "2.0",
                            "id": 1,
                            "method": "initialize",
                            "params": {
                                "protocolVersion": "2024-11-05",
                                "capabilities": {},
                                "clientInfo": {"name": "t", "version": "0"},
                            },
                        }
                    )
                )
                answer = msgspec.json.decode(await channel.receive())
            finally:
                await channel.aclose()
    assert answer["result"]["protocolVersion"] == "2024-11-05"
    assert gate.seen[0] == ("GET", "/sse", None)
    assert [(m, p) for m, p, _ in gate.seen[1:]] == [("GET", "/sse"), ("POST", "/messages")]
    assert all(a is not None and a.startswith("Bearer ") for _, _, a in gate.seen[1:])
