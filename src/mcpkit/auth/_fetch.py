"""Bounded HTTP for every fetch the authorization code makes (the verifiers' JWKS and
introspection, the development server's client ID metadata documents, the client's metadata,
registration and token requests): a deadline over the whole exchange and a cap on the body
counted as it arrives (`mcpkit._bounded_answer`), never inflated (identity encoding only), so
a slow, dripping, hanging, flooding or compressed answer costs a bounded time and memory; the
`httpx.AsyncClient` a verifier owns only when it was not given one; `async with` for them."""

from __future__ import annotations

import asyncio
import ipaddress
from types import TracebackType
from typing import Self

from mcpkit._extras import needs_extra

with needs_extra("auth"):
    import httpx

from mcpkit._bounded_answer import AnswerTooLarge, UnreadCoding, send_and_read

__all__ = [
    "ClosesOnExit",
    "FetchFailed",
    "HttpClientSlot",
    "check_endpoint",
    "fetch_bounded",
    "send_bounded",
]


def check_endpoint(url: str, setting: str) -> None:
    """An authorization server endpoint must be an https URL (spec: basic/authorization,
    "Communication Security"); plain http only on this machine, for development."""
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ValueError(f"{setting} is not a URL ({exc}): {url!r}") from None
    if parsed.scheme == "https" and parsed.host:
        return
    if parsed.scheme == "http" and _is_loopback(parsed.host):
        return
    raise ValueError(f"{setting} must be an https URL (http only for localhost): {url!r}")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class FetchFailed(Exception):
    """The endpoint could not be read; the message says why, for the log. `refused` when it
    answered, with what we do not read (over the limit, compressed): the peer's fault, not
    an outage."""

    def __init__(self, message: str, *, refused: bool = False) -> None:
        super().__init__(message)
        self.refused = refused


async def fetch_bounded(
    client: httpx.AsyncClient, request: httpx.Request, *, limit: int, timeout: float
) -> httpx.Response:
    """`request`'s answer, its body read up to `limit` bytes and the whole exchange within
    `timeout` seconds (httpx's own timeouts are per read, which a server that drips one byte
    at a time never trips). Redirects are never followed; identity encoding only (nothing
    here needs a compressed document). FetchFailed otherwise."""
    try:
        async with asyncio.timeout(timeout):
            response, body = await send_and_read(
                client, request, limit, inflate=False, follow_redirects=False
            )
    except TimeoutError:
        raise FetchFailed(f"no answer within {timeout} s") from None
    except httpx.HTTPError as exc:
        raise FetchFailed(f"{type(exc).__name__}: {exc}") from None
    except UnreadCoding as exc:
        raise FetchFailed(
            f"the answer is compressed ({exc.coding}) though identity was asked for", refused=True
        ) from None
    except AnswerTooLarge as exc:
        if exc.declared is None:
            message = f"the answer is over the limit of {limit} bytes"
        else:
            message = f"the answer is {exc.declared} bytes, over the limit of {limit}"
        raise FetchFailed(message, refused=True) from None
    return httpx.Response(
        response.status_code, headers=response.headers, content=body, request=request
    )


async def send_bounded(
    client: httpx.AsyncClient, request: httpx.Request, *, limit: int, timeout: float
) -> tuple[int, bytes]:
    """`fetch_bounded`'s status and body."""
    response = await fetch_bounded(client, request, limit=limit, timeout=timeout)
    return response.status_code, response.content


class HttpClientSlot:
    """The client a verifier sends with: the one it was given (never closed here), or one it
    makes on first use and closes in `aclose()`."""

    def __init__(self, given: httpx.AsyncClient | None) -> None:
        self._given = given
        self._owned: httpx.AsyncClient | None = None
        self._closed = False

    def get(self) -> httpx.AsyncClient:
        if self._given is not None:
            return self._given
        if self._closed:
            raise RuntimeError("this verifier was closed (aclose); make a new one")
        if self._owned is None:
            self._owned = httpx.AsyncClient()
        return self._owned

    async def aclose(self) -> None:
        self._closed = True
        owned, self._owned = self._owned, None
        if owned is not None:
            await owned.aclose()


class ClosesOnExit:
    """`async with` for an object with `aclose()`: the verifiers, which own an HTTP client."""

    async def aclose(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
