"""`JwtVerifier.from_issuer` against a real OpenID provider, npm `oidc-provider` (issue 43;
peers/oidc_provider.mjs): its client-credentials JWT access tokens verified and mapped, used
through mcpkit's `Client` against a protected server in both eras, a token for another
resource refused with the right challenge, its keys rotated at runtime, an expired token
refused. One provider per module, on 127.0.0.1; every wait bounded, the process killed at the
end."""

from __future__ import annotations

import asyncio
import base64
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from oidc_peer import SERVICE, SHORT_LIVED, WAIT, OidcProvider

from mcpkit import Client, Context, Server
from mcpkit.auth.client import ClientCredentialsGrant, ClientSecretBasic, GrantAuth
from mcpkit.auth.server.jwt import JwtVerifier
from mcpkit.auth.server.resource import ProtectedResource
from mcpkit.errors import InsufficientScope, InvalidToken

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))
from _serving import serving

RESOURCE = "https://mcp.example.com/mcp"  # a resource the provider issues tokens for


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcProvider]:
    with OidcProvider() as peer:
        yield peer


def unverified(part: str) -> dict[str, Any]:
    """A JWT part (header or payload) decoded without any check: what the provider put there."""
    found: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return found


class Clock:
    """The verifier's clock, set by the test (the provider reads the real one)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# ------------------------------------------------------------ the verifier alone


async def test_a_client_credentials_token_is_verified_and_mapped(provider: OidcProvider) -> None:
    token = await provider.token(RESOURCE)
    header, payload = (unverified(part) for part in token.split(".")[:2])
    async with (
        asyncio.timeout(WAIT),
        JwtVerifier.from_issuer(provider.issuer, audience=RESOURCE) as verifier,
    ):
        found = await verifier.verify(token, resource=RESOURCE)
    # An RFC 9068 token, signed with the key the provider publishes.
    assert header["typ"] == "at+jwt" and header["alg"] == "ES256"
    assert header["kid"] == provider.kids[0]
    # oidc-provider names the client as the subject of a client credentials token.
    assert found.subject == "mcp-service" and found.client_id == "mcp-service"
    assert found.scopes == {"mcp", "admin"}
    assert found.issuer == provider.issuer and found.audience == (RESOURCE,)
    assert found.expires_at == payload["exp"] and payload["exp"] - payload["iat"] == 300
    assert found.claims["tenant"] == "interop"  # the provider's extra claim, kept
    assert dict(found.claims) == payload


async def test_the_granted_scopes_are_what_the_provider_narrowed_them_to(
    provider: OidcProvider,
) -> None:
    token = await provider.token(RESOURCE, scope="mcp")
    async with (
        asyncio.timeout(WAIT),
        JwtVerifier.from_issuer(
            provider.issuer, audience=RESOURCE, required_scopes=["admin"]
        ) as verifier,
    ):
        with pytest.raises(InsufficientScope):
            await verifier.verify(token, resource=RESOURCE)


async def test_a_token_for_another_audience_is_refused(provider: OidcProvider) -> None:
    token = await provider.token("https://elsewhere.example.com/mcp")
    async with (
        asyncio.timeout(WAIT),
        JwtVerifier.from_issuer(provider.issuer, audience=RESOURCE) as verifier,
    ):
        with pytest.raises(InvalidToken, match=f"another audience, not {RESOURCE}"):
            await verifier.verify(token, resource=RESOURCE)


async def test_an_expired_token_is_refused(provider: OidcProvider) -> None:
    token = await provider.token(RESOURCE, scope="mcp", client=SHORT_LIVED)
    claims = unverified(token.split(".")[1])
    assert claims["exp"] - claims["iat"] == 5  # the provider's short TTL for this client
    clock = Clock(claims["iat"])  # no leeway: expired the second its `exp` comes
    async with (
        asyncio.timeout(WAIT),
        JwtVerifier.from_issuer(
            provider.issuer, audience=RESOURCE, leeway=0, clock=clock
        ) as verifier,
    ):
        assert (await verifier.verify(token, resource=RESOURCE)).subject == "short-lived"
        clock.now = claims["exp"]
        with pytest.raises(InvalidToken, match="expired"):
            await verifier.verify(token, resource=RESOURCE)


async def test_keys_rotated_at_the_provider_are_followed(provider: OidcProvider) -> None:
    """A new signing key is fetched when a token names it (after the unknown-kid rate limit),
    tokens of the old key pass while it is published, and fail once it is retired."""
    before = await provider.token(RESOURCE)
    clock = Clock(unverified(before.split(".")[1])["iat"])
    async with (
        asyncio.timeout(WAIT),
        JwtVerifier.from_issuer(
            provider.issuer, audience=RESOURCE, min_refresh_interval=30, cache_ttl=60, clock=clock
        ) as verifier,
    ):
        assert (await verifier.verify(before, resource=RESOURCE)).subject == "mcp-service"
        old = provider.kids[0]
        new, kept = provider.command("rotate")
        assert kept == old
        after = await provider.token(RESOURCE)
        assert unverified(after.split(".")[0])["kid"] == new
        # The JWKS was fetched just now: an unknown kid does not make it fetch again yet.
        with pytest.raises(InvalidToken, match="unknown key"):
            await verifier.verify(after, resource=RESOURCE)
        clock.now += 30
        assert (await verifier.verify(after, resource=RESOURCE)).subject == "mcp-service"
        assert (await verifier.verify(before, resource=RESOURCE)).subject == "mcp-service"
        assert provider.command("retire") == [new]
        clock.now += 60  # the cached key set is stale: read again, without the old key
        with pytest.raises(InvalidToken, match="unknown key"):
            await verifier.verify(before, resource=RESOURCE)
        assert (await verifier.verify(after, resource=RESOURCE)).subject == "mcp-service"


# ------------------------------------------------- through a protected mcpkit server


def protected(verifier: JwtVerifier, issuer: str) -> Server:
    """An MCP server whose tokens come from `issuer`; its resource is derived per request
    (loopback), which `verifier` then requires as the audience."""
    server = Server(
        "oidc-e2e",
        auth=ProtectedResource(verifier=verifier, authorization_servers=[issuer]),
    )

    @server.tool()
    def whoami(ctx: Context) -> dict[str, Any]:
        """Who the provider says the caller is."""
        assert ctx.auth is not None
        return {
            "subject": ctx.auth.subject,
            "client_id": ctx.auth.client_id,
            "scopes": sorted(ctx.auth.scopes),
            "issuer": ctx.auth.issuer,
            "audience": list(ctx.auth.audience),
            "tenant": ctx.auth.claims["tenant"],
        }

    return server


@pytest.mark.parametrize("era", ["2025-11-25", "2026-07-28"])
async def test_a_client_calls_a_tool_with_the_providers_token(
    provider: OidcProvider, era: str
) -> None:
    verifier = JwtVerifier.from_issuer(provider.issuer)
    app = protected(verifier, provider.issuer).http_app()
    async with asyncio.timeout(WAIT), verifier, serving(app) as base:
        token = await provider.token(base + "/mcp")
        headers = {"authorization": f"Bearer {token}"}
        async with Client(base + "/mcp", headers=headers, protocol=era) as client:
            assert client.protocol_version == era
            result = await client.call_tool("whoami", {})
    assert result.structured_content == {
        "subject": "mcp-service",
        "client_id": "mcp-service",
        "scopes": ["admin", "mcp"],
        "issuer": provider.issuer,
        "audience": [base + "/mcp"],
        "tenant": "interop",
    }


@pytest.mark.parametrize("era", ["2025-11-25", "2026-07-28"])
async def test_the_client_gets_its_own_token_from_the_provider(
    provider: OidcProvider, era: str
) -> None:
    """mcpkit's client credentials flow: the server's 401 and metadata lead the client to
    the provider, whose token (for the server's URI, RFC 8707) the server accepts."""
    verifier = JwtVerifier.from_issuer(provider.issuer)
    app = protected(verifier, provider.issuer).http_app()
    async with asyncio.timeout(WAIT), verifier, serving(app) as base:
        auth = GrantAuth(ClientCredentialsGrant(), ClientSecretBasic(*SERVICE), scope="mcp")
        async with Client(base + "/mcp", auth=auth, protocol=era) as client:
            result = await client.call_tool("whoami", {})
    assert result.structured_content is not None
    assert result.structured_content["subject"] == "mcp-service"
    assert result.structured_content["scopes"] == ["mcp"]
    assert result.structured_content["audience"] == [base + "/mcp"]


@pytest.mark.parametrize("era", ["2025-11-25", "2026-07-28"])
async def test_a_token_for_another_resource_gets_401(provider: OidcProvider, era: str) -> None:
    verifier = JwtVerifier.from_issuer(provider.issuer)
    app = protected(verifier, provider.issuer).http_app()
    async with asyncio.timeout(WAIT), verifier, serving(app) as base:
        token = await provider.token(base + "/other")
        async with httpx.AsyncClient(timeout=WAIT) as http:
            refused = await http.post(
                base + "/mcp",
                json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
                headers={
                    "authorization": f"Bearer {token}",
                    "accept": "application/json, text/event-stream",
                    "mcp-protocol-version": era,
                },
            )
            metadata = await http.get(base + "/.well-known/oauth-protected-resource/mcp")
    assert refused.status_code == 401
    where = f'resource_metadata="{base}/.well-known/oauth-protected-resource/mcp"'
    bearer, dpop = refused.headers.get_list("www-authenticate")  # DPoP is allowed too
    assert bearer == (
        'Bearer error="invalid_token", error_description="the token was issued for another '
        f'audience, not {base}/mcp", {where}'
    )
    assert dpop.startswith(f"DPoP {where}, algs=")  # no error: no DPoP token was sent
    assert metadata.json()["authorization_servers"] == [provider.issuer]
