"""Callers known only by their key (`_meta["io.mcpkit/stateKey"]`) cost nothing to make, so
the state they keep is also counted by the client address they come from: one address
writing under fresh keys is refused at `MAX_KEYED_STATE_PER_ADDRESS` values instead of
pushing every caller's state out of the store's pool; sessions and tokens are not counted
(docs/server.md, "State")."""

from __future__ import annotations

import asyncio
import secrets
import sys
from pathlib import Path
from typing import Any

import pytest

from mcpkit import Client, Context, Server
from mcpkit.server.state import caller
from mcpkit.server.state.caller import STATE_KEY_META

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))  # the HTTP tests' helpers
from _serving import serving

WAIT = 10.0  # seconds: a bound on hangs, not a measurement
QUOTA = 3


def keeper() -> Server:
    server = Server("keeper")

    @server.tool()
    async def keep(ctx: Context, name: str) -> str:
        try:
            await ctx.set_state(name, "x" * 1000)
        except ValueError as exc:
            return str(exc)
        return "kept"

    @server.tool()
    async def forget(ctx: Context, name: str) -> None:
        await ctx.delete_state(name)

    return server


def fresh_key() -> dict[str, Any]:
    return {STATE_KEY_META: secrets.token_urlsafe(32)}


async def said(client: Client, tool: str, name: str, meta: dict[str, Any] | None = None) -> str:
    result = await client.call_tool(tool, {"name": name}, meta=meta)
    return str(result.content[0].text) if result.content else ""  # type: ignore[union-attr]


async def test_one_address_under_fresh_keys_is_held_to_its_quota(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(caller, "MAX_KEYED_STATE_PER_ADDRESS", QUOTA, raising=False)
    mine = fresh_key()
    async with asyncio.timeout(WAIT), serving(keeper().http_app()) as base:
        async with Client(f"{base}/mcp", protocol="2026-07-28") as client:
            assert await said(client, "keep", "a", mine) == "kept"
            assert await said(client, "keep", "a", mine) == "kept"  # the same value again
            for _ in range(QUOTA - 1):  # each a caller never seen before
                assert await said(client, "keep", "a", fresh_key()) == "kept"
            refused = await said(client, "keep", "a", fresh_key())
            assert refused == (
                "ctx.set_state(): callers known by their key from this client address already "
                f"keep {QUOTA} values (MAX_KEYED_STATE_PER_ADDRESS): delete what they no "
                "longer need (ctx.delete_state()) or let it expire; a caller with a "
                "2025-11-25 session or an access token is not counted there"
            )
            assert await said(client, "keep", "b", mine) != "kept"  # a new value, same caller
            assert await said(client, "keep", "a", mine) == "kept"  # a value it keeps already
            await said(client, "forget", "a", mine)  # a value deleted leaves the count
            assert await said(client, "keep", "b", fresh_key()) == "kept"
        # a session's state is its own bound, not the address's
        async with Client(f"{base}/mcp", protocol="2025-11-25") as session:
            assert await said(session, "keep", "a") == "kept"
