"""`providers.from_discovery` against a provider double served by uvicorn on 127.0.0.1: the
endpoints, client authentication and PKCE read from the document, and the refusals, each a
`ProviderDiscoveryFailed` naming the provider: another issuer, a document over the bound, a
missing endpoint, a non-https endpoint, a client authentication it does not offer, a
provider that never answers. (tests/interop/test_provider_recipes_oidc.py reads a real
provider's.)"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
from _oidc_double import Provider
from _serving import WAIT, serving

from mcpkit.auth.front.providers import ProviderDiscoveryFailed, from_discovery

SECRET = {"client_secret": "s3cret"}


class SignInProvider(Provider):
    """The double, with what an OpenID provider's document adds for a sign-in; `extra`
    replaces or adds fields."""

    def __init__(self, **extra: Any) -> None:
        super().__init__()
        self.extra = extra

    def metadata(self) -> dict[str, Any]:
        found = super().metadata() | {
            "authorization_endpoint": self.base + "/authorize",
            "userinfo_endpoint": self.base + "/userinfo",
            "revocation_endpoint": self.base + "/revoke",
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt"],
        }
        return {k: v for k, v in (found | self.extra).items() if v is not None}


async def discovered(provider: Provider, **settings: Any) -> Any:
    async with asyncio.timeout(WAIT), serving(provider) as base:
        provider.base = base
        return await from_discovery(base, client_id="front", **settings)


async def test_the_document_gives_the_endpoints() -> None:
    provider = SignInProvider()
    found = await discovered(provider, client_secret="s3cret", audience="https://mcp.example")
    base = provider.base
    assert (found.name, found.issuer, found.authorize_url, found.token_url) == (
        "127.0.0.1", base, f"{base}/authorize", f"{base}/token"
    )  # fmt: skip
    assert (found.jwks_url, found.userinfo_url, found.revocation_url) == (
        f"{base}/jwks", f"{base}/userinfo", f"{base}/revoke"
    )  # fmt: skip
    assert found.token_auth == "client_secret_post"  # the one it offers of the two
    assert found.pkce and found.scopes == ("openid", "profile", "email")
    assert found.audience == "https://mcp.example"


async def test_client_authentication_and_pkce_follow_the_document() -> None:
    silent = SignInProvider(
        token_endpoint_auth_methods_supported=None, code_challenge_methods_supported=["plain"]
    )
    found = await discovered(silent, client_secret="s3cret", name="Acme")
    assert found.token_auth == "client_secret_basic"  # RFC 8414's default when not listed
    assert not found.pkce  # only plain offered: S256 would be refused
    public = await discovered(SignInProvider(token_endpoint_auth_methods_supported=["none"]))
    assert (public.token_auth, public.client_secret) == ("none", None)


@pytest.mark.parametrize(
    ("provider", "settings", "message"),
    [
        (SignInProvider(authorization_endpoint=None), {}, "names no authorization_endpoint"),
        (SignInProvider(jwks_uri=None), SECRET, "names no jwks_uri, to check ID tokens"),
        (
            SignInProvider(userinfo_endpoint="http://userinfo.example.com/"),
            SECRET,
            "userinfo_endpoint must be an https URL",
        ),
        (SignInProvider(), {}, r"takes \['client_secret_post', 'private_key_jwt'\], none of"),
        (SignInProvider(), {"max_metadata_bytes": 100}, "over the limit of 100"),
    ],
)
async def test_refusals(provider: Provider, settings: dict[str, Any], message: str) -> None:
    with pytest.raises(ProviderDiscoveryFailed, match=rf"^127\.0\.0\.1: .*{message}"):
        await discovered(provider, **settings)


async def test_a_document_naming_another_issuer_is_refused() -> None:
    provider = SignInProvider()
    provider.claimed_issuer = "https://login.example.com"
    with pytest.raises(
        ProviderDiscoveryFailed, match=r"describes issuer 'https://login\.example\.com'"
    ):
        await discovered(provider, client_secret="s3cret")


async def test_a_provider_that_never_answers_costs_the_timeout() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listening:  # accepts, never answers
        issuer = f"http://127.0.0.1:{listening.getsockname()[1]}"
        async with asyncio.timeout(WAIT):
            with pytest.raises(ProviderDiscoveryFailed, match=r"no answer within 0\.2 s"):
                await from_discovery(issuer, client_id="front", timeout=0.2)


async def test_an_issuer_that_is_not_https_is_refused_before_any_fetch() -> None:
    with pytest.raises(ValueError, match="issuer must be an https URL"):
        await from_discovery("http://login.example.com", client_id="front")
