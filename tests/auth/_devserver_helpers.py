"""Helpers the development authorization server's tests share: PKCE pairs, a settable clock,
registering and authorizing as a client would, and reading a JWT with joserfc."""

from __future__ import annotations

import base64
import hashlib
import secrets
import sys
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))  # the HTTP tests' helpers
from _serving import WAIT, serving

__all__ = [
    "REDIRECT",
    "WAIT",
    "Clock",
    "authorize",
    "pkce",
    "read_jwt",
    "redirect_params",
    "register",
    "serving",
    "token",
]

REDIRECT = "http://127.0.0.1:9999/callback"


class Clock:
    """A clock the test moves by hand (seconds since the epoch)."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def pkce() -> tuple[str, str]:
    """A fresh code verifier and its S256 challenge (RFC 7636 section 4.2)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def register(http: httpx.AsyncClient, base: str, **metadata: Any) -> dict[str, Any]:
    """Dynamic client registration of a public client (unless `metadata` says otherwise)."""
    body = {"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none"} | metadata
    response = await http.post(base + "/register", json=body)
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


def redirect_params(response: httpx.Response) -> dict[str, str]:
    """The query parameters of a 302's Location (the authorization response)."""
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["location"]).query, keep_blank_values=True)
    return {name: values[0] for name, values in query.items()}


async def authorize(
    http: httpx.AsyncClient, base: str, client_id: str, challenge: str, **extra: str
) -> httpx.Response:
    """The authorization request a client's browser would send (redirects not followed)."""
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": "st-42",
        "resource": base + "/mcp",
    } | extra
    return await http.get(base + "/authorize", params=params)


async def token(http: httpx.AsyncClient, base: str, **form: str) -> httpx.Response:
    return await http.post(base + "/token", data=form)


async def read_jwt(http: httpx.AsyncClient, base: str, access_token: str) -> jwt.Token:
    """The token decoded and its signature checked against the server's published JWKS."""
    keys = KeySet.import_key_set((await http.get(base + "/jwks")).json())
    return jwt.decode(access_token, keys, algorithms=["ES256"])
