"""`ctx.session_id`: the id of the session a request belongs to, in both eras and over memory
and Streamable HTTP; None for a request that has none (2026-07-28, or one a stateless app
serves), never an id made up for it. Nothing session-shaped answers `id` for such a request."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest

from mcpkit import Client, Context, Server
from mcpkit.server import ServerSessionHandle
from mcpkit.types import TextContent

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))
from _serving import WAIT, serving

#: What the tool saw of its request, each call: (ctx.session_id, the session's own id).
Seen = list[tuple[str | None, str | None]]


def make_server(seen: Seen) -> Server:
    server = Server("session-ids")

    @server.tool()
    def which(ctx: Context) -> str:
        session = ctx.session
        own = session.id if isinstance(session, ServerSessionHandle) else None
        if own is None:
            assert not hasattr(session, "id")  # nothing plays a session for the request
        seen.append((ctx.session_id, own))
        return str(ctx.session_id)

    return server


def _text(result: Any) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


async def _two_calls(client: Client) -> list[str]:
    return [_text(await client.call_tool("which")) for _ in range(2)]


async def test_in_memory_a_2025_session_has_its_id_and_a_2026_request_none() -> None:
    seen: Seen = []
    server = make_server(seen)
    async with asyncio.timeout(WAIT):
        async with Client(server, protocol="2025-11-25") as client:
            await _two_calls(client)
        (first, own1), (second, own2) = seen
        assert first is not None and first == second == own1 == own2  # one session, its id
        seen.clear()
        async with Client(server) as client:
            assert client.protocol_version == "2026-07-28"
            await _two_calls(client)
        # The connection lasts, but a 2026-07-28 request belongs to no session.
        assert [sid for sid, _ in seen] == [None, None]


async def test_over_http_a_2025_session_has_its_mcp_session_id_and_a_2026_request_none() -> None:
    seen: Seen = []
    server = make_server(seen)
    async with asyncio.timeout(WAIT), serving(server.http_app()) as base:
        async with Client(f"{base}/mcp", protocol="2025-11-25") as client:
            assert await _two_calls(client) == [client.session_id] * 2
            assert [own for _, own in seen] == [client.session_id] * 2
        seen.clear()
        async with Client(f"{base}/mcp") as client:
            assert client.protocol_version == "2026-07-28"
            assert await _two_calls(client) == ["None", "None"]
            assert client.session_id is None
        assert seen == [(None, None), (None, None)]  # and no peer with an id of its own


@pytest.mark.parametrize("protocol", ["2025-11-25", "auto"])
async def test_a_stateless_apps_requests_have_no_session_id(protocol: str) -> None:
    """A stateless app serves a 2025-11-25 request with a session made for it alone: the
    request has no session the client knows, so no id (the one-off session's is its own)."""
    seen: Seen = []
    server = make_server(seen)
    async with asyncio.timeout(WAIT), serving(server.http_app(stateless=True)) as base:
        async with Client(f"{base}/mcp", protocol=protocol) as client:
            assert await _two_calls(client) == ["None", "None"]
    assert [sid for sid, _ in seen] == [None, None]
