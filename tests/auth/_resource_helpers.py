"""Helpers the protected-resource tests share: a verifier that knows a few tokens by heart, a
server with scoped items, and requests carrying a bearer token."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))  # the HTTP tests' helpers

from _serving import INITIALIZE, headers, messages_of

from mcpkit import Context, Server
from mcpkit.auth.server.resource import ProtectedResource
from mcpkit.auth.server.verifier import AccessToken
from mcpkit.errors import InvalidToken

__all__ = [
    "ALICE",
    "ADMIN",
    "BOB",
    "NOSCOPE",
    "ROBOT",
    "SECRET",
    "TableVerifier",
    "bearer",
    "call",
    "open_as",
    "scoped_server",
]

# Tokens the verifier knows: their strings say nothing of who they are, as real ones.
ALICE = "tok-alice-3f9a"
ADMIN = "tok-alice-admin-77c1"  # alice again, with the admin scope too
BOB = "tok-bob-d41e"
ROBOT = "tok-robot-0b2c"  # client credentials: no subject
NOSCOPE = "tok-alice-noscope-5e5e"
SECRET = "tok-SECRET-never-logged-9d8c"  # the verifier fails on it, naming it


class TableVerifier:
    """A `TokenVerifier` over a dict: token -> AccessToken; every other token is refused.
    It records each resource it was asked about; SECRET makes it crash with the token in the
    message (a buggy verifier), and `hold` makes it wait until set (a slow one)."""

    def __init__(self) -> None:
        self.tokens = {
            ALICE: AccessToken(subject="alice", client_id="app", scopes=frozenset({"mcp"})),
            ADMIN: AccessToken(
                subject="alice", client_id="app", scopes=frozenset({"mcp", "admin"})
            ),
            BOB: AccessToken(subject="bob", client_id="app", scopes=frozenset({"mcp"})),
            ROBOT: AccessToken(client_id="robot", scopes=frozenset({"mcp"})),
            NOSCOPE: AccessToken(subject="alice", client_id="app"),
        }
        self.resources: list[str] = []
        self.hold: asyncio.Event | None = None

    async def verify(self, token: str, *, resource: str) -> AccessToken:
        self.resources.append(resource)
        if token == SECRET:
            raise RuntimeError(f"cannot parse {token}")
        if self.hold is not None:
            await self.hold.wait()
        found = self.tokens.get(token)
        if found is None:
            raise InvalidToken("the token is unknown or expired")
        return found


def scoped_server(**auth: Any) -> tuple[Server, TableVerifier]:
    """A protected server: `whoami` for everyone, `deploy` and a resource, a template and a
    prompt that need the admin scope; every request needs the mcp scope."""
    verifier = TableVerifier()
    settings: dict[str, Any] = {"required_scopes": ["mcp"], **auth}
    server = Server("protected", auth=ProtectedResource(verifier=verifier, **settings))

    @server.tool()
    def whoami(ctx: Context) -> dict[str, Any]:
        """Who the caller is."""
        token = ctx.auth
        assert token is not None
        return {"subject": token.subject, "scopes": sorted(token.scopes)}

    @server.tool(scopes=["admin"])
    def deploy() -> str:
        """Needs admin."""
        return "deployed"

    @server.resource("config://public")
    def public() -> str:
        return "public"

    @server.resource("config://secret", scopes=["admin"])
    def secret() -> str:
        return "secret"

    @server.resource("users://{name}/keys", scopes=["admin"])
    def keys(name: str) -> str:
        return f"keys of {name}"

    @server.prompt(scopes=["admin"])
    def incident(service: str) -> str:
        return f"write up {service}"

    return server, verifier


def bearer(token: str | None, session: str | None = None, **extra: str) -> dict[str, str]:
    found = headers(session, **extra)
    if token is not None:
        found["authorization"] = f"Bearer {token}"
    return found


def call(rid: int, method: str, **params: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": rid, "method": method, "params": params}


async def open_as(client: httpx.AsyncClient, url: str, token: str) -> str:
    """initialize and notifications/initialized with `token`: the new session's id."""
    response = await client.post(url, json=INITIALIZE, headers=bearer(token))
    assert response.status_code == 200, response.text
    assert messages_of(response)[0]["result"]["serverInfo"]["name"] == "protected"
    sid = response.headers["mcp-session-id"]
    done = await client.post(
        url,
        json={"jsonrpc": "2.0", "method": "notifications/initialized"},
        headers=bearer(token, sid),
    )
    assert done.status_code == 202
    return sid
