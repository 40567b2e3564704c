"""The authorization front (issue 43) against a real OpenID provider, npm `oidc-provider`
(peers/oidc_provider.mjs), signing in through its own login and consent pages: mcpkit's
OAuth client completes the whole flow headlessly in both eras and a tool learns the
provider's subject and calls the provider as the user; refresh through the front; a token
revoked at the provider ends the front's grant; a second front over the same store and key
serves the token endpoint; the pass-through mode; a look-alike registration refused at the
consent step."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from _ports import spare_port
from form_browser import FormBrowser
from front_world import PROVIDER_NAME, Authorized, authorize, front_server
from oidc_peer import WAIT, OidcProvider

from mcpkit import Client
from mcpkit.auth.client import MemoryTokenStorage, OAuth
from mcpkit.auth.devserver.keys import SigningKey
from mcpkit.auth.front import FrontSettings, UpstreamTokenUnavailable
from mcpkit.auth.metadata import ClientMetadata
from mcpkit.errors import InvalidToken


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcProvider]:
    with OidcProvider() as peer:
        yield peer


async def token_request(
    base: str, authorized: Authorized, form: dict[str, str], host: str | None = None
) -> httpx.Response:
    """A token endpoint call as the MCP client registered in `authorized`."""
    client = authorized.client
    secret = client.get("client_secret")
    headers = {"host": host} if host else {}
    async with httpx.AsyncClient(timeout=WAIT) as http:
        if secret:
            auth = (client["client_id"], secret)
            return await http.post(base + "/token", data=form, auth=auth, headers=headers)
        data = form | {"client_id": client["client_id"]}
        return await http.post(base + "/token", data=data, headers=headers)


def renew(refresh_token: str) -> dict[str, str]:
    return {"grant_type": "refresh_token", "refresh_token": refresh_token}


def redeem(authorized: Authorized) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": authorized.code,
        "code_verifier": authorized.verifier,
        "redirect_uri": authorized.redirect_uri,
    }


@pytest.mark.parametrize("era", ["2025-11-25", "2026-07-28"])
async def test_mcpkit_client_signs_in_through_the_front(provider: OidcProvider, era: str) -> None:
    browser = FormBrowser(login="alice")
    auth = OAuth(browser, client_metadata=ClientMetadata(client_name="Interop desk"))
    async with asyncio.timeout(3 * WAIT), front_server(provider) as (base, _front):
        async with Client(base + "/mcp", auth=auth, protocol=era) as client:
            who = (await client.call_tool("whoami", {})).structured_content
            me = (await client.call_tool("provider_me", {})).structured_content
    assert who == {"subject": "alice", "idp": PROVIDER_NAME, "audience": [base + "/mcp"]}
    assert me is not None and me["sub"] == "alice"  # the provider's API, called as alice
    consent = browser.pages[0]  # the front's page comes first, before the provider's
    assert consent.url.startswith(base + "/authorize")
    assert "Interop desk" in consent.text and "127.0.0.1:9" in consent.text
    assert consent.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in consent.headers["content-security-policy"]
    assert any("/interaction/" in page.url for page in browser.pages[1:])  # its login page


async def test_refresh_through_the_front_rotates_and_detects_reuse(
    provider: OidcProvider,
) -> None:
    async with asyncio.timeout(3 * WAIT), front_server(provider) as (base, front):
        authorized = await authorize(base, FormBrowser(login="bob"))
        first = (await token_request(base, authorized, redeem(authorized))).json()
        refreshed = await token_request(
            base,
            authorized,
            renew(first["refresh_token"]),
        )
        assert refreshed.status_code == 200, refreshed.text
        second = refreshed.json()
        assert second["refresh_token"] != first["refresh_token"]
        checked = await front.verifier().verify(second["access_token"], resource=base + "/mcp")
        assert checked.subject == "bob" and checked.claims["idp"] == PROVIDER_NAME
        reused = await token_request(
            base,
            authorized,
            renew(first["refresh_token"]),
        )
        assert reused.status_code == 400 and "already used" in reused.json()["error_description"]
        # The reuse ended the whole grant: its newest tokens too.
        after = await token_request(
            base,
            authorized,
            renew(second["refresh_token"]),
        )
        assert after.json()["error"] == "invalid_grant"
        with pytest.raises(InvalidToken, match="ended"):
            await front.verifier().verify(second["access_token"], resource=base + "/mcp")


async def test_a_token_revoked_at_the_provider_ends_the_fronts_grant(
    provider: OidcProvider,
) -> None:
    storage = MemoryTokenStorage()
    browser = FormBrowser(login="carol")
    auth = OAuth(
        browser, client_metadata=ClientMetadata(client_name="Interop desk"), storage=storage
    )
    async with asyncio.timeout(3 * WAIT), front_server(provider) as (base, front):
        async with Client(base + "/mcp", auth=auth) as client:
            assert (await client.call_tool("provider_me", {})).structured_content is not None
        tokens = await storage.load_tokens(base + "/mcp")
        assert tokens is not None and tokens.refresh_token is not None
        checked = await front.verifier().verify(tokens.access_token, resource=base + "/mcp")

        class Caller:
            auth = checked

        upstream = await front.upstream_token(Caller())
        async with httpx.AsyncClient(timeout=WAIT) as http:
            revoked = await http.post(
                front.upstream.revocation_url or "",
                data={"token": upstream},
                auth=(front.upstream.client_id, "front-secret"),
            )
        assert revoked.status_code == 200
        stored = await storage.load_client(tokens.issuer)
        assert stored is not None
        client = stored.information
        refused = await token_request(
            base,
            Authorized(msgspec_dict(client), "", "", "", browser),
            renew(tokens.refresh_token),
        )
        assert refused.status_code == 400, refused.text
        assert "the provider ended this sign-in" in refused.json()["error_description"]
        with pytest.raises(InvalidToken, match="ended"):
            await front.verifier().verify(tokens.access_token, resource=base + "/mcp")
        with pytest.raises(UpstreamTokenUnavailable):
            await front.upstream_token(Caller())


def msgspec_dict(client: Any) -> dict[str, Any]:
    return {"client_id": client.client_id, "client_secret": client.client_secret}


async def test_a_second_front_over_the_same_store_serves_the_token_endpoint(
    provider: OidcProvider, tmp_path: Path
) -> None:
    """Two fronts (two workers, or two hosts behind one name) sharing a SQLite store and one
    key: the code the first gave is redeemed at the second, whose tokens the first accepts,
    and refreshed at the first again."""
    key = tmp_path / "front.pem"
    SigningKey().save(key)
    store = f"sqlite:///{tmp_path / 'state.db'}"
    async with (
        asyncio.timeout(3 * WAIT),
        front_server(provider, key=key, store=store) as (base, front),
        front_server(provider, key=key, store=store) as (other, _),
    ):
        authorized = await authorize(base, FormBrowser(login="dave"))
        host = base.removeprefix("http://")  # a load balancer keeps the Host header
        answer = await token_request(other, authorized, redeem(authorized), host=host)
        assert answer.status_code == 200, answer.text
        tokens = answer.json()
        checked = await front.verifier().verify(tokens["access_token"], resource=base + "/mcp")
        assert checked.subject == "dave" and checked.issuer == base
        again = await token_request(
            base,
            authorized,
            renew(tokens["refresh_token"]),
        )
        assert again.status_code == 200, again.text


async def test_pass_through_gives_the_client_the_providers_token(provider: OidcProvider) -> None:
    """The provider puts the MCP server in its access tokens' audience (RFC 8707 resource):
    the client gets that token, which the server checks against the provider's keys."""
    port = spare_port()
    resource = f"http://127.0.0.1:{port}/mcp"
    browser = FormBrowser(login="erin")
    auth = OAuth(browser, client_metadata=ClientMetadata(client_name="Interop desk"))
    settings = FrontSettings(tokens="pass-through")
    async with (
        asyncio.timeout(3 * WAIT),
        front_server(
            provider,
            settings,
            port=port,
            resource_parameter="mcp",
            audience=resource,
            scopes=("openid", "offline_access", "mcp"),
        ) as (base, _),
    ):
        async with Client(base + "/mcp", auth=auth) as client:
            who = (await client.call_tool("whoami", {})).structured_content
    assert who == {"subject": "erin", "idp": None, "audience": [resource]}


@pytest.mark.parametrize(
    ("name", "redirect", "why"),
    [
        ("Claude", "https://xn--cade-8qa.ai/callback", "punycode"),
        ("claude.ai", "https://claude-ai.example.net/callback", "redirects to"),
    ],
)
async def test_a_look_alike_registration_is_refused_at_consent(
    provider: OidcProvider, name: str, redirect: str, why: str
) -> None:
    browser = FormBrowser(redirect)
    async with asyncio.timeout(3 * WAIT), front_server(provider) as (base, _):
        with pytest.raises(AssertionError, match="answered 400 without a form"):
            await authorize(base, browser, client_name=name)
    (page,) = browser.pages  # refused at the front: the provider was never reached
    assert why in page.text and page.url.startswith(base + "/authorize")


async def test_revoking_at_the_front_revokes_at_the_provider_too(provider: OidcProvider) -> None:
    async with asyncio.timeout(3 * WAIT), front_server(provider) as (base, front):
        authorized = await authorize(base, FormBrowser(login="ivy"))
        tokens = (await token_request(base, authorized, redeem(authorized))).json()
        checked = await front.verifier().verify(tokens["access_token"], resource=base + "/mcp")

        class Caller:
            auth = checked

        upstream = await front.upstream_token(Caller())
        userinfo = front.upstream.userinfo_url or ""
        async with httpx.AsyncClient(timeout=WAIT) as http:
            bearer = {"authorization": f"Bearer {upstream}"}
            before = await http.get(userinfo, headers=bearer)
            secret = authorized.client.get("client_secret")
            auth = (authorized.client["client_id"], secret) if secret else None
            assert auth is not None  # registered with the default client_secret_basic
            revoked = await http.post(
                base + "/revoke", data={"token": tokens["refresh_token"]}, auth=auth
            )
            after = await http.get(userinfo, headers=bearer)
        assert before.status_code == 200 and revoked.status_code == 200
        assert after.status_code == 401  # the provider's grant ended with the front's
        with pytest.raises(InvalidToken, match="ended"):
            await front.verifier().verify(tokens["access_token"], resource=base + "/mcp")


async def test_the_providers_token_is_renewed_for_a_handler_when_it_is_about_to_expire(
    provider: OidcProvider,
) -> None:
    now = [time.time()]
    async with (
        asyncio.timeout(3 * WAIT),
        front_server(provider, clock=lambda: now[0]) as (base, front),
    ):
        authorized = await authorize(base, FormBrowser(login="jo"))
        tokens = (await token_request(base, authorized, redeem(authorized))).json()
        checked = await front.verifier().verify(tokens["access_token"], resource=base + "/mcp")

        class Caller:
            auth = checked

        first = await front.upstream_token(Caller())
        assert await front.upstream_token(Caller()) == first  # still good: kept
        now[0] += 3600  # the provider's token (an hour) is about to expire
        renewed = await front.upstream_token(Caller())
        assert renewed != first
        assert await front.upstream_token(Caller()) == renewed  # saved for every worker
        async with httpx.AsyncClient(timeout=WAIT) as http:
            me = await http.get(
                front.upstream.userinfo_url or "", headers={"authorization": f"Bearer {renewed}"}
            )
        assert me.json()["sub"] == "jo"
