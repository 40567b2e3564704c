"""Entra sign-in for every tenant (`tenant="common"`/`"organizations"`) through the front: the
ID token's issuer is Entra's template filled with the token's own `tid`, its signature checked
against the common JWKS, and `allowed_tenants` keeping other tenants' users out. Entra's hosts
are answered in process (httpx's mock transport) with ID tokens signed by a local key."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any

import httpx
import pytest
from _front_world import REDIRECT, VERIFIER, authorize_query, browser, hidden, query_of, register
from _verify_tokens import EC, EC_OTHER
from joserfc import jwt
from joserfc.jwk import Key
from test_provider_recipes_docs import GUID as HOME
from test_provider_recipes_docs import run

from mcpkit.auth.front import AuthorizationFront, UpstreamProvider, providers
from mcpkit.stores.kv import MemoryKeyValueStore

WAIT = 5.0
GUEST = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"  # another tenant
OID = "00000000-0000-0000-66f3-3332eca7ea81"
LOGIN = "https://login.microsoftonline.com"
ELSEWHERE = "issued by another authorization server"


def entra_common(**settings: Any) -> UpstreamProvider:
    return providers.entra(
        tenant="common", client_id="front-client", client_secret="front-secret", **settings
    )


class Entra:
    """Entra's endpoints for `tenant`: the JWKS, and a token endpoint answering with an ID
    token of `claims` (plus the sign-in's nonce) signed by `signer`."""

    def __init__(self, claims: dict[str, Any], signer: Key = EC, tenant: str = "common") -> None:
        self.claims, self.signer, self.tenant = claims, signer, tenant
        self.nonce = ""

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url == f"{LOGIN}/{self.tenant}/discovery/v2.0/keys":
            return httpx.Response(200, json={"keys": [EC.as_dict(private=False)]})
        assert request.url == f"{LOGIN}/{self.tenant}/oauth2/v2.0/token"
        now = int(time.time())
        claims = {"aud": "front-client", "iat": now, "exp": now + 600, "nonce": self.nonce}
        header = {"alg": "ES256", "kid": self.signer.kid, "typ": "JWT"}
        id_token = jwt.encode(header, claims | self.claims, self.signer)
        return httpx.Response(200, json={"access_token": "at", "id_token": id_token})


async def sign_in(provider: UpstreamProvider, entra: Entra) -> dict[str, str]:
    """The whole sign-in: the MCP client's redirect back, and its code redeemed (`sub`)."""
    upstream = httpx.AsyncClient(transport=httpx.MockTransport(entra))
    front = AuthorizationFront(provider, store=MemoryKeyValueStore(), http_client=upstream)
    async with asyncio.timeout(WAIT), upstream, browser(front) as http:
        client = await register(http, token_endpoint_auth_method="none")
        page = await http.get("/authorize", params=authorize_query(client["client_id"]))
        form = {"request": hidden(page.text, "request"), "csrf": hidden(page.text, "csrf")}
        allowed = await http.post("/consent", data=form | {"decision": "allow"})
        sent = query_of(allowed.headers["location"])
        entra.nonce = sent["nonce"]
        back = await http.get("/callback", params={"state": sent["state"], "code": "entra-code"})
        reply = query_of(back.headers["location"])
        if "code" not in reply:
            return reply
        token = await http.post(
            "/token",
            data={
                "grant_type": "authorization_code",
                "code": reply["code"],
                "redirect_uri": REDIRECT,
                "code_verifier": VERIFIER,
                "client_id": client["client_id"],
            },
        )
    assert token.status_code == 200, token.text
    payload = token.json()["access_token"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return {"sub": claims["sub"]}


def signed_in_by(tenant: str) -> dict[str, str]:
    return {"iss": f"{LOGIN}/{tenant}/v2.0", "tid": tenant, "oid": OID, "sub": "pairwise"}


@pytest.mark.parametrize("allowed", [[HOME], [HOME.upper(), GUEST], []])
async def test_a_user_of_an_allowed_tenant_signs_in_named_by_oid(allowed: list[str]) -> None:
    provider = entra_common(allowed_tenants=allowed)
    assert provider.issuer is None  # no fixed issuer: each user's tenant is one
    assert await sign_in(provider, Entra(signed_in_by(HOME))) == {"sub": OID}


@pytest.mark.parametrize(
    ("claims", "signer", "why"),
    [
        (signed_in_by(GUEST), EC, f"tenant {GUEST} is not one of allowed_tenants"),
        (signed_in_by(HOME) | {"iss": f"{LOGIN}/{GUEST}/v2.0"}, EC, ELSEWHERE),
        (signed_in_by(HOME) | {"iss": "https://sts.windows.net/x/"}, EC, ELSEWHERE),
        (signed_in_by(HOME) | {"tid": "contoso"}, EC, "no tenant ID (tid) as a GUID"),
        ({"iss": f"{LOGIN}/{HOME}/v2.0", "oid": OID}, EC, "no tenant ID (tid) as a GUID"),
        (signed_in_by(HOME), EC_OTHER, "signature"),
        (signed_in_by(HOME) | {"aud": "another-app"}, EC, "audience"),
        (signed_in_by(HOME) | {"nonce": "replayed"}, EC, "nonce"),
    ],
)
async def test_other_tenants_and_forged_tokens_are_refused(
    claims: dict[str, Any], signer: Key, why: str
) -> None:
    reply = await sign_in(entra_common(allowed_tenants=[HOME]), Entra(claims, signer))
    assert reply["error"] == "access_denied"
    assert why in reply["error_description"]


async def test_the_docs_block_lets_its_tenants_users_in_and_no_others(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    upstream: UpstreamProvider = run("entra_tenants.py", monkeypatch)["upstream"]
    assert upstream.issuer_template == f"{LOGIN}/{{tenantid}}/v2.0"
    assert upstream.allowed_tenants == (HOME, HOME)  # each variable set to the same GUID
    aud = {"aud": upstream.client_id}
    home = Entra(signed_in_by(HOME) | aud, tenant="organizations")
    assert await sign_in(upstream, home) == {"sub": OID}
    guest = await sign_in(upstream, Entra(signed_in_by(GUEST) | aud, tenant="organizations"))
    assert "is not one of allowed_tenants" in guest["error_description"]


def test_the_recipe_and_the_provider_refuse_misplaced_tenancy_settings() -> None:
    with pytest.raises(ValueError, match="allowed_tenants= are Directory"):
        entra_common(allowed_tenants=["contoso.onmicrosoft.com"])
    with pytest.raises(ValueError, match="allowed_tenants= is for tenant='common'"):
        providers.entra(tenant=HOME, client_id="c", client_secret="s", allowed_tenants=[HOME])
    with pytest.raises(ValueError, match="allowed_tenants= needs issuer_template="):
        bare(allowed_tenants=(HOME,))
    with pytest.raises(ValueError, match=r"has \{tenantid\} once"):
        bare(issuer_template="https://x/{tid}", jwks_url="https://x/keys")
    with pytest.raises(ValueError, match="goes with jwks_url= and without issuer="):
        bare(issuer_template="https://x/{tenantid}")


def bare(**settings: Any) -> UpstreamProvider:
    return UpstreamProvider(
        name="X", authorize_url="https://x/a", token_url="https://x/t", client_id="c",
        token_auth="none", **settings,
    )  # fmt: skip
