"""Proof Key for Code Exchange (RFC 7636) with S256 only, as MCP requires (spec:
basic/authorization, "Authorization Code Protection")."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass

from mcpkit.auth.metadata import AuthorizationServerMetadata
from mcpkit.errors import AuthorizationFailed

__all__ = ["Pkce", "require_s256"]


@dataclass(frozen=True)
class Pkce:
    """A code verifier and its S256 challenge; make one per authorization request."""

    verifier: str
    challenge: str
    method: str = "S256"

    @classmethod
    def new(cls) -> Pkce:
        # 32 random bytes give a 43-character verifier: RFC 7636 section 4.1's minimum length
        # and the 256 bits of entropy section 7.1 recommends.
        verifier = secrets.token_urlsafe(32)
        return cls(verifier, s256(verifier))


def s256(verifier: str) -> str:
    """BASE64URL(SHA256(verifier)) without padding (RFC 7636 section 4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def require_s256(metadata: AuthorizationServerMetadata) -> None:
    """Refuse an authorization server that does not list S256 in
    `code_challenge_methods_supported` (spec: "MCP clients MUST refuse to proceed")."""
    methods = metadata.code_challenge_methods_supported
    if methods is None or "S256" not in methods:
        listed = ", ".join(methods) if methods else "none"
        raise AuthorizationFailed(
            "unsupported_pkce",
            f"the authorization server {metadata.issuer} does not support PKCE S256 "
            f"(code_challenge_methods_supported lists {listed}): MCP clients must not "
            "proceed without it; ask its operator to enable S256",
        )
