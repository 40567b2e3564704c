"""Helpers the DPoP resource-server tests share (RFC 9449): an issuer's key and JWT access
tokens bound (or not) to a client key with `cnf.jkt`, proofs built by hand (any header, any
claim; `none` and HS256 too, which no library signs as a proof), a protected server whose
JwtVerifier trusts that issuer, and requests carrying a token and a proof."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import sys
import time
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey, Key

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))  # the HTTP tests' helpers

from _serving import headers

from mcpkit import Context, Server
from mcpkit.auth.server.jwt import JwtVerifier
from mcpkit.auth.server.resource import ProtectedResource

__all__ = [
    "CLIENT_KEY",
    "ISSUER",
    "ISSUER_KEY",
    "OTHER_KEY",
    "ath",
    "b64",
    "dpop_headers",
    "dpop_server",
    "hand_made",
    "proof",
    "thumbprint",
    "token",
]

ISSUER = "https://auth.example.com"
ISSUER_KEY = ECKey.generate_key("P-256", parameters={"kid": "as-1"})
CLIENT_KEY = ECKey.generate_key("P-256")  # the client's DPoP key, its tokens bound to it
OTHER_KEY = ECKey.generate_key("P-256")  # an attacker's key


def b64(data: bytes | dict[str, Any]) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def thumbprint(key: Key) -> str:
    """The RFC 7638 SHA-256 thumbprint of `key`: the `cnf.jkt` of tokens bound to it."""
    return str(key.thumbprint())


def ath(access_token: str) -> str:
    return b64(hashlib.sha256(access_token.encode()).digest())


def token(audience: str, *, bound_to: Key | None = CLIENT_KEY, **changes: Any) -> str:
    """An access token for `audience` signed by the issuer, bound to `bound_to`'s key (None:
    a bearer token); a change of None drops the claim."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "alice",
        "aud": audience,
        "client_id": "app",
        "scope": "mcp",
        "iat": now,
        "exp": now + 300,
        "jti": secrets.token_urlsafe(8),
    }
    if bound_to is not None:
        claims["cnf"] = {"jkt": thumbprint(bound_to)}
    claims.update(changes)
    header = {"alg": "ES256", "kid": "as-1", "typ": "at+jwt"}
    found = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode(header, found, ISSUER_KEY, algorithms=["ES256"])


def _claims(method: str, url: str, access_token: str | None, changes: dict[str, Any]) -> Any:
    claims: dict[str, Any] = {
        "jti": secrets.token_urlsafe(16),
        "htm": method,
        "htu": url,
        "iat": int(time.time()),
    }
    if access_token is not None:
        claims["ath"] = ath(access_token)
    claims.update(changes)
    return {name: value for name, value in claims.items() if value is not None}


def proof(
    method: str,
    url: str,
    access_token: str | None,
    *,
    key: Key = CLIENT_KEY,
    jwk: dict[str, Any] | None = None,
    header: dict[str, Any] | None = None,
    **changes: Any,
) -> str:
    """A proof signed by `key` for a `method` request to `url` presenting `access_token`;
    `jwk` replaces the public key in the header, `header` adds to it, `changes` to the
    claims (a value of None drops the entry, in either)."""
    found = {"typ": "dpop+jwt", "alg": "ES256", "jwk": jwk or key.as_dict(private=False)}
    found.update(header or {})
    found = {name: value for name, value in found.items() if value is not None}
    claims = _claims(method, url, access_token, changes)
    alg = found["alg"]
    return jwt.encode(found, claims, key, algorithms=[alg], default_type=None)


def hand_made(method: str, url: str, access_token: str, alg: str) -> str:
    """A proof with `alg` none or HS256 (keyed with the public key's thumbprint, which anyone
    can compute), built with the standard library: joserfc refuses to make either."""
    header = {"typ": "dpop+jwt", "alg": alg, "jwk": CLIENT_KEY.as_dict(private=False)}
    signing_input = f"{b64(header)}.{b64(_claims(method, url, access_token, {}))}"
    if alg == "none":
        return signing_input + "."
    secret = thumbprint(CLIENT_KEY).encode()
    mac = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


def dpop_headers(
    access_token: str | None,
    the_proof: str | None = None,
    *,
    scheme: str = "DPoP",
    session: str | None = None,
) -> dict[str, str]:
    """The headers of an MCP POST presenting `access_token` with `scheme`, and `the_proof`."""
    found = headers(session)
    if access_token is not None:
        found["authorization"] = f"{scheme} {access_token}"
    if the_proof is not None:
        found["dpop"] = the_proof
    return found


def dpop_server(store: str | None = None, **auth: Any) -> Server:
    """A server on `store` whose tokens come from ISSUER (JWTs checked against its key),
    protected with the `auth` settings; `whoami` says who called and the key the token is
    bound to."""
    verifier = JwtVerifier(issuer=ISSUER, jwks={"keys": [ISSUER_KEY.as_dict(private=False)]})
    settings: dict[str, Any] = {
        "required_scopes": ["mcp"],
        "authorization_servers": [ISSUER],
        **auth,
    }
    server = Server("dpop", auth=ProtectedResource(verifier=verifier, **settings), store=store)

    @server.tool()
    def whoami(ctx: Context) -> str:
        """Who the caller is, and the key its token is bound to."""
        assert ctx.auth is not None
        cnf = ctx.auth.claims.get("cnf") or {}
        return f"{ctx.auth.subject} {cnf.get('jkt')}"

    return server
