"""Where a `JwtVerifier` finds the key a token names: a JWKS given directly, or one fetched from
a URL, cached, refreshed when a token names a key it does not hold (rotation) but at most once
per `min_refresh_interval`, so a flood of tokens with made-up `kid`s costs one fetch."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import msgspec

from mcpkit._extras import needs_extra

with needs_extra("auth"):
    import httpx
    from joserfc.errors import JoseError
    from joserfc.jwk import JWKRegistry, Key

from mcpkit.auth._fetch import FetchFailed, HttpClientSlot, send_bounded
from mcpkit.auth.server._attempts import Attempts
from mcpkit.errors import VerifierUnavailable

__all__ = ["KeySource", "RemoteKeys", "StaticKeys", "Usable", "import_keys"]

logger = logging.getLogger("mcpkit.auth")

#: Whether a key may check the token's algorithm.
Usable = Callable[[Key], bool]


class _JwksDocument(msgspec.Struct):
    """RFC 7517 section 5; each member is checked when it is imported."""

    keys: list[dict[str, Any]]


def import_keys(document: Mapping[str, Any], *, symmetric: bool) -> list[tuple[str | None, Key]]:
    """The usable signing keys of a JWKS with their `kid`s. Skipped, as RFC 7517 section 5
    allows: keys of a type we do not know, keys for encryption (`use` other than "sig"), and
    symmetric (`oct`) keys unless `symmetric` (a JWKS URL publishes public keys only)."""
    found: list[tuple[str | None, Key]] = []
    for data in msgspec.convert(document, _JwksDocument).keys:
        kid = data.get("kid")
        if data.get("use", "sig") != "sig" or not isinstance(kid, str | None):
            continue
        if data.get("kty") == "oct" and not symmetric:
            continue
        try:
            found.append((kid, JWKRegistry.import_key(data)))
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            logger.warning("skipped a key of the JWKS that does not import: %s", exc)
    return found


def _select(keys: list[tuple[str | None, Key]], kid: str | None, usable: Usable) -> list[Key]:
    return [key for key_id, key in keys if (kid is None or key_id == kid) and usable(key)]


class KeySource(Protocol):
    """What `JwtVerifier` asks: the keys a token may be signed with."""

    async def keys_for(self, kid: str | None, usable: Usable) -> list[Key]:
        """The usable keys named `kid` (every usable key when the token names none)."""
        ...

    async def aclose(self) -> None:
        """Releases what the source holds."""
        ...


class StaticKeys:
    """A JWKS given directly (HMAC secrets, as `oct` keys, only this way)."""

    def __init__(self, document: Mapping[str, Any], *, symmetric: bool) -> None:
        try:
            self._keys = import_keys(document, symmetric=symmetric)
        except msgspec.ValidationError as exc:
            raise ValueError(f"jwks must be a JWKS ({{'keys': [...]}}, RFC 7517): {exc}") from None
        if not self._keys:
            raise ValueError(
                "jwks holds no usable signing key (a secret, an oct key, is used only when "
                "algorithms= lists an HMAC algorithm)"
            )

    async def keys_for(self, kid: str | None, usable: Usable) -> list[Key]:
        return _select(self._keys, kid, usable)

    async def aclose(self) -> None:
        return None


class RemoteKeys:
    """A JWKS fetched from `url`: refetched after `cache_ttl` seconds, or sooner when a token
    names a key it does not hold; either at most once per `min_refresh_interval`. A failed
    fetch keeps the keys already held, so an outage of the authorization server does not
    refuse tokens signed by keys we know; a token whose key we do not hold while the fetch
    fails is neither accepted nor refused (`VerifierUnavailable`: 503), and the fetch is
    tried again after 1 s, then 2, 4... up to `min_refresh_interval`, not after it."""

    def __init__(
        self,
        url: str,
        *,
        http: HttpClientSlot,
        clock: Callable[[], float],
        min_refresh_interval: float,
        cache_ttl: float,
        max_keys: int,
        max_bytes: int,
        timeout: float,
    ) -> None:
        self.url = url
        self._http = http
        self._clock = clock
        self._min_refresh_interval = min_refresh_interval
        self._cache_ttl = cache_ttl
        self._max_keys = max_keys
        self._max_bytes = max_bytes
        self._timeout = timeout
        self._keys: list[tuple[str | None, Key]] = []
        self._fetched_at: float | None = None
        self._attempts = Attempts(
            clock=clock,
            interval=min_refresh_interval,
            what=f"could not refresh the JWKS from {url}",
            level=logging.WARNING,
        )

    async def keys_for(self, kid: str | None, usable: Usable) -> list[Key]:
        if self._stale(self._clock()):
            await self._refresh()
        found = _select(self._keys, kid, usable)
        if not found:
            # Rotation: the authorization server may have published a new key (RFC 7517
            # section 5 leaves the cadence to it); `_refresh` rate-limits the fetches.
            await self._refresh()
            found = _select(self._keys, kid, usable)
        failure = self._attempts.failure
        if not found and failure is not None:
            # Not "no such key": we could not learn which keys there are.
            raise VerifierUnavailable(f"the issuer's key set could not be fetched: {failure}")
        return found

    def _stale(self, now: float) -> bool:
        return self._fetched_at is None or now - self._fetched_at >= self._cache_ttl

    async def _refresh(self) -> None:
        await self._attempts.run(lambda: self._update(self._http.get()))

    async def _update(self, client: httpx.AsyncClient) -> None:
        self._keys, self._fetched_at = await self._fetch(client), self._clock()

    async def _fetch(self, client: httpx.AsyncClient) -> list[tuple[str | None, Key]]:
        request = client.build_request("GET", self.url, headers={"accept": "application/json"})
        status, body = await send_bounded(
            client, request, limit=self._max_bytes, timeout=self._timeout
        )
        if status != 200:
            raise FetchFailed(f"it answered HTTP {status}")
        try:
            document = msgspec.json.decode(body, type=_JwksDocument)
        except (msgspec.DecodeError, RecursionError) as exc:  # the latter for deep nesting
            raise FetchFailed(f"the answer is not a JWKS (RFC 7517): {exc}") from None
        if len(document.keys) > self._max_keys:
            raise FetchFailed(
                f"the JWKS holds {len(document.keys)} keys, over max_keys={self._max_keys}"
            )
        keys = import_keys({"keys": document.keys}, symmetric=False)
        if not keys:
            raise FetchFailed("the JWKS holds no usable signing key")
        return keys

    async def aclose(self) -> None:
        await self._attempts.aclose()
        await self._http.aclose()
