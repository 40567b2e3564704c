"""The claim checks every token verifier makes, whether the claims come from a JWT or an
introspection answer: issuer, audience (RFC 8707), time (exp, nbf, iat), scopes, and building
the `AccessToken`. Descriptions say what was wrong and never echo the token or its claims."""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from types import MappingProxyType
from typing import Any

import msgspec

from mcpkit.auth.server.verifier import AccessToken
from mcpkit.auth.uris import NotAResourceUri, canonical_resource
from mcpkit.errors import InsufficientScope, InvalidToken

__all__ = [
    "json_claims",
    "audiences",
    "build_access_token",
    "checked_access_token",
    "check_audience",
    "check_issuer",
    "check_required_scopes",
    "check_times",
    "scopes_of",
]


def _comparable(audience: str) -> str:
    """An audience in the form two equal ones share: the canonical resource URI for an
    http(s) URI (`mcpkit.auth.uris`), the value itself for anything else (an API identifier
    such as Auth0's, which `audience=` may configure)."""
    try:
        return canonical_resource(audience)
    except NotAResourceUri:
        return audience


def audiences(expected: str | Collection[str] | None, resource: str) -> tuple[str, ...]:
    """The audiences a token may carry: the configured ones, else the resource it is shown to."""
    if expected is None:
        return (resource,)
    return (expected,) if isinstance(expected, str) else tuple(expected)


def check_audience(
    claims: Mapping[str, Any], expected: tuple[str, ...], *, required: bool = True
) -> tuple[str, ...]:
    """The token's `aud` values, one of which must be an expected audience (spec:
    basic/authorization, "Token Audience Binding and Validation"; RFC 9068 section 4)."""
    aud = claims.get("aud")
    if aud is None:
        if required:
            raise InvalidToken(
                "the token names no audience (aud); it must be issued for this resource "
                "(the authorization server needs the RFC 8707 resource parameter)"
            )
        return ()
    found = _strings(aud, "aud")
    if any(a in expected for a in found):
        return found  # the common case, without parsing URIs
    wanted = {_comparable(e) for e in expected}
    if not any(_comparable(a) in wanted for a in found):
        raise InvalidToken(
            f"the token was issued for another audience, not {' or '.join(expected)}"
        )
    return found


def check_issuer(claims: Mapping[str, Any], expected: str | None, *, required: bool) -> str | None:
    """The token's `iss`, which must equal `expected` exactly (RFC 9068 section 4)."""
    iss = claims.get("iss")
    if iss is None:
        if required:
            raise InvalidToken("the token names no issuer (iss)")
        return None
    if not isinstance(iss, str):
        raise InvalidToken("malformed token: iss is not a string")
    if expected is not None and iss != expected:
        raise InvalidToken(f"the token was issued by another authorization server, not {expected}")
    return iss


def check_times(
    claims: Mapping[str, Any], *, now: float, leeway: float, require_exp: bool
) -> float | None:
    """The token's expiry; refuses a token past `exp`, before `nbf` or issued (`iat`) in the
    future, each by more than `leeway` seconds of clock difference (RFC 7519 section 4.1)."""
    exp = _number(claims, "exp")
    nbf = _number(claims, "nbf")
    iat = _number(claims, "iat")
    if exp is None and require_exp:
        raise InvalidToken("the token has no expiry (exp); access tokens must carry one")
    if exp is not None and now >= exp + leeway:
        raise InvalidToken("the token has expired (exp); get a new one")
    if nbf is not None and now < nbf - leeway:
        raise InvalidToken("the token is not valid yet (nbf is in the future)")
    if iat is not None and iat > now + leeway:
        raise InvalidToken(
            "the token was issued in the future (iat); the clocks of the authorization "
            "server and this server disagree"
        )
    return exp


def scopes_of(claims: Mapping[str, Any]) -> frozenset[str]:
    """The scopes granted: `scope` (space-separated, RFC 9068 section 2.2.3), else `scp` (a
    list, or a space-separated string as some providers send)."""
    for name in ("scope", "scp"):
        value = claims.get(name)
        if value is None:
            continue
        if isinstance(value, str):
            return frozenset(value.split())
        return frozenset(_strings(value, name))
    return frozenset()


def check_required_scopes(granted: frozenset[str], required: frozenset[str]) -> None:
    """Refuses a token without every scope in `required` with 403 `insufficient_scope`, so the
    client can step up (spec: basic/authorization, "Scope Challenge Handling")."""
    missing = required - granted
    if missing:
        raise InsufficientScope(
            tuple(sorted(required)), f"the token lacks scope {' '.join(sorted(missing))}"
        )


def build_access_token(
    claims: Mapping[str, Any],
    *,
    scopes: frozenset[str],
    expires_at: float | None,
    issuer: str | None,
    audience: tuple[str, ...],
) -> AccessToken:
    """The verified token: `sub`, `client_id` (or OpenID Connect's `azp`), and every claim."""
    subject = _optional_string(claims, "sub")
    client_id = _optional_string(claims, "client_id") or _optional_string(claims, "azp")
    return AccessToken(
        subject=subject,
        client_id=client_id,
        scopes=scopes,
        expires_at=expires_at,
        issuer=issuer,
        audience=audience,
        claims=MappingProxyType(dict(claims)),
    )


def _number(claims: Mapping[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    # bool is an int in Python, not a NumericDate (RFC 7519 section 2).
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidToken(f"malformed token: {name} is not a number of seconds")
    return float(value)


def _strings(value: Any, name: str) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list):
        items: list[Any] = value  # pyright: ignore[reportUnknownVariableType]
        if all(isinstance(v, str) for v in items):
            return tuple(items)
    raise InvalidToken(f"malformed token: {name} is not a string or a list of strings")


def _optional_string(claims: Mapping[str, Any], name: str) -> str | None:
    value = claims.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidToken(f"malformed token: {name} is not a string")
    return value


def checked_access_token(
    claims: Mapping[str, Any],
    *,
    issuer: str | None,
    issuer_required: bool,
    audiences: tuple[str, ...],
    audience_required: bool,
    now: float,
    leeway: float,
    require_exp: bool,
    required_scopes: frozenset[str],
) -> AccessToken:
    """Every check a verified token's claims (a JWT's, an introspection answer) go through, in
    the order their refusals are most useful, then the `AccessToken` they describe."""
    found_issuer = check_issuer(claims, issuer, required=issuer_required)
    audience = check_audience(claims, audiences, required=audience_required)
    expires_at = check_times(claims, now=now, leeway=leeway, require_exp=require_exp)
    scopes = scopes_of(claims)
    check_required_scopes(scopes, required_scopes)
    return build_access_token(
        claims, scopes=scopes, expires_at=expires_at, issuer=found_issuer, audience=audience
    )


def json_claims(payload: bytes, refuse: type[Exception], what: str) -> dict[str, Any]:
    """The claims of a JWS `payload` (an access token's, a DPoP proof's): a JSON object, or
    `refuse` saying the `what` ("token", "proof") is malformed."""
    try:
        claims = msgspec.json.decode(payload)
    except (msgspec.DecodeError, RecursionError):  # msgspec raises the latter for deep nesting
        raise refuse(f"malformed {what}: its payload is not JSON") from None
    if not isinstance(claims, dict):
        raise refuse(f"malformed {what}: its payload is not a JSON object")
    return claims  # pyright: ignore[reportUnknownVariableType]
