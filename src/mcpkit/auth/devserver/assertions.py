"""`private_key_jwt` client authentication at the development authorization server (RFC 7523
section 2.2 and 3): the client's JWT, verified with joserfc against the `jwks` it registered;
`iss` and `sub` its client_id, `aud` the issuer or the endpoint, short-lived, never replayed."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any, Final, cast

from mcpkit._extras import needs_extra

with needs_extra("auth"):
    from joserfc import jwt
    from joserfc.errors import JoseError
    from joserfc.jwk import KeySet

from mcpkit.auth.devserver._http import Refused
from mcpkit.auth.devserver.store import Bounded
from mcpkit.auth.metadata import ClientInformation

__all__ = [
    "ASSERTION_ALGORITHMS",
    "ASSERTION_TYPE",
    "MAX_LIFETIME",
    "PRIVATE_KEY_JWT",
    "ClientAssertions",
]

#: `client_assertion_type` of a JWT client assertion (RFC 7523 section 2.2).
ASSERTION_TYPE: Final = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: The method name (RFC 7591 section 2).
PRIVATE_KEY_JWT: Final = "private_key_jwt"
#: Seconds an assertion may live at most (exp - iat): longer ones are refused, so the replay
#: cache only has to remember jtis that long.
MAX_LIFETIME: Final = 300
#: Seconds of clock skew allowed.
_LEEWAY: Final = 30
#: The algorithms a client may sign its assertions with.
ASSERTION_ALGORITHMS: Final = ("ES256", "ES384", "ES512", "RS256", "PS256", "EdDSA")


def _refused(description: str) -> Refused:
    return Refused("invalid_client", description, status=401)


class ClientAssertions:
    """Verifies client assertions and remembers their `jti`s until they expire."""

    def __init__(self, clock: Callable[[], float], limit: int = 10_000) -> None:
        self._clock = clock
        self._seen: Bounded[tuple[str, str], float] = Bounded(limit)

    def verify(self, client: ClientInformation, assertion: str, audiences: Collection[str]) -> None:
        """Accept `assertion` as `client` proving who it is to an endpoint known by any of
        `audiences`, or raise 401 invalid_client saying what is wrong."""
        if client.jwks is None:
            raise _refused(f"client {client.client_id!r} registered no jwks to check its JWT with")
        try:
            keys = KeySet.import_key_set(client.jwks)  # type: ignore[arg-type]
            token = jwt.decode(assertion, keys, algorithms=list(ASSERTION_ALGORITHMS))
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise _refused(f"the client assertion does not verify: {exc}") from None
        self._check_claims(client.client_id, token.claims, audiences)

    def _check_claims(
        self, client_id: str, claims: dict[str, Any], audiences: Collection[str]
    ) -> None:
        if claims.get("iss") != client_id or claims.get("sub") != client_id:
            raise _refused("the client assertion's iss and sub must both be the client_id")
        aud = claims.get("aud")
        named: list[object] = list(cast(list[object], aud)) if isinstance(aud, list) else [aud]
        if not any(isinstance(a, str) and a.rstrip("/") in audiences for a in named):
            raise _refused(f"the client assertion's aud must be one of {sorted(audiences)}")
        now = self._clock()
        exp, iat, jti = claims.get("exp"), claims.get("iat", now), claims.get("jti")
        if not isinstance(exp, int | float) or not isinstance(iat, int | float):
            raise _refused("the client assertion needs a numeric exp (and iat, if any)")
        if exp + _LEEWAY < now or iat - _LEEWAY > now:
            raise _refused("the client assertion has expired or is not valid yet")
        if exp - min(iat, now) > MAX_LIFETIME:
            raise _refused(f"the client assertion lives longer than {MAX_LIFETIME} s")
        if not isinstance(jti, str) or not jti:
            raise _refused("the client assertion needs a jti")
        seen = self._seen.get((client_id, jti))
        if seen is not None and seen + _LEEWAY >= now:
            raise _refused("this client assertion was used already: sign a new one")
        self._seen.put((client_id, jti), float(exp))
