"""The HTTP calls the client side makes to authorization servers and to the MCP server's
metadata: bounded reads, and every failure turned into `AuthorizationFailed`."""

from __future__ import annotations

from typing import Final, TypeVar

from mcpkit._extras import needs_extra

with needs_extra("auth"):
    import httpx
import msgspec

from mcpkit.auth._fetch import FetchFailed, fetch_bounded
from mcpkit.auth.metadata import OAuthErrorResponse, decode
from mcpkit.errors import AuthorizationFailed

__all__ = ["DOCUMENT_LIMIT", "TIMEOUT", "get_document", "refusal", "send"]

_T = TypeVar("_T")

#: Bytes read at most from any metadata, registration or token response: these documents are
#: a few KiB; a peer that sends more is not trusted with our memory.
DOCUMENT_LIMIT: Final = 256 * 1024
#: Seconds each authorization-related HTTP request may take.
TIMEOUT: Final = 30.0


async def send(http: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    """Send `request` (never following redirects: RFC 9728 and RFC 8414 documents are fetched
    where they are, and a token must not be posted to where a redirect points) and read at
    most DOCUMENT_LIMIT bytes of the answer, as sent (never inflated), within TIMEOUT
    seconds in all."""
    try:
        return await fetch_bounded(http, request, limit=DOCUMENT_LIMIT, timeout=TIMEOUT)
    except FetchFailed as exc:
        if exc.refused:  # over DOCUMENT_LIMIT, or compressed
            raise AuthorizationFailed(
                "invalid_response", f"{request.url} answered what is not an OAuth document: {exc}"
            ) from None
        raise AuthorizationFailed(
            "temporarily_unavailable", f"cannot reach {request.url}: {exc}"
        ) from None


async def get_document(http: httpx.AsyncClient, url: str, kind: type[_T]) -> _T | None:
    """GET the JSON document at `url` as a `kind`; None when the server has none there (a 4xx),
    AuthorizationFailed when it answers with something that is not one."""
    request = http.build_request(
        "GET", url, headers={"accept": "application/json"}, timeout=TIMEOUT
    )
    response = await send(http, request)
    if 400 <= response.status_code < 500:
        return None
    if response.status_code != 200:
        raise AuthorizationFailed(
            "invalid_response",
            f"GET {url} answered HTTP {response.status_code}: expected a metadata document",
            status=response.status_code,
        )
    try:
        return decode(response.content, kind)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise AuthorizationFailed(
            "invalid_response", f"{url} is not a valid {kind.__name__} document: {exc}"
        ) from None


def refusal(response: httpx.Response, what: str) -> AuthorizationFailed:
    """The error an OAuth endpoint's refusal means (RFC 6749 section 5.2 body, when it has
    one)."""
    try:
        body = decode(response.content, OAuthErrorResponse)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return AuthorizationFailed(
            "invalid_response",
            f"{what} answered HTTP {response.status_code} without an OAuth error body",
            status=response.status_code,
        )
    detail = f"{what} refused: {body.error_description or body.error}"
    return AuthorizationFailed(body.error, detail, status=response.status_code)
