"""The signing key of an authorization server (the development one, the authorization front):
generated at start, or given as a PEM or JWK so that several processes share it; used through
joserfc (never hand-written cryptography); its public half is the JWKS."""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, cast

from mcpkit._extras import needs_extra

with needs_extra("auth"):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF
    from joserfc import jwt
    from joserfc.errors import JoseError
    from joserfc.jwk import ECKey, KeyParameters, RSAKey

__all__ = ["SigningKey"]

logger = logging.getLogger("mcpkit.auth")

# The algorithms a generated key can serve, and how to generate one for each.
_CURVES: Final = {"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}
_ALGORITHM_OF_CURVE: Final = {curve: alg for alg, curve in _CURVES.items()}


class SigningKey:
    """A key pair for `algorithm` (ES256, ES384, ES512 or RS256) with a `kid` (its RFC 7638
    thumbprint): a fresh one, or `key` (see `load`); signs access tokens and publishes its
    public JWK."""

    def __init__(self, algorithm: str = "ES256", *, key: ECKey | RSAKey | None = None) -> None:
        parameters: KeyParameters = {"use": "sig", "alg": algorithm}
        if key is None and algorithm in _CURVES:
            key = ECKey.generate_key(_CURVES[algorithm], parameters=parameters, auto_kid=True)
        elif key is None and algorithm == "RS256":
            key = RSAKey.generate_key(2048, parameters=parameters, auto_kid=True)
        elif key is None:
            raise ValueError(
                f"algorithm {algorithm!r} is not one the server signs with: "
                "use ES256 (the default), ES384, ES512 or RS256"
            )
        self.algorithm = algorithm
        self._key = key
        self.kid: str = str(key.kid)

    @classmethod
    def load(cls, source: str | os.PathLike[str] | Mapping[str, Any]) -> SigningKey:
        """A private key given as a JWK (a mapping, or its JSON), a PEM text, or the path of a
        file holding either; its algorithm follows from it (an EC curve, or RS256 for RSA)."""
        data: dict[str, Any] | bytes
        if isinstance(source, Mapping):
            data = dict(source)
        else:
            text = str(source)
            if not text.lstrip().startswith(("{", "-----")):
                text = _read_key_file(Path(text))
            data = _json_object(text) if text.lstrip().startswith("{") else text.encode()
        try:
            key = _import(data)
        except (JoseError, ValueError, TypeError) as exc:
            raise ValueError(f"not a private EC or RSA key (PEM or JWK): {exc}") from None
        if not key.is_private:
            raise ValueError("the signing key must be a private key, not only its public half")
        if isinstance(key, ECKey):
            algorithm = _ALGORITHM_OF_CURVE.get(key.curve_name)
            if algorithm is None:
                raise ValueError(f"EC curve {key.curve_name} is not P-256, P-384 or P-521")
        else:
            algorithm = "RS256"
        return cls(algorithm, key=key)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the private key as PEM to a new file only its owner may read (0600); refused
        when the file exists."""
        pem = self._key.as_pem(private=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(pem)

    def derive_secret(self, purpose: bytes) -> bytes:
        """32 bytes for `purpose` derived from the private key (HKDF-SHA256): every process
        holding the key derives the same, so what one encrypts another can read."""
        hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose)
        return hkdf.derive(self._key.as_pem(private=True))

    def sign_access_token(self, claims: dict[str, Any]) -> str:
        """A JWT access token (RFC 9068: header `typ: at+jwt`) carrying `claims`."""
        header = {"alg": self.algorithm, "typ": "at+jwt", "kid": self.kid}
        return jwt.encode(header, claims, self._key, algorithms=[self.algorithm])

    def verified_claims(self, token: str) -> dict[str, Any] | None:
        """The claims of a token this key signed (signature only, not expiry), else None."""
        try:
            return dict(jwt.decode(token, self._key, algorithms=[self.algorithm]).claims)
        except (JoseError, ValueError):
            return None

    def jwks(self) -> dict[str, Any]:
        """The JWK Set to publish at `jwks_uri`: the public key only."""
        public = self._key.as_dict(private=False) | {"alg": self.algorithm, "use": "sig"}
        return {"keys": [public | {"kid": self.kid}]}


def _read_key_file(path: Path) -> str:
    """The file's text; a warning when others than its owner may read or change it (the key
    signs every token the server issues and seals what it stores). Not refused: secrets
    mounted by an orchestrator are often 0644 inside a container only the server runs in."""
    text = path.read_text(encoding="utf-8")
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        logger.warning(
            "the signing key file %s may be read or changed by others than its owner (mode "
            "%04o): chmod 600 it",
            path,
            mode,
        )
    return text


def _json_object(text: str) -> dict[str, Any]:
    found = json.loads(text)
    if not isinstance(found, dict):
        raise ValueError("a JWK is a JSON object")
    return cast("dict[str, Any]", found)


def _import(data: dict[str, Any] | bytes) -> ECKey | RSAKey:
    key: ECKey | RSAKey
    if isinstance(data, dict) and data.get("kty") == "RSA":
        key = RSAKey.import_key(data)
    elif isinstance(data, dict):
        key = ECKey.import_key(data)
    else:
        try:
            key = ECKey.import_key(data)
        except (JoseError, ValueError, TypeError):
            key = RSAKey.import_key(data)
    key.ensure_kid()
    return key
