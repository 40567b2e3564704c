"""A protected Streamable HTTP server built with the official Python SDK (MCPServer), for the
mcpkit client's authorization interop test, which serves `make_app(...)` with uvicorn.

It is a resource server only (`token_verifier=` and `AuthSettings(issuer_url=...,
resource_server_url=...)`): its tokens come from another origin's authorization server (in the
test, mcpkit's development one), and it checks each by RFC 7662 introspection there with a
confidential client's id and secret. Every request needs scope `mcp`. Tool `whoami` answers
with what the token says (subject, client, scopes, audience).

No `from __future__ import annotations`: MCPServer evaluates the tools' annotations.
"""

from typing import Any

import httpx
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.auth.provider import AccessToken
from mcp.server.auth.settings import AuthSettings
from mcp.server.mcpserver import MCPServer

__all__ = ["IntrospectingVerifier", "make_app"]

INTROSPECTION_TIMEOUT = 10.0  # seconds: a bound on a hung authorization server


class IntrospectingVerifier:
    """The SDK's TokenVerifier: asks the authorization server's introspection endpoint."""

    def __init__(self, endpoint: str, client_id: str, client_secret: str) -> None:
        self.endpoint = endpoint
        self.credentials = (client_id, client_secret)
        self.asked: list[dict[str, Any]] = []  # every introspection answer, for the test

    async def verify_token(self, token: str) -> AccessToken | None:
        async with httpx.AsyncClient(timeout=INTROSPECTION_TIMEOUT) as http:
            response = await http.post(self.endpoint, data={"token": token}, auth=self.credentials)
        if response.status_code != 200:
            return None
        found: dict[str, Any] = response.json()
        self.asked.append(found)
        if found.get("active") is not True or found.get("token_type") == "refresh_token":
            return None
        return AccessToken(
            token=token,
            client_id=found["client_id"],
            scopes=str(found.get("scope", "")).split(),
            expires_at=found.get("exp"),
            resource=found.get("aud"),
            subject=found.get("sub"),
            claims={"iss": found.get("iss")},
        )


def make_app(issuer: str, resource: str, verifier: IntrospectingVerifier) -> Any:
    """The server's Starlette app: its MCP endpoint at /mcp (`resource` must name it)."""
    server = MCPServer(
        "official-protected",
        token_verifier=verifier,
        auth=AuthSettings(
            issuer_url=issuer,  # type: ignore[arg-type]  # pydantic converts
            resource_server_url=resource,  # type: ignore[arg-type]
            required_scopes=["mcp"],
            validate_token_resource=True,  # the token's `aud` must be this server (RFC 8707)
        ),
    )

    @server.tool()
    def whoami() -> dict[str, Any]:
        """Who the access token speaks for."""
        token = get_access_token()
        if token is None:
            return {"subject": None}
        return {
            "subject": token.subject,
            "client_id": token.client_id,
            "scopes": sorted(token.scopes),
            "audience": token.resource,
        }

    return server.streamable_http_app()
