"""An MCP server behind an `AuthorizationFront` whose upstream is the real oidc-provider peer:
how the front's interop tests (and later the official SDKs' clients) get one, and a manual
authorization code flow through it with the form-filling test browser."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import itertools
import secrets
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from form_browser import FormBrowser
from oidc_peer import WAIT, OidcProvider

from mcpkit import Context, Server
from mcpkit.auth.front import AuthorizationFront, FrontSettings, UpstreamProvider

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))
from _serving import serving

__all__ = [
    "PROVIDER_NAME",
    "Authorized",
    "authorize",
    "front_server",
    "revoke_upstream",
    "upstream_of",
]

PROVIDER_NAME = "Interop OIDC"
_client_ids = itertools.count(1)


def upstream_of(provider: OidcProvider, client_id: str, **fields: Any) -> UpstreamProvider:
    """The peer as the front's upstream, with the front's client `client_id` there."""
    found = httpx.get(provider.issuer + "/.well-known/openid-configuration", timeout=WAIT).json()
    settings: dict[str, Any] = {
        "name": PROVIDER_NAME,
        "authorize_url": found["authorization_endpoint"],
        "token_url": found["token_endpoint"],
        "client_id": client_id,
        "client_secret": "front-secret",
        "scopes": ("openid", "offline_access"),
        "issuer": provider.issuer,
        "jwks_url": found["jwks_uri"],
        "userinfo_url": found["userinfo_endpoint"],
        "revocation_url": found["revocation_endpoint"],
        # oidc-provider grants offline_access (a refresh token) only with prompt=consent.
        "authorize_params": {"prompt": "consent"},
    }
    return UpstreamProvider(**(settings | fields))


def whoami_server(
    front: AuthorizationFront,
    name: str = "front-e2e",
    *,
    leeway: float | None = None,
    **options: Any,
) -> Server:
    """A server whose tools report who called (as the front's token says) and who the
    provider says the caller is (its userinfo, called with the caller's provider token).
    `leeway` replaces the verifier's allowance for clock difference (0: a token is refused
    the second it expires, so a short-lived one makes clients refresh soon)."""
    server = Server(name, **options)
    server.auth = front.protect(server)
    if leeway is not None:
        server.auth = dataclasses.replace(server.auth, verifier=front.verifier(leeway=leeway))

    @server.tool()
    def whoami(ctx: Context) -> dict[str, Any]:
        """Who the caller is."""
        assert ctx.auth is not None
        return {
            "subject": ctx.auth.subject,
            "idp": ctx.auth.claims.get("idp"),
            "audience": list(ctx.auth.audience),
        }

    @server.tool()
    async def provider_me(ctx: Context) -> dict[str, Any]:
        """The provider's userinfo for the caller, asked with the caller's provider token."""
        token = await front.upstream_token(ctx)
        userinfo = front.upstream.userinfo_url
        assert userinfo is not None
        async with httpx.AsyncClient(timeout=WAIT) as http:
            answer = await http.get(userinfo, headers={"authorization": f"Bearer {token}"})
        found: dict[str, Any] = answer.json()
        return found

    return server


@contextlib.asynccontextmanager
async def front_server(
    provider: OidcProvider,
    settings: FrontSettings | None = None,
    *,
    key: Any = None,
    store: str | None = None,
    clock: Callable[[], float] = time.time,
    port: int = 0,
    leeway: float | None = None,
    **upstream: Any,
) -> AsyncIterator[tuple[str, AuthorizationFront]]:
    """A served MCP server behind a front over `provider` (its client there registered with
    the front's callback): its base URL and the front. `leeway` as `whoami_server`'s."""
    client_id = f"front-{next(_client_ids)}"
    upstream_provider = upstream_of(provider, client_id, **upstream)
    front = AuthorizationFront(upstream_provider, settings, key=key, clock=clock)
    server = whoami_server(front, leeway=leeway, **({"store": store} if store else {}))
    try:
        async with serving(server.http_app(), port=port) as base:
            provider.register_client([front.callback_url(base)], client_id=client_id)
            yield base, front
    finally:
        await front.aclose()


@dataclass
class Authorized:
    """What a manual flow through the front ends with: the MCP client's registration, its
    code and PKCE verifier, and the redirect URI used."""

    client: dict[str, Any]
    code: str
    verifier: str
    redirect_uri: str
    browser: FormBrowser


async def authorize(base: str, browser: FormBrowser | None = None, **metadata: Any) -> Authorized:
    """Register an MCP client at the front (RFC 7591) and take the user through it with the
    test browser: the front's consent page, then the provider's login and consent pages."""
    browser = browser or FormBrowser()
    redirect_uri = await browser.redirect_uri()
    body = {"client_name": "Interop desk", "redirect_uris": [redirect_uri]} | metadata
    async with httpx.AsyncClient(timeout=WAIT) as http:
        registered = await http.post(base + "/register", json=body)
    assert registered.status_code == 201, registered.text
    client: dict[str, Any] = registered.json()
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = {
        "response_type": "code",
        "client_id": client["client_id"],
        "redirect_uri": redirect_uri,
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
        "state": "st-1",
        "resource": base + "/mcp",
    }
    final = await browser.run(f"{base}/authorize?{urlencode(query)}")
    answer = {name: values[0] for name, values in parse_qs(urlsplit(final).query).items()}
    assert answer["state"] == "st-1" and answer["iss"] == base, answer
    return Authorized(client, answer["code"], verifier, redirect_uri, browser)


async def revoke_upstream(front: AuthorizationFront, access_token: str, resource: str) -> None:
    """Revoke, at the provider, the provider token the front keeps for the grant behind the
    front's `access_token` (as the user or an administrator would there, RFC 7009)."""
    checked = await front.verifier().verify(access_token, resource=resource)

    class Caller:
        auth = checked

    upstream = await front.upstream_token(Caller())
    async with httpx.AsyncClient(timeout=WAIT) as http:
        revoked = await http.post(
            front.upstream.revocation_url or "",
            data={"token": upstream},
            auth=(front.upstream.client_id, "front-secret"),
        )
    assert revoked.status_code == 200, revoked.text
