"""JWT assertions (RFC 7523): `PrivateKeyJwt`, client authentication with a signed JWT
(section 2.2, `private_key_jwt`), and the JWT bearer authorization grant (section 2.1) that
workload identity and enterprise-managed authorization present. Signed with joserfc."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from mcpkit._extras import needs_extra

with needs_extra("auth"):
    from joserfc import jwt
    from joserfc.errors import JoseError
    from joserfc.jwk import ECKey, OKPKey, RSAKey, import_key

from mcpkit.auth.client.token import TokenRequest

__all__ = [
    "CLIENT_ASSERTION_TYPE",
    "JWT_BEARER",
    "PrivateKeyJwt",
    "SigningKey",
    "jwt_bearer_grant",
    "load_private_key",
]

#: `client_assertion_type` of a JWT client assertion (RFC 7523 section 2.2).
CLIENT_ASSERTION_TYPE: Final = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: `grant_type` of the JWT bearer authorization grant (RFC 7523 section 2.1).
JWT_BEARER: Final = "urn:ietf:params:oauth:grant-type:jwt-bearer"

#: A private key joserfc signs with.
SigningKey = ECKey | RSAKey | OKPKey

# The key type each JWS algorithm needs (RFC 7518 section 3.1, RFC 8037).
_KEY_TYPES: Final = {
    "ES256": "EC",
    "ES384": "EC",
    "ES512": "EC",
    "RS256": "RSA",
    "RS384": "RSA",
    "RS512": "RSA",
    "PS256": "RSA",
    "PS384": "RSA",
    "PS512": "RSA",
    "EdDSA": "OKP",
}


def load_private_key(
    key: SigningKey | str | bytes | Mapping[str, Any], algorithm: str
) -> SigningKey:
    """The private key `key` (a joserfc key, a PEM string or bytes, or a private JWK dict) for
    signing with `algorithm`; ValueError naming what is wrong with it."""
    kty = _KEY_TYPES.get(algorithm)
    if kty is None:
        raise ValueError(
            f"algorithm {algorithm!r} cannot sign assertions: use one of {', '.join(_KEY_TYPES)}"
        )
    loaded: object = key
    if not isinstance(key, ECKey | RSAKey | OKPKey):
        data = dict(key) if isinstance(key, Mapping) else key
        try:
            loaded = import_key(data, kty)  # type: ignore[call-overload]
        except (JoseError, ValueError, TypeError) as exc:
            raise ValueError(f"the {algorithm} signing key cannot be read: {exc}") from None
    if not isinstance(loaded, ECKey | RSAKey | OKPKey) or loaded.key_type != kty:
        kind = type(loaded).__name__  # pyright: ignore[reportUnknownArgumentType]
        raise ValueError(f"{algorithm} needs a private {kty} key, not {kind}")
    if not loaded.is_private:
        raise ValueError(f"{algorithm} needs a private {kty} key, not a public one")
    return loaded


@dataclass(frozen=True)
class PrivateKeyJwt:
    """`private_key_jwt` (RFC 7523 section 2.2, SEP-1046): the client proves who it is with a
    short-lived JWT signed by its private `key` (PEM, JWK dict or joserfc key), whose public
    half the authorization server knows (from registration `jwks`/`jwks_uri`).

    The assertion's `aud` is `audience` when given, else the authorization server's issuer
    identifier when the caller knows it (RFC 7523bis), else the token endpoint URL (RFC 7523
    section 3). `key_id` goes in the header as `kid`; `lifetime` is in seconds.
    """

    client_id: str
    key: SigningKey | str | bytes | Mapping[str, Any] = field(repr=False)
    algorithm: str = "ES256"
    key_id: str | None = None
    audience: str | None = None
    lifetime: int = 60
    clock: Callable[[], float] = field(default=time.time, repr=False, compare=False)
    method: str = "private_key_jwt"
    _key: SigningKey = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_key", load_private_key(self.key, self.algorithm))

    async def apply(self, request: TokenRequest) -> None:
        audience = self.audience or request.issuer or request.endpoint
        request.form["client_id"] = self.client_id
        request.form["client_assertion_type"] = CLIENT_ASSERTION_TYPE
        request.form["client_assertion"] = self.assertion(audience)

    def assertion(self, audience: str) -> str:
        """A fresh signed client assertion for `audience` (RFC 7523 section 3: iss and sub are
        the client_id; a new jti each time, as servers may refuse a replayed one)."""
        now = int(self.clock())
        claims = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": audience,
            "iat": now,
            "exp": now + self.lifetime,
            "jti": secrets.token_urlsafe(16),
        }
        header: dict[str, Any] = {"alg": self.algorithm, "typ": "JWT"}
        if self.key_id is not None:
            header["kid"] = self.key_id
        return jwt.encode(header, claims, self._key, algorithms=[self.algorithm])


def jwt_bearer_grant(assertion: str, *, resource: str, scope: str | None = None) -> dict[str, str]:
    """RFC 7523 section 2.1: present `assertion` (a workload identity JWT, an ID-JAG) for an
    access token to `resource` (RFC 8707)."""
    form = {"grant_type": JWT_BEARER, "assertion": assertion, "resource": resource}
    if scope:
        form["scope"] = scope
    return form
