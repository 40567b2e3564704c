"""Bad access tokens refused at examples/protected.py's MCP endpoint over real uvicorn: each is
minted here with joserfc (with the development server's own key where the point is a claim),
and the endpoint answers 401 `invalid_token` (or 403 `insufficient_scope`) with the challenge
the spec names (basic/authorization, "Token Audience Binding and Validation"; RFC 6750)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from _devserver_helpers import pkce, redirect_params
from _e2e_helpers import WAIT, forged_signature, load_protected, serving
from _resource_helpers import bearer
from _serving import INITIALIZE
from _verify_tokens import b64, unsigned
from joserfc.jwk import ECKey

from mcpkit.auth.devserver import DevAuthorizationServer

Mint = Callable[[DevAuthorizationServer, dict[str, Any]], str]


def claims(base: str, **changes: Any) -> dict[str, Any]:
    """Claims the example's server accepts, as its development server would issue them now;
    a change of None drops the claim."""
    now = int(time.time())
    found: dict[str, Any] = {
        "iss": base,
        "sub": "mallory",
        "aud": base + "/mcp",
        "client_id": "client-1",
        "scope": "mcp",
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "jti": "e2e-1",
    }
    found.update(changes)
    return {name: value for name, value in found.items() if value is not None}


def signed(auth: DevAuthorizationServer, found: dict[str, Any]) -> str:
    return auth.key.sign_access_token(found)


def alg_none(auth: DevAuthorizationServer, found: dict[str, Any]) -> str:
    return unsigned({"alg": "none", "typ": "at+jwt", "kid": auth.key.kid}, found)


def hmac_with_the_public_key(auth: DevAuthorizationServer, found: dict[str, Any]) -> str:
    """Algorithm confusion: HS256 keyed with the published public key's PEM."""
    public = ECKey.import_key(auth.key.jwks()["keys"][0]).as_pem(private=False)
    head = f"{b64({'alg': 'HS256', 'typ': 'at+jwt', 'kid': auth.key.kid})}.{b64(found)}"
    return f"{head}.{b64(hmac.new(public, head.encode(), hashlib.sha256).digest())}"


def tampered(auth: DevAuthorizationServer, found: dict[str, Any]) -> str:
    """A real token whose payload was changed after signing (more scope)."""
    head, _, signature = signed(auth, found).split(".")
    return f"{head}.{b64({**found, 'scope': 'mcp admin'})}.{signature}"


HOUR = 3600
REFUSED: dict[str, tuple[Mint, dict[str, Any]]] = {
    "expired": (signed, {"exp": -HOUR, "iat": -2 * HOUR, "nbf": -2 * HOUR}),
    "not yet valid": (signed, {"nbf": HOUR}),
    "issued in the future": (signed, {"iat": HOUR, "nbf": None}),
    "without exp": (signed, {"exp": None}),
    "wrong audience": (signed, {"aud": "https://other.example.com/mcp"}),
    "wrong issuer": (signed, {"iss": "https://evil.example.com"}),
    "forged signature": (forged_signature, {}),
    "alg none": (alg_none, {}),
    "hmac with the public key": (hmac_with_the_public_key, {}),
    "tampered payload": (tampered, {}),
}
_TIMES = ("exp", "iat", "nbf")


@pytest.mark.parametrize("case", list(REFUSED))
async def test_a_bad_token_is_refused_with_401_invalid_token(case: str) -> None:
    mint, changes = REFUSED[case]
    example = load_protected()
    async with (
        asyncio.timeout(WAIT),
        serving(example.server.http_app()) as base,
        httpx.AsyncClient(timeout=WAIT) as http,
    ):
        now = int(time.time())
        relative = {k: now + v if k in _TIMES and v is not None else v for k, v in changes.items()}
        token = mint(example.auth_server, claims(base, **relative))
        refused = await http.post(base + "/mcp", json=INITIALIZE, headers=bearer(token))
        good = signed(example.auth_server, claims(base))
        accepted = await http.post(base + "/mcp", json=INITIALIZE, headers=bearer(good))
    assert refused.status_code == 401, refused.text
    challenge = refused.headers["www-authenticate"]
    assert challenge.startswith('Bearer error="invalid_token", error_description="')
    assert f'resource_metadata="{base}/.well-known/oauth-protected-resource/mcp"' in challenge
    assert token not in challenge and token not in refused.text
    assert "mcp-session-id" not in refused.headers
    assert accepted.status_code == 200  # the same server takes a well-made token


async def test_a_token_without_the_required_scope_gets_403_insufficient_scope() -> None:
    example = load_protected()
    async with (
        asyncio.timeout(WAIT),
        serving(example.server.http_app()) as base,
        httpx.AsyncClient(timeout=WAIT) as http,
    ):
        for scope in (None, "admin", "mcp:read"):
            token = signed(example.auth_server, claims(base, scope=scope))
            refused = await http.post(base + "/mcp", json=INITIALIZE, headers=bearer(token))
            assert refused.status_code == 403, scope
            challenge = refused.headers["www-authenticate"]
            assert challenge.startswith('Bearer error="insufficient_scope", ')
            assert 'scope="mcp' in challenge


async def test_a_token_the_dev_server_issued_for_another_resource_is_refused() -> None:
    example = load_protected()
    async with (
        asyncio.timeout(WAIT),
        serving(example.server.http_app()) as base,
        httpx.AsyncClient(timeout=WAIT) as http,
    ):
        other = base + "/other-mcp"  # on the server's origin, so the dev server issues it
        token = await _issued_for(http, base, other)
        refused = await http.post(base + "/mcp", json=INITIALIZE, headers=bearer(token))
        issued_here = await _issued_for(http, base, base + "/mcp")
        accepted = await http.post(base + "/mcp", json=INITIALIZE, headers=bearer(issued_here))
        elsewhere = await _token_answer(http, base, "https://elsewhere.example.com/mcp")
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    assert accepted.status_code == 200
    # A resource the dev server does not serve is refused at once (RFC 8707 section 2).
    assert redirect_params(elsewhere)["error"] == "invalid_target"


async def test_a_token_issued_on_another_origin_of_the_same_server_is_refused() -> None:
    """The issuer and audience follow the origin the client used: a token got through
    localhost is for http://localhost:PORT/mcp, not http://127.0.0.1:PORT/mcp."""
    example = load_protected()
    async with (
        asyncio.timeout(WAIT),
        serving(example.server.http_app()) as base,
        httpx.AsyncClient(timeout=WAIT) as http,
    ):
        local = base.replace("127.0.0.1", "localhost")
        token = await _issued_for(http, local, local + "/mcp")
        here = await http.post(base + "/mcp", json=INITIALIZE, headers=bearer(token))
        there = await http.post(local + "/mcp", json=INITIALIZE, headers=bearer(token))
    assert here.status_code == 401 and there.status_code == 200


async def _token_answer(http: httpx.AsyncClient, base: str, resource: str) -> httpx.Response:
    registered = await http.post(
        base + "/register",
        json={"redirect_uris": ["http://127.0.0.1:9/cb"], "token_endpoint_auth_method": "none"},
    )
    client_id = registered.json()["client_id"]
    verifier, challenge = pkce()
    approved = await http.get(
        base + "/authorize",
        params={
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": "http://127.0.0.1:9/cb",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "scope": "mcp",
            "state": "s",
            "resource": resource,
        },
    )
    if approved.status_code != 302 or "code" not in redirect_params(approved):
        return approved
    return await http.post(
        base + "/token",
        data={
            "grant_type": "authorization_code",
            "code": redirect_params(approved)["code"],
            "redirect_uri": "http://127.0.0.1:9/cb",
            "code_verifier": verifier,
            "client_id": client_id,
            "resource": resource,
        },
    )


async def _issued_for(http: httpx.AsyncClient, base: str, resource: str) -> str:
    answer = await _token_answer(http, base, resource)
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])
