"""`JwtVerifier.from_issuer` against an OpenID provider double served by uvicorn on 127.0.0.1:
discovery on first use (OpenID Connect, then RFC 8414 with the path inserted), the issuer held
exactly, the JWKS rotated and rate-limited, bounded documents, 503 while the provider is away,
and an end-to-end call through `Client` with a bearer token in both eras."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
from _oidc_double import Provider
from _serving import WAIT, serving
from _verify_servers import JwksEndpoint
from _verify_tokens import EC, FixedClock
from joserfc.jwk import ECKey

from mcpkit import Client, Context, Server
from mcpkit.auth.server._discovery import metadata_urls
from mcpkit.auth.server.jwt import JwtVerifier
from mcpkit.auth.server.resource import ProtectedResource
from mcpkit.errors import InvalidToken, VerifierUnavailable
from mcpkit.types import TextContent

AUDIENCE = "https://mcp.example.com/mcp"


def verifier_of(provider: Provider, **settings: Any) -> JwtVerifier:
    return JwtVerifier.from_issuer(provider.issuer, audience=AUDIENCE, **settings)


def test_construction_needs_no_event_loop_and_fetches_nothing() -> None:
    # What a server module does at import time, before any loop runs.
    verifier = JwtVerifier.from_issuer("https://login.example.com/tenant", audience=AUDIENCE)
    assert verifier.issuer == "https://login.example.com/tenant"


def test_the_metadata_locations_follow_oidc_then_rfc_8414() -> None:
    assert metadata_urls("https://a.example") == [
        "https://a.example/.well-known/openid-configuration",
        "https://a.example/.well-known/oauth-authorization-server",
    ]
    assert metadata_urls("https://a.example/tenant/v2") == [
        "https://a.example/tenant/v2/.well-known/openid-configuration",
        "https://a.example/.well-known/oauth-authorization-server/tenant/v2",
    ]


@pytest.mark.parametrize(
    "issuer", ["http://auth.example.com", "ftp://auth.example.com", "not a url"]
)
def test_an_issuer_that_is_not_https_is_refused(issuer: str) -> None:
    with pytest.raises(ValueError, match="https"):
        JwtVerifier.from_issuer(issuer, audience=AUDIENCE)


def test_hmac_algorithms_are_refused() -> None:
    with pytest.raises(ValueError, match="HMAC"):
        JwtVerifier.from_issuer("https://a.example", algorithms=["HS256"])


async def test_discovery_on_first_use_then_cached() -> None:
    provider = Provider()
    async with asyncio.timeout(WAIT), serving(provider) as base:
        provider.base = base
        async with verifier_of(provider) as verifier:
            assert provider.hits == {}
            tokens = [provider.token(aud=AUDIENCE) for _ in range(10)]
            found = await asyncio.gather(*(verifier.verify(t, resource=AUDIENCE) for t in tokens))
            assert {a.subject for a in found} == {"alice"}
            assert {a.issuer for a in found} == {base}
    assert provider.hits == {"/.well-known/openid-configuration": 1, "/jwks": 1}


async def test_rfc_8414_with_the_issuer_path_inserted_when_oidc_has_none() -> None:
    provider = Provider(path="/tenant/v2")
    provider.where = "rfc8414"
    async with asyncio.timeout(WAIT), serving(provider) as base:
        provider.base = base
        async with verifier_of(provider) as verifier:
            access = await verifier.verify(provider.token(aud=AUDIENCE), resource=AUDIENCE)
    assert access.issuer == base + "/tenant/v2"
    assert provider.hits["/tenant/v2/.well-known/openid-configuration"] == 1  # 404 there
    assert provider.hits["/.well-known/oauth-authorization-server/tenant/v2"] == 1


async def test_a_rotated_key_is_fetched() -> None:
    provider = Provider()
    clock = FixedClock()
    new = ECKey.generate_key("P-256", parameters={"kid": "ec-new"})
    async with asyncio.timeout(WAIT), serving(provider) as base:
        provider.base = base
        async with verifier_of(provider, clock=clock, leeway=1e10) as verifier:
            await verifier.verify(provider.token(aud=AUDIENCE), resource=AUDIENCE)
            provider.keys, provider.signer = [EC, new], new
            clock.advance(30)
            await verifier.verify(provider.token(aud=AUDIENCE), resource=AUDIENCE)
    assert provider.hits["/jwks"] == 2
    assert provider.hits["/.well-known/openid-configuration"] == 1


async def test_a_flood_of_unknown_kids_costs_one_jwks_fetch() -> None:
    provider = Provider()
    clock = FixedClock()
    async with asyncio.timeout(WAIT), serving(provider) as base:
        provider.base = base
        async with verifier_of(provider, clock=clock, leeway=1e10) as verifier:
            await verifier.verify(provider.token(aud=AUDIENCE), resource=AUDIENCE)
            clock.advance(30)  # past min_refresh_interval: one refresh is allowed
            forged = []
            for i in range(40):
                provider.signer = ECKey.generate_key("P-256", parameters={"kid": f"made-up-{i}"})
                forged.append(provider.token(aud=AUDIENCE))
            for token in forged:
                with pytest.raises(InvalidToken, match="unknown key"):
                    await verifier.verify(token, resource=AUDIENCE)
    assert provider.hits["/jwks"] == 2  # the first fetch and one refresh for all forty


async def test_a_document_naming_another_issuer_is_refused() -> None:
    provider = Provider()
    async with asyncio.timeout(WAIT), serving(provider) as base:
        provider.base = base
        provider.claimed_issuer = base + "/evil"
        async with verifier_of(provider) as verifier:
            with pytest.raises(VerifierUnavailable, match=r"describes issuer .*/evil.*refused"):
                await verifier.verify(provider.token(aud=AUDIENCE), resource=AUDIENCE)
    assert "/jwks" not in provider.hits  # its keys were never trusted


async def test_a_jwks_uri_that_is_not_https_is_refused() -> None:
    provider = Provider()
    async with asyncio.timeout(WAIT), serving(provider) as base:
        provider.base = base
        provider.metadata = lambda: {"issuer": base, "jwks_uri": "http://keys.example.com/jwks"}  # type: ignore[method-assign]
        async with verifier_of(provider) as verifier:
            with pytest.raises(VerifierUnavailable, match="jwks_uri must be an https URL"):
                await verifier.verify(provider.token(aud=AUDIENCE), resource=AUDIENCE)


async def test_an_oversize_document_is_refused() -> None:
    provider = Provider()
    provider.metadata_padding = 100_000
    async with asyncio.timeout(WAIT), serving(provider) as base:
        provider.base = base
        async with verifier_of(provider, max_metadata_bytes=10_000) as verifier:
            with pytest.raises(VerifierUnavailable, match="over the limit of 10000"):
                await verifier.verify(provider.token(aud=AUDIENCE), resource=AUDIENCE)


async def test_an_unreachable_provider_gets_503_then_recovers() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    provider = Provider()
    provider.base = f"http://127.0.0.1:{port}"
    clock = FixedClock()
    token = provider.token(aud=AUDIENCE)
    async with asyncio.timeout(WAIT), verifier_of(provider, clock=clock, leeway=1e10) as verifier:
        for _ in range(3):  # retried after a backoff, not on every request
            with pytest.raises(VerifierUnavailable, match="could not be read"):
                await verifier.verify(token, resource=AUDIENCE)
        async with serving(provider, port=port):
            with pytest.raises(VerifierUnavailable):  # within the backoff: not tried yet
                await verifier.verify(token, resource=AUDIENCE)
            clock.advance(1)
            assert (await verifier.verify(token, resource=AUDIENCE)).subject == "alice"
    assert provider.hits["/.well-known/openid-configuration"] == 1


def protected(verifier: JwtVerifier) -> Server:
    server = Server("issuer-e2e", auth=ProtectedResource(verifier=verifier))

    @server.tool()
    def whoami(ctx: Context) -> str:
        """The caller's subject and issuer."""
        assert ctx.auth is not None
        return f"{ctx.auth.subject} from {ctx.auth.issuer}"

    return server


@pytest.mark.parametrize("era", ["2025-11-25", "2026-07-28"])
async def test_a_client_with_the_providers_token_calls_a_tool(era: str) -> None:
    provider = Provider()
    async with asyncio.timeout(WAIT), serving(provider) as base:
        provider.base = base
        verifier = JwtVerifier.from_issuer(provider.issuer)
        async with verifier, serving(protected(verifier).http_app()) as mcp:
            token = provider.token(aud=mcp + "/mcp")
            headers = {"authorization": f"Bearer {token}"}
            async with Client(f"{mcp}/mcp", headers=headers, protocol=era) as client:
                assert client.protocol_version == era
                result = await client.call_tool("whoami", {})
    assert [c.text for c in result.content if isinstance(c, TextContent)] == [f"alice from {base}"]


async def test_closing_during_a_hanging_discovery_ends_the_waiting_request() -> None:
    endpoint = JwksEndpoint({"keys": []})
    endpoint.mode = "hang"
    async with asyncio.timeout(WAIT), serving(endpoint) as base:
        verifier = JwtVerifier.from_issuer(base, audience=AUDIENCE, timeout=WAIT)
        provider = Provider()
        provider.base = base
        waiting = asyncio.ensure_future(verifier.verify(provider.token(), resource=AUDIENCE))
        await endpoint.arrived.wait()
        await verifier.aclose()
        with pytest.raises(VerifierUnavailable, match="could not be read"):
            await waiting
        endpoint.release.set()
