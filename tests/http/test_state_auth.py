"""A caller's state over HTTP on a protected server (mcpkit.server.state.caller): a
2026-07-28 caller's is its token owner's in the app the token was given to (issuer, subject
and client id), whichever token or connection it comes by, another app of the same person
has its own, and a client's own key gives no way into another's; a 2025-11-25 session's is
that session's."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any, ClassVar

import httpx
from _serving import serving

from mcpkit import Client, Context, Server
from mcpkit.auth.server.resource import ProtectedResource
from mcpkit.auth.server.verifier import AccessToken
from mcpkit.errors import InvalidToken
from mcpkit.server.state.caller import STATE_KEY_META

WAIT = 10.0  # seconds: a bound on hangs, not a measurement


def text(result: Any) -> str:
    return str(result.content[0].text)


def key_meta() -> dict[str, Any]:
    return {STATE_KEY_META: secrets.token_urlsafe(32)}


def counter() -> Server:
    server = Server("guarded", auth=ProtectedResource(verifier=_Tokens()))

    @server.tool()
    async def bump(ctx: Context) -> int:
        count: int = await ctx.get_state("count", 0) + 1
        await ctx.set_state("count", count)
        return count

    return server


async def test_a_2025_session_under_auth_is_its_owners_alone_and_2026_follows_the_owner() -> None:
    server = counter()
    async with asyncio.timeout(WAIT), serving(server.http_app()) as base:
        url = f"{base}/mcp"

        def as_(token: str, era: str) -> Client:
            return Client(url, headers={"authorization": f"Bearer {token}"}, protocol=era)

        async with (
            as_("alice-1", "2026-07-28") as a1,
            as_("alice-2", "2026-07-28") as a2,
            as_("alice-3", "2026-07-28") as a3,
            as_("bob", "2026-07-28") as bob,
        ):
            assert text(await a1.call_tool("bump")) == "1"
            assert text(await a2.call_tool("bump")) == "2"  # alice's in "app", by another token
            assert text(await a3.call_tool("bump")) == "1"  # alice's in another app: its own
            assert text(await bob.call_tool("bump")) == "1"
            # A client key gives no way into an owner's state: the token decides.
            assert text(await bob.call_tool("bump", meta=key_meta())) == "2"
        async with as_("alice-1", "2025-11-25") as s1, as_("alice-1", "2025-11-25") as s2:
            assert text(await s1.call_tool("bump")) == "1"  # each session its own
            assert text(await s2.call_tool("bump")) == "1"
            assert text(await s1.call_tool("bump")) == "2"
            # Another identity presenting alice's session reaches neither it nor its state.
            async with httpx.AsyncClient() as raw:
                stolen = await raw.post(
                    url,
                    headers={
                        "authorization": "Bearer bob",
                        "mcp-session-id": str(s1.session_id),
                        "mcp-protocol-version": "2025-11-25",
                        "accept": "application/json, text/event-stream",
                    },
                    json={
                        "jsonrpc": "2.0",
                        "id": 1,
                        "method": "tools/call",
                        "params": {"name": "bump", "arguments": {}},
                    },
                )
            assert stolen.status_code == 404, stolen.text
            assert text(await s1.call_tool("bump")) == "3"


class _Tokens:
    """A verifier that knows two people: alice (two tokens of one app, one of another) and
    bob."""

    table: ClassVar[dict[str, AccessToken]] = {
        "alice-1": AccessToken(subject="alice", client_id="app"),
        "alice-2": AccessToken(subject="alice", client_id="app"),
        "alice-3": AccessToken(subject="alice", client_id="other-app"),
        "bob": AccessToken(subject="bob", client_id="app"),
    }

    async def verify(self, token: str, *, resource: str) -> AccessToken:
        found = self.table.get(token)
        if found is None:
            raise InvalidToken("unknown token")
        return found
