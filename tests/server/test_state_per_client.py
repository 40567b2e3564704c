"""Who a caller is, for its state and its cached answers, as for its overflowed results and
its approvals: the token's issuer, subject and client, one spelling
(`mcpkit.server.catalog.callers.principal_of`). Two OAuth clients of one user are two
callers: neither reads what the other kept (docs/server.md, "State")."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from mcpkit import Client, Context, Server
from mcpkit.auth.server.resource import ProtectedResource
from mcpkit.auth.server.verifier import AccessToken
from mcpkit.errors import InvalidToken
from mcpkit.server import ResponseCache

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))  # the HTTP tests' helpers
from _serving import serving

WAIT = 10.0  # seconds: a bound on hangs, not a measurement
_ISSUER = "https://as.example.com"


class _Tokens:
    """Ann through her desktop app (two tokens, as after a refresh) and through a plugin."""

    table: dict[str, AccessToken] = {  # noqa: RUF012
        "desktop": AccessToken(issuer=_ISSUER, subject="ann", client_id="desktop"),
        "desktop-refreshed": AccessToken(issuer=_ISSUER, subject="ann", client_id="desktop"),
        "plugin": AccessToken(issuer=_ISSUER, subject="ann", client_id="plugin"),
    }

    async def verify(self, token: str, *, resource: str) -> AccessToken:
        found = self.table.get(token)
        if found is None:
            raise InvalidToken("unknown token")
        return found


def notebook() -> tuple[Server, list[str]]:
    ran: list[str] = []
    server = Server("notebook", middleware=[ResponseCache(tools=["whoami"])])
    server.auth = ProtectedResource(verifier=_Tokens())

    @server.tool()
    async def note(ctx: Context, text: str = "") -> list[str]:
        """Add `text` to the caller's notes (none: only read them)."""
        notes: list[str] = await ctx.get_state("notes", [])
        if text:
            notes = [*notes, text]
            await ctx.set_state("notes", notes)
        return notes

    @server.tool()
    def whoami(ctx: Context) -> str:
        token = ctx.auth
        assert token is not None
        ran.append(str(token.client_id))
        return str(token.client_id)

    return server, ran


async def test_two_clients_of_one_user_keep_apart_state_and_cached_answers() -> None:
    server, ran = notebook()
    async with asyncio.timeout(WAIT), serving(server.http_app()) as base:

        def as_(token: str) -> Client:
            auth = {"authorization": f"Bearer {token}"}
            return Client(f"{base}/mcp", protocol="2026-07-28", headers=auth)

        async with as_("desktop") as desktop, as_("plugin") as plugin:
            await desktop.call_tool("note", {"text": "draft of the merger memo"})
            assert (await plugin.call_tool("note", {})).structured_content == {"result": []}
            assert (await desktop.call_tool("whoami", {})).content[0].text == "desktop"  # type: ignore[union-attr]
            assert (await plugin.call_tool("whoami", {})).content[0].text == "plugin"  # type: ignore[union-attr]
        assert ran == ["desktop", "plugin"]  # (the plugin was not answered the desktop's)
        async with as_("desktop-refreshed") as again:  # one client, a new token: the same caller
            assert (await again.call_tool("note", {})).structured_content == {
                "result": ["draft of the merger memo"]
            }
            await again.call_tool("whoami", {})
        assert ran == ["desktop", "plugin"]
