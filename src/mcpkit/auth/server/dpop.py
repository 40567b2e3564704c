"""DPoP at the resource server (RFC 9449 sections 4.3, 7 and 9): the checks of the proof in a
request's `DPoP` header (one header, `dpop+jwt`, an allowed asymmetric algorithm, a public
`jwk` that verifies the signature, `htm`, `htu`, `iat`, `ath`, the server's nonce), the
binding of the token to the proof's key (`cnf.jkt`, RFC 7638 thumbprint), and the single use
of each proof's `jti` in the store's replay cache, so a replay to another worker fails too.

joserfc (the `auth` extra) and hashlib are loaded at the first proof checked: every HTTP app
imports this module, and one without DPoP, or served with `mcpkit[http]` alone, needs neither."""

from __future__ import annotations

import base64
import math
import time
import urllib.parse
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from mcpkit._extras import needs_extra
from mcpkit.auth.server._checks import json_claims
from mcpkit.auth.server._dpop_nonce import NonceSource
from mcpkit.auth.server.verifier import AccessToken
from mcpkit.auth.uris import NotAResourceUri, canonical_resource
from mcpkit.errors import AuthError, InvalidToken
from mcpkit.stores.replay import ReplayCache

if TYPE_CHECKING:
    from joserfc import jws
    from joserfc.jwk import Key

__all__ = [
    "DPOP_ALGORITHMS",
    "MAX_PROOF_BYTES",
    "DPoPRefused",
    "Proof",
    "ProofChecker",
    "RequestProof",
    "bound_thumbprint",
]

#: The asymmetric algorithms a proof may use by default (RFC 9449 section 4.3: never `none`
#: nor a MAC, whose key the server would have to share with the client).
DPOP_ALGORITHMS: Final = (
    "ES256", "ES384", "ES512", "PS256", "PS384", "PS512",
    "RS256", "RS384", "RS512", "EdDSA", "Ed25519", "Ed448",
)  # fmt: skip
#: Bytes of a `DPoP` header at most: a proof with an RSA 4096 key is about 1.5 KiB.
MAX_PROOF_BYTES: Final = 8 * 1024
_SYMMETRIC: Final = frozenset({"none", "HS256", "HS384", "HS512"})
_KEY_TYPES: Final = frozenset({"EC", "RSA", "OKP"})
# RFC 7517/7518/8037: the members that make a JWK private.
_PRIVATE_MEMBERS: Final = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_MAX_JTI: Final = 256


class DPoPRefused(AuthError):
    """A DPoP proof refused: `error` is `invalid_dpop_proof`, or `use_dpop_nonce` when only
    the server's current nonce is missing (RFC 9449 sections 7.1 and 9)."""

    def __init__(self, description: str, error: str = "invalid_dpop_proof") -> None:
        super().__init__(error, description)


@dataclass(frozen=True, slots=True)
class Proof:
    """A proof whose signature and claims were checked: the RFC 7638 `thumbprint` of its key
    and its `jti`, still to be spent (`ProofChecker.spend`) once the token is verified."""

    thumbprint: str
    jti: str


def bound_thumbprint(token: AccessToken) -> str | None:
    """The `cnf.jkt` a token is bound to (RFC 9449 section 6; in a JWT's claims or an
    introspection answer alike), or None for a bearer token. A token bound some other way
    (`cnf` without `jkt`, mTLS's `x5t#S256`) is refused: its binding cannot be checked here,
    and accepting it as a bearer token would drop the binding its issuer asked for."""
    cnf = token.claims.get("cnf")
    if cnf is None:
        return None
    if not isinstance(cnf, dict):
        raise InvalidToken("malformed token: cnf is not a JSON object")
    jkt = cnf.get("jkt")  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    if jkt is None:
        raise InvalidToken(
            "the token is bound to a key (cnf) by another method than DPoP (cnf.jkt), which "
            "this server cannot check"
        )
    if not isinstance(jkt, str) or not jkt:
        raise InvalidToken("malformed token: cnf.jkt is not a key thumbprint")
    return jkt


@dataclass(frozen=True, slots=True)
class RequestProof:
    """What checking one request's DPoP proof needs: the resource server's `checker`, the
    request's `method` and public `url` (as the client addressed it, behind any proxy), and
    the values of its `DPoP` headers."""

    checker: ProofChecker
    method: str
    url: str
    proofs: Sequence[bytes]


class ProofChecker:
    """Checks the DPoP proofs of one resource server's requests.

    A proof's `iat` may be up to `max_age` seconds old and `leeway` seconds in the future;
    its `jti` is remembered in `replay` for as long as the proof could be accepted, keyed by
    the proof key's thumbprint. `nonces`, when set, makes every proof carry the server's
    current nonce. `clock` returns seconds since the epoch."""

    def __init__(
        self,
        *,
        algorithms: Collection[str],
        max_age: float,
        leeway: float,
        replay: ReplayCache,
        nonces: NonceSource | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.algorithms = tuple(algorithms)
        self._max_age = max_age
        self._leeway = leeway
        self._replay = replay
        self.nonces = nonces
        self._clock = clock
        self._registry: jws.JWSRegistry | None = None

    async def check(
        self, proofs: Sequence[bytes], *, method: str, url: str, access_token: str
    ) -> Proof:
        """The proof among `proofs` (the request's `DPoP` header values) for a `method`
        request to `url` (its public URI) presenting `access_token`; `DPoPRefused` saying
        what is wrong."""
        signed = self._parse(proofs)
        key = _public_key(signed.protected)
        self._check_signature(signed, key)
        claims = json_claims(signed.payload, DPoPRefused, "proof")
        jti = _string(claims, "jti")
        if len(jti) > _MAX_JTI:
            raise DPoPRefused(f"the proof's jti is over {_MAX_JTI} characters")
        if _string(claims, "htm") != method:
            raise DPoPRefused(f"the proof's htm is not this request's method ({method})")
        if _comparable(_string(claims, "htu")) != _comparable(url):
            raise DPoPRefused(f"the proof's htu is not this request's URI ({_without_query(url)})")
        self._check_iat(claims)
        expected = _token_hash(access_token)
        if not _same(_string(claims, "ath").encode(), expected.encode()):
            raise DPoPRefused("the proof's ath is not the hash of the token presented")
        await self._check_nonce(claims)
        return Proof(str(key.thumbprint()), jti)

    @staticmethod
    def bind(proof: Proof, token: AccessToken) -> None:
        """Refuses a token not bound to the proof's key (RFC 9449 section 7.1)."""
        jkt = bound_thumbprint(token)
        if jkt is None:
            raise InvalidToken(
                "the token is not DPoP-bound (no cnf.jkt): get a DPoP-bound one from the "
                "authorization server (or, where Bearer is accepted, present it as Bearer)"
            )
        if not _same(jkt.encode(), proof.thumbprint.encode()):
            raise DPoPRefused("the proof was signed by another key than the token is bound to")

    async def spend(self, proof: Proof) -> None:
        """Remember the proof's jti; `DPoPRefused` when it was used already (RFC 9449
        section 11.1), here or in any process sharing the store."""
        ttl = self._max_age + 2 * self._leeway
        if not await self._replay.first_use(f"dpop:{proof.thumbprint}:{proof.jti}", ttl):
            raise DPoPRefused("the proof was used already (its jti was seen): sign a new one")

    def _parse(self, proofs: Sequence[bytes]) -> jws.CompactSignature:
        if len(proofs) != 1:
            raise DPoPRefused("send exactly one DPoP header with a proof of this request")
        raw = proofs[0].strip(b" \t")
        if len(raw) > MAX_PROOF_BYTES:
            raise DPoPRefused(f"the proof is over {MAX_PROOF_BYTES} bytes")
        if raw.count(b".") != 2 or not raw.isascii():
            raise DPoPRefused("malformed proof: a JWT is three base64url parts joined by dots")
        with needs_extra("auth"):
            from joserfc import jws

        try:
            signed = jws.extract_compact(raw, registry=self._jws_registry())
        # Hostile bytes reach joserfc's parser here; whatever it raises means "not a JWS".
        except Exception:
            raise DPoPRefused("malformed proof: its header is not base64url-encoded JSON") from None
        header: Any = signed.protected
        if not isinstance(header, dict) or not signed.segments.get("payload"):
            raise DPoPRefused("malformed proof: no JSON header or an empty payload")
        self._check_header(signed.protected)
        return signed

    def _check_header(self, header: Mapping[str, Any]) -> None:
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower() != "dpop+jwt":
            raise DPoPRefused("the proof's typ is not dpop+jwt")
        alg = header.get("alg")
        if not isinstance(alg, str) or alg in _SYMMETRIC or alg not in self.algorithms:
            raise DPoPRefused(
                f"the proof's algorithm is not allowed (allowed: {' '.join(self.algorithms)})"
            )
        if "crit" in header or "b64" in header:
            raise DPoPRefused("the proof uses JWS extensions (crit, b64) that are not accepted")

    def _jws_registry(self) -> jws.JWSRegistry:
        """joserfc's registry held to `algorithms`, made at the first proof."""
        if self._registry is None:
            from mcpkit.auth.server._jose import registry

            self._registry = registry(self.algorithms, MAX_PROOF_BYTES)
        return self._registry

    def _check_signature(self, signed: jws.CompactSignature, key: Key) -> None:
        with needs_extra("auth"):
            from joserfc import jws
            from joserfc.errors import JoseError

        from mcpkit.auth.server._jose import fits

        alg = jws.JWSRegistry.algorithms[signed.protected["alg"]]
        if not fits(alg, key):
            raise DPoPRefused("the proof's jwk is not a key of its algorithm")
        try:
            valid = jws.validate_compact(signed, key, registry=self._jws_registry())
        except (JoseError, ValueError, TypeError):
            valid = False
        if not valid:
            raise DPoPRefused("bad signature: the proof does not verify with its own jwk")

    def _check_iat(self, claims: Mapping[str, Any]) -> None:
        iat = claims.get("iat")
        if isinstance(iat, bool) or not isinstance(iat, int | float) or not math.isfinite(iat):
            raise DPoPRefused("malformed proof: iat is not a number of seconds")
        now = self._clock()
        if iat > now + self._leeway:
            raise DPoPRefused("the proof was issued in the future (iat): is the clock right?")
        if iat < now - self._max_age - self._leeway:
            raise DPoPRefused(
                f"the proof is stale: iat is over {self._max_age:g} s old; sign a new one"
            )

    async def _check_nonce(self, claims: Mapping[str, Any]) -> None:
        if self.nonces is None:
            return
        nonce = claims.get("nonce")
        if not isinstance(nonce, str) or not await self.nonces.accepts(nonce):
            raise DPoPRefused(
                "the proof must carry the server's current nonce (DPoP-Nonce)", "use_dpop_nonce"
            )


def _public_key(header: Mapping[str, Any]) -> Key:
    with needs_extra("auth"):
        from joserfc.jwk import JWKRegistry

    jwk = header.get("jwk")
    if not isinstance(jwk, dict):
        raise DPoPRefused("the proof's header has no jwk (the client's public key)")
    members: dict[str, Any] = jwk  # pyright: ignore[reportUnknownVariableType]
    if members.get("kty") not in _KEY_TYPES:
        raise DPoPRefused("the proof's jwk is not an EC, RSA or OKP public key")
    if _PRIVATE_MEMBERS & members.keys():
        raise DPoPRefused("the proof's jwk holds a private key: send the public key only")
    try:
        return JWKRegistry.import_key(members)
    except Exception:  # a malformed key, whatever joserfc raises for it
        raise DPoPRefused("the proof's jwk is not a valid public key") from None


def _string(claims: Mapping[str, Any], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value:
        raise DPoPRefused(f"the proof has no {name} (or it is not a string)")
    return value


def _token_hash(access_token: str) -> str:
    """base64url SHA-256 of the token's ASCII bytes, unpadded (RFC 9449 section 4.2)."""
    import hashlib

    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _same(given: bytes, expected: bytes) -> bool:
    """Compared in constant time: how much of a secret value matched never shows in timing."""
    import hmac

    return hmac.compare_digest(given, expected)


def _without_query(uri: str) -> str:
    parts = urllib.parse.urlsplit(uri)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _comparable(uri: str) -> str:
    """`uri` without query and fragment, normalised (RFC 9449 section 4.3 step 9, RFC 3986
    sections 6.2.2 and 6.2.3) as resource URIs are; as given when it is no http(s) URI."""
    bare = _without_query(uri)
    try:
        return canonical_resource(bare)
    except NotAResourceUri:
        return bare
