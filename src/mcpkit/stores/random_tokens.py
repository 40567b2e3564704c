"""Random tokens for ids and keys, from the operating system's CSPRNG (`os.urandom`, what
`secrets` draws from), without importing `secrets`: that module brings `random`, `hmac` and
`hashlib` into every server process at start, about 1 MiB resident, for two calls."""

from __future__ import annotations

import base64
import os

__all__ = ["token_bytes", "token_urlsafe"]

token_bytes = os.urandom


def token_urlsafe(nbytes: int) -> str:
    """`nbytes` random bytes as URL-safe base64 without padding (`secrets.token_urlsafe`)."""
    return base64.urlsafe_b64encode(os.urandom(nbytes)).rstrip(b"=").decode("ascii")
