"""The signing key of the development authorization server: generated at start, never stored,
used through joserfc (never hand-written cryptography); its public half is the JWKS."""

from __future__ import annotations

from typing import Any, Final

from joserfc import jwt
from joserfc.jwk import ECKey, KeyParameters, RSAKey

__all__ = ["SigningKey"]

# The algorithms a generated key can serve, and how to generate one for each.
_CURVES: Final = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}


class SigningKey:
    """A fresh key pair for `algorithm` (ES256, ES384, ES512 or RS256) with a `kid` (its
    RFC 7638 thumbprint); signs access tokens and publishes its public JWK."""

    def __init__(self, algorithm: str = "ES256") -> None:
        parameters: KeyParameters = {"use": "sig", "alg": algorithm}
        key: ECKey | RSAKey
        if algorithm in _CURVES:
            key = ECKey.generate_key(_CURVES[algorithm], parameters=parameters, auto_kid=True)
        elif algorithm == "RS256":
            key = RSAKey.generate_key(2048, parameters=parameters, auto_kid=True)
        else:
            raise ValueError(
                f"algorithm {algorithm!r} is not one the development server signs with: "
                "use ES256 (the default), ES384, ES512 or RS256"
            )
        self.algorithm = algorithm
        self._key = key
        self.kid: str = str(key.kid)

    def sign_access_token(self, claims: dict[str, Any]) -> str:
        """A JWT access token (RFC 9068: header `typ: at+jwt`) carrying `claims`."""
        header = {"alg": self.algorithm, "typ": "at+jwt", "kid": self.kid}
        return jwt.encode(header, claims, self._key, algorithms=[self.algorithm])

    def jwks(self) -> dict[str, Any]:
        """The JWK Set to publish at `jwks_uri`: the public key only."""
        return {"keys": [self._key.as_dict(private=False)]}
