"""joserfc held to an allow-list of algorithms, for the access tokens (`jwt`) and the DPoP proofs
(`dpop`) a resource server checks: one registry shape, one check that a key fits an algorithm."""

from __future__ import annotations

from collections.abc import Collection

from mcpkit._extras import needs_extra

with needs_extra("auth"):
    from joserfc import jws
    from joserfc.errors import JoseError, UnsupportedAlgorithmError
    from joserfc.jwa import JWSAlgModel
    from joserfc.jwk import Key

__all__ = ["AllowListRegistry", "fits", "registry"]


class AllowListRegistry(jws.JWSRegistry):
    """joserfc's registry held to our allow-list, and quiet: joserfc warns on each use of
    `EdDSA` (deprecated by RFC 9864), which most servers still send."""

    def get_alg(self, name: str) -> JWSAlgModel:
        if name not in self.algorithms or not self.allowed or name not in self.allowed:
            raise UnsupportedAlgorithmError(f"algorithm {name!r} is not allowed")
        return self.algorithms[name]


def registry(algorithms: Collection[str], max_bytes: int) -> AllowListRegistry:
    """A registry allowing `algorithms` only, for JWS of at most `max_bytes` in all."""
    found = AllowListRegistry(algorithms=list(algorithms), strict_check_header=False)
    # Our limits, not joserfc's (512 bytes of header, too few for an `x5c` chain or a JWK;
    # 128,000 of payload): the whole JWS is bounded by `max_bytes` already.
    found.max_header_length = found.max_payload_length = max_bytes
    return found


def fits(alg: JWSAlgModel, key: Key) -> bool:
    """Whether `key` can check `alg` (key type, curve, and the key's own `alg` and `use`):
    an RSA public key never checks an HMAC signature, whatever the header says."""
    try:
        alg.check_key(key)
    except JoseError:
        return False
    return True
