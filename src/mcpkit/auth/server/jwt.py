"""`JwtVerifier`: checks JWT access tokens (RFC 9068) against the issuer's keys, from a JWKS
URL or given directly: algorithm allow-list, signature, issuer, audience (the resource's
canonical URI, RFC 8707), expiry, not-before, issued-at and required scopes."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping
from typing import Any, Final, Self

from mcpkit._extras import needs_extra

with needs_extra("auth"):
    import httpx
    from joserfc import jws
    from joserfc.errors import JoseError
    from joserfc.jwa import JWSAlgModel
    from joserfc.jwk import Key

from mcpkit.auth._fetch import ClosesOnExit, HttpClientSlot, check_endpoint
from mcpkit.auth.server._checks import audiences, checked_access_token, json_claims
from mcpkit.auth.server._discovery import DiscoveredKeys
from mcpkit.auth.server._jose import fits, registry
from mcpkit.auth.server._jwks import KeySource, RemoteKeys, StaticKeys
from mcpkit.auth.server.verifier import AccessToken
from mcpkit.errors import InvalidToken

__all__ = ["DEFAULT_ALGORITHMS", "HMAC_ALGORITHMS", "JwtVerifier"]

#: Asymmetric algorithms only (RFC 9068 section 4: RS256 at least): with these, the keys that
#: verify are public and cannot sign. `Ed25519`/`Ed448` are RFC 9864's names for `EdDSA`.
DEFAULT_ALGORITHMS: Final = (
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
    "ES256", "ES384", "ES512", "EdDSA", "Ed25519", "Ed448",
)  # fmt: skip
#: Shared-secret algorithms: allowed only when listed in `algorithms` and the secret is given
#: as an `oct` key of a static `jwks` (never from a JWKS URL, which is public).
HMAC_ALGORITHMS: Final = frozenset({"HS256", "HS384", "HS512"})

_TYPES = frozenset({"at+jwt", "jwt"})  # RFC 9068 section 4; plain JWT from older servers


class JwtVerifier(ClosesOnExit):
    """Verifies JWT access tokens issued by `issuer` (compared exactly with `iss`), signed by a
    key of the JWKS at `jwks_url` or of the JWKS `jwks` (a dict; exactly one of the two).
    `issuer` may be a function of the resource instead, for an authorization server that
    names itself after the origin the client used (the development one does).

    The token's `aud` must contain `audience` (one URI or several) if set, else the resource
    the server passes to `verify`. `algorithms` is the allow-list (`none` is never accepted;
    HMAC only with a secret in `jwks`). `exp` is required; `exp`, `nbf` and `iat` are checked
    with `leeway` seconds of clock difference. Every token must carry `required_scopes`
    (else `InsufficientScope`, 403). `clock` returns seconds since the epoch.

    The JWKS is cached for `cache_ttl` seconds and refetched sooner when a token names a key
    it does not hold, at most once per `min_refresh_interval`; a fetch is bounded by
    `timeout`, `max_jwks_bytes` and `max_keys`. Tokens over `max_token_bytes` are refused
    unread. `http_client` is used if given (and not closed here); otherwise the verifier makes
    one and `aclose()` (or `async with`) closes it. `from_issuer` finds the JWKS from the
    issuer's discovery document instead.
    """

    def __init__(
        self,
        *,
        issuer: str | Callable[[str], str],
        jwks_url: str | None = None,
        jwks: Mapping[str, Any] | None = None,
        audience: str | Collection[str] | None = None,
        algorithms: Collection[str] = DEFAULT_ALGORITHMS,
        required_scopes: Collection[str] = (),
        leeway: float = 60.0,
        max_token_bytes: int = 16 * 1024,
        cache_ttl: float = 600.0,
        min_refresh_interval: float = 30.0,
        timeout: float = 5.0,
        max_jwks_bytes: int = 256 * 1024,
        max_keys: int = 100,
        http_client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if (jwks_url is None) == (jwks is None):
            raise ValueError("give the issuer's keys as exactly one of jwks_url= or jwks=")
        self._configure(
            issuer, algorithms, static=jwks is not None, audience=audience,
            required_scopes=required_scopes, leeway=leeway, max_token_bytes=max_token_bytes,
            clock=clock,
        )  # fmt: skip
        self._keys: KeySource
        if jwks is not None:
            self._keys = StaticKeys(jwks, symmetric=bool(HMAC_ALGORITHMS & self.algorithms))
        else:
            assert jwks_url is not None
            check_endpoint(jwks_url, "jwks_url")
            self._keys = RemoteKeys(
                jwks_url,
                http=HttpClientSlot(http_client),
                clock=clock,
                min_refresh_interval=min_refresh_interval,
                cache_ttl=cache_ttl,
                max_keys=max_keys,
                max_bytes=max_jwks_bytes,
                timeout=timeout,
            )

    @classmethod
    def from_issuer(
        cls,
        issuer: str,
        *,
        audience: str | Collection[str] | None = None,
        algorithms: Collection[str] = DEFAULT_ALGORITHMS,
        required_scopes: Collection[str] = (),
        leeway: float = 60.0,
        max_token_bytes: int = 16 * 1024,
        cache_ttl: float = 600.0,
        min_refresh_interval: float = 30.0,
        timeout: float = 5.0,
        max_metadata_bytes: int = 64 * 1024,
        max_jwks_bytes: int = 256 * 1024,
        max_keys: int = 100,
        http_client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> Self:
        """A verifier of `issuer`'s tokens whose keys come from its discovery document
        (`<issuer>/.well-known/openid-configuration`, else RFC 8414's
        `/.well-known/oauth-authorization-server[path]`), read on the first `verify`, not
        here: this runs at import time, before any event loop. The document's `issuer` must
        equal `issuer` exactly and its `jwks_uri` be https (http only on loopback). Until
        discovery succeeds, tokens get `VerifierUnavailable` (503) and it is retried after
        1 s, 2, 4... up to `min_refresh_interval`. A document is at most
        `max_metadata_bytes`, read within `timeout`, redirects never followed. The other
        settings are `JwtVerifier`'s; HMAC algorithms are refused (the keys are public)."""
        check_endpoint(issuer, "issuer")
        verifier = cls.__new__(cls)
        verifier._configure(
            issuer, algorithms, static=False, audience=audience,
            required_scopes=required_scopes, leeway=leeway, max_token_bytes=max_token_bytes,
            clock=clock,
        )  # fmt: skip
        http = HttpClientSlot(http_client)

        def make_keys(jwks_uri: str) -> RemoteKeys:
            return RemoteKeys(
                jwks_uri, http=http, clock=clock, min_refresh_interval=min_refresh_interval,
                cache_ttl=cache_ttl, max_keys=max_keys, max_bytes=max_jwks_bytes,
                timeout=timeout,
            )  # fmt: skip

        verifier._keys = DiscoveredKeys(
            issuer, http=http, clock=clock, make_keys=make_keys,
            max_retry=min_refresh_interval, max_bytes=max_metadata_bytes, timeout=timeout,
        )  # fmt: skip
        return verifier

    def _configure(
        self,
        issuer: str | Callable[[str], str],
        algorithms: Collection[str],
        *,
        static: bool,
        audience: str | Collection[str] | None,
        required_scopes: Collection[str],
        leeway: float,
        max_token_bytes: int,
        clock: Callable[[], float],
    ) -> None:
        self.issuer = issuer
        self.algorithms = _allow_list(algorithms, static=static)
        if leeway < 0 or max_token_bytes <= 0:
            raise ValueError("leeway must be >= 0 and max_token_bytes > 0")
        self._audience = audience
        self._required_scopes = frozenset(required_scopes)
        self._leeway = leeway
        self._max_token_bytes = max_token_bytes
        self._clock = clock
        self._registry = registry(self.algorithms, max_token_bytes)

    async def verify(self, token: str, *, resource: str) -> AccessToken:
        """The verified token shown to `resource`, or `InvalidToken` saying what is wrong."""
        signed = self._parse(token)
        alg = self._algorithm(signed.protected)
        key = await self._key(signed.protected, alg)
        self._check_signature(signed, key)
        return self._check_claims(json_claims(signed.payload, InvalidToken, "token"), resource)

    def _parse(self, token: str) -> jws.CompactSignature:
        if len(token) > self._max_token_bytes:
            raise InvalidToken(f"the token is over {self._max_token_bytes} bytes")
        dots = token.count(".")
        if dots == 4:
            raise InvalidToken("encrypted tokens (JWE) are not accepted; send a signed JWT")
        if dots != 2 or not token.isascii():
            raise InvalidToken("malformed token: a JWT is three base64url parts joined by dots")
        try:
            signed = jws.extract_compact(token.encode("ascii"), registry=self._registry)
        # Hostile bytes reach joserfc's parser here; whatever it raises means "not a JWS".
        except Exception:
            raise InvalidToken(
                "malformed token: its header is not base64url-encoded JSON"
            ) from None
        if not isinstance(signed.protected, dict):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise InvalidToken("malformed token: its header is not a JSON object")
        if not signed.segments.get("payload"):
            raise InvalidToken("malformed token: its payload is empty (detached)")
        _check_header(signed.protected)
        return signed

    def _algorithm(self, header: Mapping[str, Any]) -> JWSAlgModel:
        name = header.get("alg")
        if name == "none":
            raise InvalidToken("unsigned tokens (alg none) are never accepted")
        if not isinstance(name, str) or name not in self.algorithms:
            allowed = ", ".join(sorted(self.algorithms))
            raise InvalidToken(f"the token's algorithm is not allowed here (allowed: {allowed})")
        return jws.JWSRegistry.algorithms[name]

    async def _key(self, header: Mapping[str, Any], alg: JWSAlgModel) -> Key:
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise InvalidToken("malformed token: kid is not a string")
        keys = await self._keys.keys_for(kid, lambda key: fits(alg, key))
        if not keys:
            raise InvalidToken(
                "unknown key: no key of the issuer's key set has the token's kid and algorithm"
            )
        if kid is None and len(keys) > 1:
            raise InvalidToken("the token names no key (kid) and several keys could have signed it")
        return keys[0]

    def _check_signature(self, signed: jws.CompactSignature, key: Key) -> None:
        try:
            valid = jws.validate_compact(signed, key, registry=self._registry)
        except (JoseError, ValueError, TypeError):
            raise InvalidToken(
                "malformed token: its header has a value of the wrong type"
            ) from None
        if not valid:
            raise InvalidToken("bad signature: the token was not signed by the issuer's key")

    def _check_claims(self, claims: dict[str, Any], resource: str) -> AccessToken:
        return checked_access_token(
            claims,
            issuer=self.issuer(resource) if callable(self.issuer) else self.issuer,
            issuer_required=True,
            audiences=audiences(self._audience, resource),
            audience_required=True,
            now=self._clock(),
            leeway=self._leeway,
            require_exp=True,
            required_scopes=self._required_scopes,
        )

    async def aclose(self) -> None:
        """Closes the HTTP client the verifier made (never one it was given)."""
        await self._keys.aclose()


def _allow_list(algorithms: Collection[str], *, static: bool) -> frozenset[str]:
    chosen = frozenset(algorithms)
    if "none" in chosen:
        raise ValueError("alg none (unsigned tokens) cannot be allowed")
    unknown = chosen - jws.JWSRegistry.algorithms.keys()
    if unknown or not chosen:
        raise ValueError(f"unknown JWS algorithms {sorted(unknown)}; choose from RFC 7518")
    if chosen & HMAC_ALGORITHMS and not static:
        raise ValueError(
            "HMAC algorithms need the shared secret as an oct key in jwks=; "
            "a JWKS URL publishes public keys only"
        )
    return chosen


def _check_header(header: Mapping[str, Any]) -> None:
    typ = header.get("typ")
    if typ is not None:
        if not isinstance(typ, str) or typ.lower().removeprefix("application/") not in _TYPES:
            raise InvalidToken("the token is not an access token (typ is not at+jwt or JWT)")
    # RFC 7515 section 4.1.11: extensions marked critical must be understood; we know none,
    # and an unencoded payload (b64, RFC 7797) has no place in an access token.
    if "crit" in header or "b64" in header:
        raise InvalidToken("the token uses JWS extensions (crit, b64) that are not accepted")
