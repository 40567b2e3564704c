"""DPoP (RFC 9449, SEP-1932): sender-constrained access tokens. `DPoPKey` holds the client's
key pair and the nonces servers hand out, signs a fresh proof JWT per request (htm, htu, iat,
jti; ath with a token; nonce when the server gave one), shapes token requests (`DPoPProof`)
and resource requests (`Authorization: DPoP <token>`), and retries once on `use_dpop_nonce`."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Final

import msgspec

from mcpkit._extras import needs_extra

with needs_extra("auth"):
    import httpx
    from joserfc import jwt
    from joserfc.jwk import ECKey, OKPKey, RSAKey

from mcpkit.auth.client._urls import origin
from mcpkit.auth.client.assertions import SigningKey, load_private_key
from mcpkit.auth.client.challenge import Challenge, parse_challenges
from mcpkit.auth.client.token import TokenRequest
from mcpkit.auth.metadata import OAuthErrorResponse, decode

__all__ = ["DPOP_NONCE_LIMIT", "DPoPKey", "DPoPProof", "access_token_hash", "dpop_challenge"]

#: Longest nonce kept from a server (RFC 9449 section 8 sets no limit; a nonce is echoed in
#: every proof, so a hostile server must not make them grow without bound).
DPOP_NONCE_LIMIT: Final = 1024
# RFC 9449 section 8.1: a nonce is 1*NQCHAR.
_NQCHAR: Final = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")
# Servers whose nonces are kept at once; the oldest is forgotten first.
_NONCE_SERVERS: Final = 64
_CURVES: Final = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}


def access_token_hash(access_token: str) -> str:
    """The `ath` claim: base64url SHA-256 of the ASCII token, unpadded (RFC 9449 section 4.2)."""
    digest = hashlib.sha256(access_token.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def dpop_challenge(headers: list[str]) -> Challenge | None:
    """The DPoP challenge among the `WWW-Authenticate` header lines (RFC 9449 section 7.1)."""
    for header in headers:
        for challenge in parse_challenges(header):
            if challenge.scheme == "dpop":
                return challenge
    return None


class DPoPKey:
    """The client's DPoP key pair: generated (ES256 by default) unless `key` (PEM, private JWK
    dict or joserfc key) is given. Give the same one to `OAuth(dpop=...)` or `GrantAuth(dpop=
    ...)` for as long as its tokens live: they are bound to its thumbprint (`cnf.jkt`)."""

    def __init__(
        self,
        key: SigningKey | str | bytes | dict[str, Any] | None = None,
        *,
        algorithm: str = "ES256",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.algorithm = algorithm
        self._key = _generate(algorithm) if key is None else load_private_key(key, algorithm)
        self._clock = clock
        self._nonces: OrderedDict[str, str] = OrderedDict()

    @property
    def public_jwk(self) -> dict[str, Any]:
        """The public key, as it goes in each proof's `jwk` header."""
        return dict(self._key.as_dict(private=False))

    @property
    def thumbprint(self) -> str:
        """RFC 7638 SHA-256 thumbprint of the public key: the `jkt` a bound token carries."""
        return str(self._key.thumbprint())

    def proof(self, method: str, url: str | httpx.URL, *, access_token: str | None = None) -> str:
        """A fresh proof for a `method` request to `url` (RFC 9449 section 4.2): htu without
        query and fragment, a new jti, `ath` when presenting `access_token`, and the nonce the
        server at `url` gave last."""
        target = httpx.URL(url).copy_with(query=None, fragment=None)
        claims: dict[str, Any] = {
            "jti": secrets.token_urlsafe(16),
            "htm": method.upper(),
            "htu": str(target),
            "iat": int(self._clock()),
        }
        if access_token is not None:
            claims["ath"] = access_token_hash(access_token)
        nonce = self._nonces.get(origin(target))
        if nonce is not None:
            claims["nonce"] = nonce
        header = {"typ": "dpop+jwt", "alg": self.algorithm, "jwk": self.public_jwk}
        return jwt.encode(header, claims, self._key, algorithms=[self.algorithm])

    def remember_nonce(self, url: str | httpx.URL, response: httpx.Response) -> bool:
        """Keep the `DPoP-Nonce` the server at `url` sent, if it is a valid one (RFC 9449
        sections 8 and 9: any answer may carry a new one); True when it changed."""
        values = response.headers.get_list("dpop-nonce")
        if len(values) != 1 or len(values[0]) > DPOP_NONCE_LIMIT:
            return False
        nonce = values[0]
        if _NQCHAR.fullmatch(nonce) is None:
            return False
        server = origin(url)
        changed = self._nonces.get(server) != nonce
        self._nonces[server] = nonce
        self._nonces.move_to_end(server)
        while len(self._nonces) > _NONCE_SERVERS:
            self._nonces.popitem(last=False)
        return changed

    def authorize(self, request: httpx.Request, access_token: str) -> None:
        """Present `access_token` on `request` (RFC 9449 section 7.1): the DPoP scheme and a
        proof bound to this request and token."""
        request.headers["authorization"] = f"DPoP {access_token}"
        request.headers["dpop"] = self.proof(request.method, request.url, access_token=access_token)

    def resource_retry(self, request: httpx.Request, response: httpx.Response) -> bool:
        """Whether the resource server's `response` asks for `request` again with its new nonce
        (RFC 9449 section 9: 401, a DPoP challenge with error `use_dpop_nonce`)."""
        changed = self.remember_nonce(request.url, response)
        if response.status_code != 401:
            return False
        challenge = dpop_challenge(response.headers.get_list("www-authenticate"))
        return changed and challenge is not None and challenge.error == "use_dpop_nonce"

    def token_step(self) -> DPoPProof:
        """The token request step that asks for tokens bound to this key."""
        return DPoPProof(self)


class DPoPProof:
    """A token request step (RFC 9449 section 5): a proof in the `DPoP` header, accepting
    `token_type` DPoP, and one retry when the token endpoint answers `use_dpop_nonce` with a
    new `DPoP-Nonce` (section 8)."""

    token_types: Final = frozenset({"dpop"})

    def __init__(self, key: DPoPKey) -> None:
        self.key = key

    async def apply(self, request: TokenRequest) -> None:
        request.headers["dpop"] = self.key.proof("POST", request.endpoint)

    def retry(self, request: TokenRequest, response: httpx.Response) -> bool:
        changed = self.key.remember_nonce(request.endpoint, response)
        if response.status_code != 400 or not changed:
            return False
        try:
            error = decode(response.content, OAuthErrorResponse).error
        except (msgspec.DecodeError, msgspec.ValidationError):
            return False
        return error == "use_dpop_nonce"


def _generate(algorithm: str) -> SigningKey:
    if algorithm in _CURVES:
        return ECKey.generate_key(_CURVES[algorithm], private=True)
    if algorithm.startswith(("RS", "PS")):
        return RSAKey.generate_key(2048, private=True)
    if algorithm == "EdDSA":
        return OKPKey.generate_key("Ed25519", private=True)
    raise ValueError(f"algorithm {algorithm!r} cannot sign DPoP proofs: use ES256 (the default)")
