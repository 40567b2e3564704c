"""`IntrospectionVerifier`: asks the authorization server about each token (OAuth 2.0 Token
Introspection, RFC 7662), authenticated as a client, then checks the answer's issuer,
audience (RFC 8707), times and scopes; active answers are cached briefly and boundedly."""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Collection
from typing import Any, Literal
from urllib.parse import quote_plus

from mcpkit._extras import needs_extra

with needs_extra("auth"):
    import httpx
import msgspec

from mcpkit.auth._fetch import (
    ClosesOnExit,
    FetchFailed,
    HttpClientSlot,
    check_endpoint,
    send_bounded,
)
from mcpkit.auth.server._checks import audiences, checked_access_token
from mcpkit.auth.server.verifier import AccessToken
from mcpkit.errors import InvalidToken, VerifierUnavailable

__all__ = ["IntrospectionVerifier"]

logger = logging.getLogger("mcpkit.auth")

# RFC 6750 section 2.1: the characters a bearer token may hold.
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
# RFC 7662 section 2.2: token_type is a type of RFC 6749 section 7.1 ("Bearer", RFC 9449's
# "DPoP"); some servers name the kind of token instead ("access_token", RFC 8693's URN).
_ACCESS_TYPES = frozenset(
    {"bearer", "dpop", "access_token", "urn:ietf:params:oauth:token-type:access_token"}
)
_UNCHECKED = "the token could not be checked (the introspection endpoint failed); try again"


class IntrospectionVerifier(ClosesOnExit):
    """Verifies tokens by POSTing them to the introspection `endpoint` (RFC 7662), as the
    client `client_id` with `client_secret`, sent per `auth_method` (RFC 6749 section 2.3.1:
    HTTP Basic by default, or in the form).

    An answer with `active` false refuses the token, and so does one whose `token_type` names
    anything but an access token (a refresh token introspected is active too). Then, as for
    a JWT: `iss` must equal `issuer` when `issuer` is set, and must be present unless
    `require_issuer` is false; `aud` must contain `audience` (or the resource the server
    passes to `verify`), and must be present unless `require_audience` is false; `exp`, `nbf`
    and `iat` are checked with `leeway` seconds; every token must carry `required_scopes`
    (else `InsufficientScope`, 403). An endpoint that fails, times out or answers nonsense
    makes the token unverifiable (`VerifierUnavailable`: 503), not invalid.

    Active answers are cached for `cache_ttl` seconds (never past the token's `exp`; 0 turns
    the cache off), at most `cache_size` of them, keyed by a SHA-256 digest so the token
    itself is not kept; a revoked token is refused again at most `cache_ttl` seconds later.
    An answer without `exp` is not cached (nothing bounds how long it holds) unless
    `cache_without_exp` is true.
    A request is bounded by `timeout` and `max_response_bytes`. `http_client` is used if
    given (and not closed here); otherwise `aclose()` (or `async with`) closes the one made.
    """

    def __init__(
        self,
        endpoint: str,
        *,
        client_id: str,
        client_secret: str,
        auth_method: Literal["client_secret_basic", "client_secret_post"] = "client_secret_basic",
        issuer: str | None = None,
        audience: str | Collection[str] | None = None,
        require_audience: bool = True,
        require_issuer: bool = True,
        required_scopes: Collection[str] = (),
        leeway: float = 60.0,
        cache_ttl: float = 30.0,
        cache_size: int = 1024,
        cache_without_exp: bool = False,
        timeout: float = 5.0,
        max_token_bytes: int = 16 * 1024,
        max_response_bytes: int = 64 * 1024,
        http_client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if auth_method not in ("client_secret_basic", "client_secret_post"):
            raise ValueError("auth_method must be client_secret_basic or client_secret_post")
        check_endpoint(endpoint, "the introspection endpoint")
        self.endpoint = endpoint
        self.issuer = issuer
        self._client_id = client_id
        self._client_secret = client_secret
        self._auth_method = auth_method
        self._audience = audience
        self._require_audience = require_audience
        self._require_issuer = require_issuer
        self._cache_without_exp = cache_without_exp
        self._required_scopes = frozenset(required_scopes)
        self._leeway = leeway
        self._timeout = timeout
        self._max_token_bytes = max_token_bytes
        self._max_response_bytes = max_response_bytes
        self._http = HttpClientSlot(http_client)
        self._clock = clock
        self._cache = _ActiveCache(cache_ttl, cache_size)

    async def verify(self, token: str, *, resource: str) -> AccessToken:
        """The verified token shown to `resource`, or `InvalidToken` saying what is wrong."""
        if len(token) > self._max_token_bytes:
            raise InvalidToken(f"the token is over {self._max_token_bytes} bytes")
        if not _B64TOKEN.fullmatch(token):
            raise InvalidToken("malformed token: it holds characters a bearer token cannot")
        key = (hashlib.sha256(token.encode("ascii")).digest(), resource)
        cached = self._cache.get(key, self._clock())
        if cached is not None:
            return cached
        access = self._check(await self._introspect(token), resource)
        if access.expires_at is not None or self._cache_without_exp:
            self._cache.put(key, access, self._clock())
        return access

    async def _introspect(self, token: str) -> dict[str, Any]:
        client = self._http.get()
        form = {"token": token, "token_type_hint": "access_token"}
        headers = {"accept": "application/json"}
        if self._auth_method == "client_secret_post":
            form |= {"client_id": self._client_id, "client_secret": self._client_secret}
        else:
            headers["authorization"] = _basic(self._client_id, self._client_secret)
        request = client.build_request("POST", self.endpoint, data=form, headers=headers)
        try:
            status, body = await send_bounded(
                client, request, limit=self._max_response_bytes, timeout=self._timeout
            )
        except FetchFailed as exc:
            logger.warning("token introspection at %s failed: %s", self.endpoint, exc)
            raise VerifierUnavailable(_UNCHECKED) from None
        return self._answer(status, body)

    def _answer(self, status: int, body: bytes) -> dict[str, Any]:
        if status != 200:
            hint = " (are client_id and client_secret right?)" if status in (400, 401) else ""
            logger.warning(
                "token introspection at %s answered HTTP %d%s", self.endpoint, status, hint
            )
            raise VerifierUnavailable(_UNCHECKED)
        try:
            answer = msgspec.json.decode(body)
        except (msgspec.DecodeError, RecursionError):  # msgspec raises the latter for deep nesting
            answer = None
        if not isinstance(answer, dict) or not isinstance(answer.get("active"), bool):  # pyright: ignore[reportUnknownMemberType]
            logger.warning(
                "token introspection at %s answered without a boolean active", self.endpoint
            )
            raise VerifierUnavailable(_UNCHECKED)
        if answer["active"] is not True:
            raise InvalidToken("the token is not active (revoked, expired or unknown)")
        kind = answer.get("token_type")  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
        if kind is not None and (not isinstance(kind, str) or kind.lower() not in _ACCESS_TYPES):
            raise InvalidToken("the token is not an access token (its token_type says so)")
        return answer  # pyright: ignore[reportUnknownVariableType]

    def _check(self, answer: dict[str, Any], resource: str) -> AccessToken:
        return checked_access_token(
            answer,
            issuer=self.issuer,
            issuer_required=self.issuer is not None and self._require_issuer,
            audiences=audiences(self._audience, resource),
            audience_required=self._require_audience,
            now=self._clock(),
            leeway=self._leeway,
            require_exp=False,
            required_scopes=self._required_scopes,
        )

    async def aclose(self) -> None:
        """Closes the HTTP client the verifier made (never one it was given)."""
        await self._http.aclose()


def _basic(client_id: str, client_secret: str) -> str:
    """RFC 6749 section 2.3.1: each part form-urlencoded, then HTTP Basic (RFC 7617)."""
    pair = f"{quote_plus(client_id)}:{quote_plus(client_secret)}"
    return "Basic " + base64.b64encode(pair.encode()).decode("ascii")


class _ActiveCache:
    """Verified tokens by digest and resource, least recently used dropped past `size`."""

    def __init__(self, ttl: float, size: int) -> None:
        self._ttl = ttl
        self._size = size
        self._entries: OrderedDict[tuple[bytes, str], tuple[float, AccessToken]] = OrderedDict()

    def get(self, key: tuple[bytes, str], now: float) -> AccessToken | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        until, access = entry
        if now >= until:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return access

    def put(self, key: tuple[bytes, str], access: AccessToken, now: float) -> None:
        until = now + self._ttl
        if access.expires_at is not None:
            until = min(until, access.expires_at)
        if until <= now or self._size <= 0:
            return
        self._entries[key] = (until, access)
        self._entries.move_to_end(key)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def __len__(self) -> int:
        return len(self._entries)
