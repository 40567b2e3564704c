"""The provider recipes against a real OpenID provider, npm `oidc-provider`
(peers/oidc_provider.mjs, issue 43): `from_discovery` reads its document; the token request
made with what it found (the token endpoint, the client authentication, the `resource` the
configuration says to send) gets a token that the recipe-built pass-through verifier,
`verifier_for`, accepts, while a token for another audience, or one asked for without a
resource (`resource_parameter="omit"`: the provider's opaque token), is refused. One
provider for the module, on 127.0.0.1; every wait bounded."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator

import httpx
import pytest
from test_oidc_provider import RESOURCE, SERVICE, WAIT, OidcProvider

from mcpkit.auth.front import ResourceParameter, UpstreamProvider
from mcpkit.auth.front.providers import (
    ProviderDiscoveryFailed,
    from_discovery,
    upstream_resource,
    verifier_for,
)
from mcpkit.errors import InvalidToken


@pytest.fixture(scope="module")
def peer() -> Iterator[OidcProvider]:
    started = OidcProvider()
    try:
        yield started
    finally:
        started.close()


async def discovered(
    peer: OidcProvider,
    *,
    name: str | None = None,
    audience: str | None = None,
    resource_parameter: ResourceParameter = "omit",
) -> UpstreamProvider:
    client_id, secret = SERVICE
    async with asyncio.timeout(WAIT):
        return await from_discovery(
            peer.issuer,
            client_id=client_id,
            client_secret=secret,
            name=name,
            audience=audience,
            resource_parameter=resource_parameter,
        )


async def token_from(provider: UpstreamProvider, *, mcp_resource: str) -> str:
    """A client credentials token asked for as the configuration says: at its token endpoint,
    with its client authentication, and the `resource` it sends upstream."""
    assert provider.client_secret is not None and provider.token_auth == "client_secret_basic"
    form = {"grant_type": "client_credentials", "scope": "mcp"}
    resource = upstream_resource(provider, mcp_resource)
    if resource is not None:
        form["resource"] = resource
    async with asyncio.timeout(WAIT), httpx.AsyncClient(timeout=WAIT) as http:
        answer = await http.post(
            provider.token_url, data=form, auth=(provider.client_id, provider.client_secret)
        )
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


async def test_from_discovery_reads_the_providers_document(peer: OidcProvider) -> None:
    found = await discovered(peer, name="Local OP", audience=RESOURCE)
    async with asyncio.timeout(WAIT), httpx.AsyncClient(timeout=WAIT) as http:
        document = (await http.get(peer.issuer + "/.well-known/openid-configuration")).json()
    assert (found.name, found.issuer) == ("Local OP", peer.issuer)
    assert found.authorize_url == document["authorization_endpoint"]
    assert found.token_url == document["token_endpoint"]
    assert found.jwks_url == document["jwks_uri"]
    assert found.userinfo_url == document["userinfo_endpoint"]
    assert found.revocation_url == document.get("revocation_endpoint")
    assert found.token_auth == "client_secret_basic"  # listed first of the two we choose from
    assert found.pkce == ("S256" in document["code_challenge_methods_supported"])


async def test_a_misspelt_issuer_is_refused_with_the_one_the_provider_states(
    peer: OidcProvider,
) -> None:
    client_id, secret = SERVICE
    with pytest.raises(ProviderDiscoveryFailed, match=f"describes issuer '{peer.issuer}'"):
        async with asyncio.timeout(WAIT):
            await from_discovery(peer.issuer + "/", client_id=client_id, client_secret=secret)


async def test_pass_through_tokens_are_verified_by_the_recipe_built_verifier(
    peer: OidcProvider,
) -> None:
    provider = await discovered(peer, audience=RESOURCE, resource_parameter="mcp")
    token = await token_from(provider, mcp_resource=RESOURCE)
    async with asyncio.timeout(WAIT), verifier_for(provider, required_scopes=["mcp"]) as verifier:
        found = await verifier.verify(token, resource=RESOURCE)
        assert (found.subject, found.issuer, found.audience) == (
            "mcp-service", peer.issuer, (RESOURCE,)
        )  # fmt: skip
        elsewhere = dataclasses.replace(provider, resource="https://elsewhere.example.com/mcp")
        other = await token_from(
            dataclasses.replace(elsewhere, resource_parameter="fixed"), mcp_resource=RESOURCE
        )
        with pytest.raises(InvalidToken, match=f"another audience, not {RESOURCE}"):
            await verifier.verify(other, resource=RESOURCE)


async def test_without_a_resource_the_provider_names_no_audience_of_ours(
    peer: OidcProvider,
) -> None:
    provider = await discovered(peer, audience=RESOURCE)  # resource_parameter="omit"
    token = await token_from(provider, mcp_resource=RESOURCE)
    assert token.count(".") != 2  # oidc-provider's opaque token: not for a resource server
    async with asyncio.timeout(WAIT), verifier_for(provider) as verifier:
        with pytest.raises(InvalidToken):
            await verifier.verify(token, resource=RESOURCE)
