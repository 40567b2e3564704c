"""Keys, tokens and a fixed clock for the verifier tests: every key made by joserfc here, every
token signed by it (or built by hand, for the shapes no library would sign)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import warnings
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, Key, OKPKey, RSAKey

ISSUER = "https://auth.example.com"
RESOURCE = "https://mcp.example.com/mcp"
NOW = 1_800_000_000.0

# RSA key generation is the slow part: made once for every test of a run.
EC = ECKey.generate_key("P-256", parameters={"kid": "ec-1"})
EC_OTHER = ECKey.generate_key("P-256", parameters={"kid": "ec-1"})  # same kid, other key
RSA = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})
OKP = OKPKey.generate_key("Ed25519", parameters={"kid": "ed-1"})


class FixedClock:
    """The verifiers' clock: seconds since the epoch, moved by the test."""

    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def jwks(*keys: Key) -> dict[str, Any]:
    """The public JWKS of `keys`, as an authorization server publishes it."""
    return {"keys": [key.as_dict(private=False) for key in keys]}


def claims(**changes: Any) -> dict[str, Any]:
    """Claims of a valid access token for RESOURCE at NOW; a change of None drops the claim."""
    found: dict[str, Any] = {
        "iss": ISSUER,
        "sub": "alice",
        "aud": RESOURCE,
        "client_id": "client-1",
        "scope": "mcp:read mcp:write",
        "iat": int(NOW),
        "nbf": int(NOW),
        "exp": int(NOW) + 300,
        "jti": "token-1",
    }
    found.update(changes)
    return {k: v for k, v in found.items() if v is not None}


def sign(
    key: Key,
    alg: str = "ES256",
    typ: str | None = "at+jwt",
    header: dict[str, Any] | None = None,
    **changes: Any,
) -> str:
    """A token signed by `key` with `alg`, its `kid` in the header, claims per `claims()`;
    `header` adds to the header (a value of None drops the entry)."""
    found: dict[str, Any] = {"alg": alg, "kid": key.kid, "typ": typ, **(header or {})}
    with warnings.catch_warnings():
        # joserfc warns that EdDSA is deprecated (RFC 9864); servers still sign with it.
        warnings.simplefilter("ignore", SecurityWarning)
        return jwt.encode(
            {k: v for k, v in found.items() if v is not None},
            claims(**changes),
            key,
            algorithms=[alg],
            default_type=None,
        )


def b64(data: bytes | dict[str, Any] | list[Any]) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unsigned(header: dict[str, Any] | list[Any], payload: Any, signature: bytes = b"") -> str:
    """A compact JWS built by hand: any header, any payload, any signature."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return f"{b64(header)}.{b64(body)}.{b64(signature) if signature else ''}"


def hmac_with_public_key(key: RSAKey, kid: str) -> str:
    """The algorithm confusion attack: HS256 keyed with the bytes of the issuer's public key,
    which a verifier that lets the token choose the algorithm would accept. Built with the
    standard library: joserfc refuses to make it."""
    signing_input = f"{b64({'alg': 'HS256', 'kid': kid, 'typ': 'at+jwt'})}.{b64(claims())}"
    mac = hmac.new(key.as_pem(private=False), signing_input.encode(), hashlib.sha256)
    return f"{signing_input}.{b64(mac.digest())}"


def sign_payload(key: Key, payload: bytes, alg: str = "ES256") -> str:
    """A correctly signed JWS whose payload is any bytes (not JSON claims, say)."""
    return jws.serialize_compact({"alg": alg, "kid": key.kid}, payload, key, algorithms=[alg])
