"""Server-provided DPoP nonces (RFC 9449 section 9) that need no record per nonce: each is an
HMAC of a time window under a secret every process sharing the store agrees on, so any
worker accepts the nonce another handed out, and nonces rotate by themselves."""

from __future__ import annotations

import base64
import math
import time
from collections.abc import Callable
from typing import Final

from mcpkit.stores.liveness import SharedSecrets
from mcpkit.stores.random_tokens import token_bytes

__all__ = ["NONCE_SECRET", "NonceSource"]

#: The name of the store's shared secret nonces are derived from (`Stores.secrets`).
NONCE_SECRET: Final = "dpop-nonce"


class NonceSource:
    """The nonce of the current window of `lifetime` seconds; a proof may carry that one or
    the previous window's, so a nonce handed out just before a rotation still works.

    The key is the store's shared secret `NONCE_SECRET` when the store has shared secrets (SQLite,
    Redis); otherwise one drawn for this process, which is all a `memory://` store serves."""

    def __init__(
        self,
        lifetime: float,
        shared: SharedSecrets | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not lifetime > 0:
            raise ValueError("the DPoP nonce lifetime must be positive")
        self._lifetime = lifetime
        self._shared = shared
        self._clock = clock
        self._key: bytes | None = None if shared is not None else token_bytes(32)

    async def current(self) -> str:
        """The nonce to hand out now (`DPoP-Nonce`)."""
        return self._nonce(await self._secret(), self._window())

    async def accepts(self, nonce: str) -> bool:
        """Whether `nonce` is this window's or the previous one's."""
        import hmac  # (here: only a server asking for nonces loads hashlib)

        key = await self._secret()
        window = self._window()
        given = nonce.encode("ascii", "replace")
        return any(
            hmac.compare_digest(given, self._nonce(key, w).encode()) for w in (window, window - 1)
        )

    def _window(self) -> int:
        return math.floor(self._clock() / self._lifetime)

    async def _secret(self) -> bytes:
        if self._key is None:
            assert self._shared is not None
            self._key = await self._shared.secret(NONCE_SECRET)
        return self._key

    @staticmethod
    def _nonce(key: bytes, window: int) -> str:
        import hashlib
        import hmac

        mac = hmac.new(key, f"mcpkit dpop nonce {window}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac[:24]).decode("ascii")
