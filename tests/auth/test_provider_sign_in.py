"""What the authorization front sends a provider for a sign-in (`authorize_parameters`,
`upstream_resource`): Entra's `resource` for each setting (AADSTS9010010), PKCE, the nonce,
the providers' extra parameters; and `verifier_for`, built where the provider can name the
MCP server as audience and refused, with the reason, where it cannot."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any, TypedDict

import pytest
from _oidc_double import Provider
from _serving import WAIT, serving

from mcpkit.auth.front import UpstreamProvider, providers
from mcpkit.auth.front.providers import authorize_parameters, upstream_resource, verifier_for
from mcpkit.errors import InsufficientScope

TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
MCP = "https://mcp.example.com/mcp"  # the resource the MCP client asked the front for


class Client(TypedDict):
    client_id: str
    client_secret: str


CLIENT: Client = {"client_id": "front-client", "client_secret": "front-secret"}
SIGN_IN = {
    "redirect_uri": "https://mcp.example.com/callback",
    "state": "st4te",
    "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    "nonce": "n0nce",
    "mcp_resource": MCP,
}


def sent(provider: UpstreamProvider, **changes: Any) -> dict[str, str]:
    return authorize_parameters(provider, **(SIGN_IN | changes))


def entra(**settings: Any) -> UpstreamProvider:
    return providers.entra(tenant=TENANT, api_scopes=["access_as_user"], **CLIENT, **settings)


def test_entra_sends_no_resource_by_default_whatever_the_mcp_client_asked() -> None:
    query = sent(entra())
    assert "resource" not in query  # Entra refuses one that is not its scopes' (AADSTS9010010)
    assert query == {
        "response_type": "code",
        "client_id": "front-client",
        "redirect_uri": "https://mcp.example.com/callback",
        "state": "st4te",
        "scope": "openid profile offline_access api://front-client/access_as_user",
        "code_challenge": SIGN_IN["code_challenge"],
        "code_challenge_method": "S256",
        "nonce": "n0nce",
    }
    assert upstream_resource(entra(), MCP) is None  # nor on its token requests


def test_entra_send_resource_sends_the_app_id_uri_matching_its_scopes() -> None:
    query = sent(entra(send_resource=True))
    assert query["resource"] == "api://front-client"
    assert query["scope"].split()[-1].startswith(query["resource"] + "/")
    assert upstream_resource(entra(send_resource=True), MCP) == "api://front-client"
    custom = entra(app_id_uri="https://contoso.com/mcp", send_resource=True)
    assert sent(custom)["resource"] == "https://contoso.com/mcp"


def test_mcp_setting_forwards_the_mcp_clients_resource() -> None:
    keycloak = providers.keycloak(base_url="https://sso.example.com", realm="acme", **CLIENT)
    forwarding = dataclasses.replace(keycloak, resource_parameter="mcp")
    assert sent(forwarding)["resource"] == MCP
    with pytest.raises(ValueError, match="Keycloak: resource_parameter='mcp'"):
        sent(forwarding, mcp_resource=None)


def test_cognito_and_workos_send_their_fixed_resource() -> None:
    pool = providers.cognito(
        domain="acme.auth.us-east-1.amazoncognito.com",
        user_pool_id="us-east-1_AbCdEf123",
        resource_server="https://api.example.com/mcp",
        **CLIENT,
    )
    assert sent(pool)["resource"] == "https://api.example.com/mcp"
    authkit = providers.workos(domain="acme-42.authkit.app", audience=MCP, **CLIENT)
    assert sent(authkit, mcp_resource="https://elsewhere.example.com")["resource"] == MCP


def test_provider_parameters_are_added() -> None:
    assert sent(providers.google(**CLIENT))["access_type"] == "offline"
    assert sent(providers.google(**CLIENT))["prompt"] == "consent"
    auth0 = providers.auth0(domain="acme.us.auth0.com", audience=MCP, **CLIENT)
    assert sent(auth0)["audience"] == MCP


def test_plain_oauth_needs_no_nonce() -> None:
    query = sent(providers.github(**CLIENT), nonce=None)
    assert "nonce" not in query and query["scope"] == "read:user"


def test_refusals() -> None:
    with pytest.raises(ValueError, match="GitHub: PKCE is on and no code_challenge"):
        sent(providers.github(**CLIENT), code_challenge=None)
    with pytest.raises(ValueError, match="Google: an OpenID sign-in needs a nonce"):
        sent(providers.google(**CLIENT), nonce=None)
    sneaky = dataclasses.replace(
        providers.github(**CLIENT), authorize_params={"redirect_uri": "https://evil.example"}
    )
    with pytest.raises(
        ValueError, match=r"GitHub: authorize_params may not set \['redirect_uri'\]"
    ):
        sent(sneaky)


@pytest.mark.parametrize(
    ("provider", "reason"),
    [
        (providers.github(**CLIENT), "GitHub's access tokens are opaque and name no audience"),
        (providers.google(**CLIENT), "Google's access tokens are opaque"),
        (providers.okta(domain="acme.okta.com", **CLIENT), "Okta was configured without"),
        (providers.entra(tenant=TENANT, **CLIENT), "Microsoft Entra ID was configured without"),
        (
            providers.entra(tenant="common", api_scopes=["access_as_user"], **CLIENT),
            "its tokens have no fixed issuer",
        ),
    ],
)  # fmt: skip
def test_verifier_for_is_refused_with_the_reason(provider: UpstreamProvider, reason: str) -> None:
    with pytest.raises(ValueError, match=f"no pass-through verifier for {provider.name}: {reason}"):
        verifier_for(provider)


async def test_verifier_for_checks_the_providers_issuer_and_audience() -> None:
    auth0 = providers.auth0(domain="acme.us.auth0.com", audience=MCP, **CLIENT)
    async with verifier_for(auth0) as verifier:
        assert verifier.issuer == "https://acme.us.auth0.com/"
    async with verifier_for(entra(), required_scopes=["access_as_user"]) as verifier:
        assert verifier.issuer == f"https://login.microsoftonline.com/{TENANT}/v2.0"


def test_an_audience_that_is_the_fronts_client_id_needs_a_required_scope() -> None:
    assert entra().audience == entra().client_id  # the registration exposes the API itself
    with pytest.raises(ValueError, match="ID tokens carry too; give required_scopes="):
        verifier_for(entra())


async def test_an_id_token_of_the_same_registration_is_not_taken_for_an_access_token() -> None:
    """Entra's ID tokens and its v2.0 access tokens for the front's own API both name the
    front's client ID in `aud`; only the access token has the scope (`scp`)."""
    provider = Provider()
    async with asyncio.timeout(WAIT), serving(provider) as base:
        provider.base = base
        upstream = dataclasses.replace(entra(), issuer=base)
        async with verifier_for(upstream, required_scopes=["access_as_user"]) as verifier:
            access = provider.token(aud="front-client", scp="access_as_user", oid="o1")
            assert (await verifier.verify(access, resource=MCP)).subject == "alice"
            id_token = provider.token(aud="front-client", oid="o1", nonce="n0nce")
            with pytest.raises(InsufficientScope):
                await verifier.verify(id_token, resource=MCP)
