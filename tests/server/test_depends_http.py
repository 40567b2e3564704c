"""Dependency injection over Streamable HTTP: the caller's verified token, its claims and the
request's headers reach a handler (and its dependencies) in both eras; the bearer token's
string itself never does."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from mcpkit import Client, Server
from mcpkit.auth.server.resource import ProtectedResource
from mcpkit.auth.server.verifier import AccessToken
from mcpkit.errors import InvalidToken
from mcpkit.server import CurrentToken, Depends, RequestHeaders, TokenClaims

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))
from _serving import serving

ERAS = ["2025-11-25", "2026-07-28"]
WAIT = 10.0
TOKEN = "tok-ann-81f2"


class OneToken:
    async def verify(self, token: str, *, resource: str) -> AccessToken:
        if token != TOKEN:
            raise InvalidToken("unknown token")
        return AccessToken(subject="ann", scopes=frozenset({"read"}), claims={"team": "blue"})


def tenant(headers: RequestHeaders, claims: TokenClaims) -> str:
    return f"{headers.get('x-tenant')}/{claims.get('team')}"


def make_server() -> Server:
    server = Server("who", auth=ProtectedResource(verifier=OneToken()))

    @server.tool
    def whoami(
        token: AccessToken,
        maybe: CurrentToken,
        headers: RequestHeaders,
        where: str = Depends(tenant),
    ) -> str:
        assert maybe is token
        credentials = sorted({"authorization", "cookie", "proxy-authorization"} & set(headers))
        return f"{token.subject} {where} {credentials} {headers['x-tenant']}"

    return server


@pytest.mark.parametrize("era", ERAS)
async def test_the_token_its_claims_and_the_headers_reach_the_handler(era: str) -> None:
    async with asyncio.timeout(WAIT), serving(make_server().http_app()) as base:
        headers = {
            "authorization": f"Bearer {TOKEN}",
            "x-tenant": "acme",
            # the client's other credentials never reach a handler either (issue 64)
            "cookie": "sid=ann-session",
            "proxy-authorization": "Basic YW5uOnByb3h5",
        }
        async with Client(f"{base}/mcp", protocol=era, headers=headers) as client:
            (tool,) = await client.list_tools()
            assert tool.input_schema["properties"] == {}
            assert (await client.call_tool("whoami", {})).text == "ann acme/blue [] acme"
