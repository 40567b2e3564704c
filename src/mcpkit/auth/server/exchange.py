"""`TokenExchange`: a handler's token for a downstream API on behalf of its caller, from the
provider's token endpoint (RFC 8693 token exchange, or Entra's on-behalf-of flow), cached per
caller token, audience and scopes until shortly before it expires; never the caller's own."""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, Final, Literal, Protocol
from urllib.parse import quote_plus

import msgspec

from mcpkit._extras import needs_extra

with needs_extra("auth"):
    import httpx
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from mcpkit.auth._fetch import (
    ClosesOnExit,
    FetchFailed,
    HttpClientSlot,
    check_endpoint,
    send_bounded,
)
from mcpkit.auth.metadata import OAuthErrorResponse, TokenResponse
from mcpkit.stores.kv import MAX_TTL

__all__ = ["EXCHANGE_GRANT", "OBO_GRANT", "CacheStore", "TokenExchange", "TokenExchangeFailed"]

EXCHANGE_GRANT: Final = "urn:ietf:params:oauth:grant-type:token-exchange"  # RFC 8693
OBO_GRANT: Final = "urn:ietf:params:oauth:grant-type:jwt-bearer"  # RFC 7523, Entra's OBO
_ACCESS_TOKEN: Final = "urn:ietf:params:oauth:token-type:access_token"

logger = logging.getLogger("mcpkit.auth")


class TokenExchangeFailed(Exception):
    """No downstream token: the request has no token to exchange, or the provider refused
    (`error` is its OAuth error code when it sent one) or could not be reached."""

    def __init__(self, message: str, error: str | None = None) -> None:
        super().__init__(message)
        self.error = error


class CacheStore(Protocol):
    """Where exchanged tokens may be kept between processes: `server.kv` fits."""

    async def get(self, key: str, default: Any = None) -> Any: ...

    async def set(self, key: str, value: Any, *, ttl: float | None = None) -> None: ...


class TokenExchange(ClosesOnExit):
    """Gets tokens for downstream APIs as the caller of a request: `await
    exchange.token_for(ctx, audience=...)` posts the caller's verified bearer token to
    `token_endpoint` as the client `client_id`/`client_secret` and returns the provider's
    answer, cached per (caller token, audience, resource, scopes) until `refresh_before`
    seconds before it expires (not cached when the answer has no `expires_in`).

    `flow="token-exchange"` is RFC 8693; `flow="on-behalf-of"` is Entra's (RFC 7523's
    jwt-bearer grant with `requested_token_use=on_behalf_of`). `client_auth` is how the
    client authenticates: `"client_secret_basic"` (HTTP Basic) or `"client_secret_post"`.

    The cache holds at most `max_cached` tokens in memory; given `kv` (`server.kv`), it is
    kept there instead, each token encrypted (AES-GCM, key derived from `client_secret`), so
    that every worker sharing the store reuses it. A token the provider answers with that
    is the caller's own is refused (spec: token passthrough is forbidden).
    """

    def __init__(
        self,
        *,
        token_endpoint: str,
        client_id: str,
        client_secret: str,
        flow: Literal["token-exchange", "on-behalf-of"] = "token-exchange",
        client_auth: Literal["client_secret_basic", "client_secret_post"] = ("client_secret_basic"),
        kv: CacheStore | None = None,
        max_cached: int = 1000,
        refresh_before: float = 60.0,
        timeout: float = 10.0,
        max_response_bytes: int = 64 * 1024,
        http_client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        check_endpoint(token_endpoint, "token_endpoint")
        if flow not in ("token-exchange", "on-behalf-of"):
            raise ValueError(f"flow must be 'token-exchange' or 'on-behalf-of', not {flow!r}")
        if client_auth not in ("client_secret_basic", "client_secret_post"):
            raise ValueError(f"client_auth {client_auth!r} is not client_secret_basic/post")
        if max_cached < 1 or refresh_before < 0:
            raise ValueError("max_cached must be >= 1 and refresh_before >= 0")
        self.token_endpoint = token_endpoint
        self.flow = flow
        self._client = (client_id, client_secret)
        self._client_auth = client_auth
        self._kv = kv
        self._memory: OrderedDict[str, tuple[str, float]] = OrderedDict()
        self._max_cached = max_cached
        self._refresh_before = refresh_before
        self._timeout = timeout
        self._max_bytes = max_response_bytes
        self._http = HttpClientSlot(http_client)
        self._clock = clock
        self._cipher = AESGCM(_cache_key(client_secret))

    async def token_for(
        self,
        ctx: Any,
        *,
        audience: str | None = None,
        resource: str | None = None,
        scopes: Sequence[str] = (),
    ) -> str:
        """An access token for `audience` (RFC 8693's logical name; Entra takes the API in
        `scopes` instead) and/or `resource` (a URI, RFC 8707) with `scopes`, on behalf of the
        caller of the request `ctx` serves; `TokenExchangeFailed` when there is none."""
        subject = _subject_token(ctx)
        wanted = (audience or "", resource or "", " ".join(sorted(set(scopes))))
        key = hashlib.sha256("\0".join((subject, *wanted)).encode()).hexdigest()
        found = await self._cached(key)
        if found is not None:
            return found
        token, expires_in = await self._exchange(subject, *wanted)
        if token == subject:
            # The provider handed back the caller's own token: using it downstream would be
            # the passthrough the spec forbids (security best practices, "Token Passthrough").
            raise TokenExchangeFailed("the provider answered with the caller's own token")
        if expires_in is not None:
            await self._keep(key, token, self._clock() + expires_in)
        return token

    async def _cached(self, key: str) -> str | None:
        now = self._clock()
        if self._kv is None:
            entry = self._memory.get(key)
            if entry is None or entry[1] - self._refresh_before <= now:
                self._memory.pop(key, None)
                return None
            self._memory.move_to_end(key)
            return entry[0]
        stored: Any = await self._kv.get(_KV_PREFIX + key)
        if not isinstance(stored, dict):
            return None
        document: dict[str, Any] = stored  # pyright: ignore[reportUnknownVariableType]
        return self._opened(key, document, now)

    def _opened(self, key: str, stored: dict[str, Any], now: float) -> str | None:
        sealed, expires_at = stored.get("t"), stored.get("e")
        if not isinstance(sealed, str) or not isinstance(expires_at, int | float):
            return None
        if expires_at - self._refresh_before <= now:
            return None
        try:
            raw = base64.b64decode(sealed, validate=True)
            return self._cipher.decrypt(raw[:12], raw[12:], key.encode()).decode()
        except InvalidTag:  # another secret, or tampered with: exchange again
            return None
        except (binascii.Error, ValueError) as exc:  # (a short nonce: ValueError)
            # Damaged in the store: a miss, exchanged again and written over.
            logger.warning(
                "TokenExchange: a cached token could not be read (%s): exchanged again", exc
            )
            return None

    async def _keep(self, key: str, token: str, expires_at: float) -> None:
        # A provider's expires_in may be past any store's longest TTL (ten years): kept
        # that long, re-exchanged after, rather than failing an exchange that succeeded.
        ttl = min(expires_at - self._refresh_before - self._clock(), MAX_TTL)
        if ttl <= 0:
            return
        if self._kv is None:
            self._memory[key] = (token, expires_at)
            self._memory.move_to_end(key)
            while len(self._memory) > self._max_cached:
                self._memory.popitem(last=False)
            return
        nonce = os.urandom(12)
        sealed = nonce + self._cipher.encrypt(nonce, token.encode(), key.encode())
        entry = {"t": base64.b64encode(sealed).decode(), "e": expires_at}
        await self._kv.set(_KV_PREFIX + key, entry, ttl=ttl)

    async def _exchange(
        self, subject: str, audience: str, resource: str, scope: str
    ) -> tuple[str, int | None]:
        form = self._form(subject, audience, resource, scope)
        client = self._http.get()
        request = client.build_request(
            "POST", self.token_endpoint, data=form, headers=self._headers()
        )
        try:
            status, body = await send_bounded(
                client, request, limit=self._max_bytes, timeout=self._timeout
            )
        except FetchFailed as exc:
            raise TokenExchangeFailed(f"the token endpoint could not be reached: {exc}") from None
        if status != 200:
            raise _refusal(status, body)
        try:
            answer = msgspec.json.decode(body, type=TokenResponse)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            raise TokenExchangeFailed(
                f"the token endpoint's answer is not a token: {exc}"
            ) from None
        return answer.access_token, answer.expires_in

    def _form(self, subject: str, audience: str, resource: str, scope: str) -> dict[str, str]:
        if self.flow == "on-behalf-of":
            form = {"grant_type": OBO_GRANT, "assertion": subject}
            form["requested_token_use"] = "on_behalf_of"
        else:
            form = {"grant_type": EXCHANGE_GRANT, "subject_token": subject}
            form["subject_token_type"] = form["requested_token_type"] = _ACCESS_TOKEN
        extra = {"audience": audience, "resource": resource, "scope": scope}
        form.update({name: value for name, value in extra.items() if value})
        if self._client_auth == "client_secret_post":
            form["client_id"], form["client_secret"] = self._client
        return form

    def _headers(self) -> dict[str, str]:
        headers = {"accept": "application/json"}
        if self._client_auth == "client_secret_basic":
            # RFC 6749 section 2.3.1: both parts form-urlencoded before they are joined.
            pair = ":".join(quote_plus(part) for part in self._client)
            headers["authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        return headers

    async def aclose(self) -> None:
        """Closes the HTTP client this made (never one it was given)."""
        await self._http.aclose()


_KV_PREFIX: Final = "mcpkit.token-exchange:"


def _cache_key(client_secret: str) -> bytes:
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"mcpkit token cache")
    return hkdf.derive(client_secret.encode())


def _subject_token(ctx: Any) -> str:
    """The verified bearer token of the request `ctx` serves."""
    info = ctx.request_info
    if ctx.auth is None or info is None:
        raise TokenExchangeFailed("the request carries no verified access token to exchange")
    scheme, _, token = (info.header("authorization") or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        # A DPoP-bound token is bound to the client's key: the provider would need a proof
        # this server cannot make.
        raise TokenExchangeFailed("only a bearer token can be exchanged, not a DPoP-bound one")
    return token.strip()


def _refusal(status: int, body: bytes) -> TokenExchangeFailed:
    try:
        error = msgspec.json.decode(body, type=OAuthErrorResponse)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return TokenExchangeFailed(f"the token endpoint answered HTTP {status}")
    detail = error.error_description or error.error
    return TokenExchangeFailed(f"the token endpoint refused: {detail}", error.error)
