"""What a resource server knows about a verified access token, and the one interface every way
of verifying one implements (JWT against a JWKS, introspection, or anything a user writes)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Protocol

import msgspec

__all__ = ["AccessToken", "TokenVerifier"]

_NO_CLAIMS: Mapping[str, Any] = MappingProxyType({})


class AccessToken(msgspec.Struct, frozen=True, kw_only=True):
    """A verified access token: who it speaks for and what it allows. Handlers see it as
    `ctx.auth`; the token string itself is not kept (it must never travel further, spec:
    basic/authorization, "Access Token Privilege Restriction").

    `subject` is the resource owner (`sub`), `client_id` the client it was issued to, `scopes`
    what it grants, `expires_at` its expiry (seconds since the epoch), `issuer` and `audience`
    as checked, and `claims` every claim the verifier saw (JWT claims or the introspection
    answer), for what this interface does not name.
    """

    subject: str | None = None
    client_id: str | None = None
    scopes: frozenset[str] = frozenset()
    expires_at: float | None = None
    issuer: str | None = None
    audience: tuple[str, ...] = ()
    claims: Mapping[str, Any] = msgspec.field(default_factory=lambda: _NO_CLAIMS)

    def has_scopes(self, required: frozenset[str] | set[str] | tuple[str, ...]) -> bool:
        """Whether this token grants every scope in `required`."""
        return self.scopes.issuperset(required)


class TokenVerifier(Protocol):
    """Checks a bearer token presented to the resource `resource` (its canonical URI, RFC 8707:
    a token whose audience is another resource must be refused).

    Returns the verified `AccessToken`, or raises `mcpkit.errors.InvalidToken` saying why (the
    description reaches the client in `WWW-Authenticate`, so it must not echo the token).
    Scope checks for a particular tool are not the verifier's job: the server does them.
    """

    async def verify(self, token: str, *, resource: str) -> AccessToken: ...
