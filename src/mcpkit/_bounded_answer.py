"""An outside host's HTTP answer read within a byte bound: the one reader behind every answer
mcpkit takes from a host it does not control (the authorization code's documents, JWKS,
introspection and token requests, a server card, an OpenAPI operation's answer, a document
fetched by URL). Hostile input is the normal case, so the bound counts what would be held:
the bytes as they arrive and, for a compressed answer, the bytes as they unpack, a piece at a
time, so that no more than the bound (+1 byte) is ever produced. httpx's own decoding cannot
be used for this: it inflates each network chunk whole (a 64 KiB gzip chunk to 64 MiB, a
brotli or zstd one to far more) before any count of ours sees it.

A room of its own because layers that may not import each other (`auth`, `openapi`, and the
HTTP client transport, for an MCP server's JSON answers) all read answers so; each turns the
refusals into its own error.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import Final

from mcpkit._extras import needs_extra

with needs_extra("http"):
    import httpx

__all__ = ["AnswerRefused", "AnswerTooLarge", "UnreadCoding", "read_answer", "send_and_read"]

# gzip's wrapper (RFC 1952); `x-gzip` is its old name (RFC 9110, 8.4.1.3).
_GZIP_WBITS: Final = zlib.MAX_WBITS | 16
_CODINGS: Final = ("gzip", "x-gzip", "deflate")
#: What a caller that inflates asks for: the codings the standard library undoes.
_ACCEPT_COMPRESSED: Final = "gzip, deflate"


class AnswerRefused(Exception):
    """An answer not read: the caller says so in its own error."""


class AnswerTooLarge(AnswerRefused):
    """Over `limit` bytes: as its Content-Length said (`declared`), or as read (None)."""

    def __init__(self, limit: int, declared: int | None = None) -> None:
        super().__init__(f"the answer is over the limit of {limit} bytes")
        self.limit = limit
        self.declared = declared


class UnreadCoding(AnswerRefused):
    """Compressed in `coding` (the Content-Encoding as sent), which was not asked for."""

    def __init__(self, coding: str) -> None:
        super().__init__(f"the answer is compressed ({coding})")
        self.coding = coding


async def send_and_read(
    client: httpx.AsyncClient,
    request: httpx.Request,
    limit: int,
    *,
    inflate: bool,
    follow_redirects: bool,
) -> tuple[httpx.Response, bytes]:
    """Send `request` and read its answer's body, at most `limit` bytes of it. With `inflate`
    gzip and deflate are asked for and undone here, counted as they unpack; without it,
    identity only. AnswerTooLarge or UnreadCoding otherwise; httpx's errors (a corrupt
    compressed body is `httpx.DecodingError`) are the caller's. No deadline: a caller that has
    a timeout to name puts the call under it."""
    request.headers["accept-encoding"] = _ACCEPT_COMPRESSED if inflate else "identity"
    response = await client.send(request, stream=True, follow_redirects=follow_redirects)
    try:
        return response, await read_answer(response, limit, inflate=inflate)
    finally:
        await response.aclose()


async def read_answer(response: httpx.Response, limit: int, *, inflate: bool) -> bytes:
    """The body of `response` (sent with `stream=True`), at most `limit` bytes of it, as
    `send_and_read` reads it: AnswerTooLarge or UnreadCoding otherwise."""
    sent = response.headers.get("content-encoding", "")
    codings = [c for c in (p.strip().lower() for p in sent.split(",")) if c not in ("", "identity")]
    # One coding at most: stacked ones would each need their own bound.
    if len(codings) > 1 or (codings and (not inflate or codings[0] not in _CODINGS)):
        raise UnreadCoding(sent.strip())
    # As sent, a compressed body may be a little longer than what it unpacks to.
    packed_limit = _packed_limit(limit) if codings else limit
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > packed_limit:
        raise AnswerTooLarge(limit, int(declared))
    if response.is_stream_consumed:
        # Made in process with its body (httpx.MockTransport's `content=`), which httpx read
        # and decoded then: nothing is left to bound while reading, only to count.
        if len(response.content) > limit:
            raise AnswerTooLarge(limit)
        return response.content
    unpack = _inflater(codings[0], response.request) if codings else None
    body = bytearray()
    received = 0  # as sent: bounded too, so that a stream that unpacks to nothing still ends
    async for chunk in response.aiter_raw():
        received += len(chunk)
        body += chunk if unpack is None else unpack(chunk, limit - len(body))
        if len(body) > limit or received > packed_limit:
            raise AnswerTooLarge(limit)
    return bytes(body)


def _packed_limit(limit: int) -> int:
    """The most a gzip or deflate body that unpacks within `limit` bytes takes as sent: data
    that does not compress is sent in stored blocks of 5 bytes' framing a 64 KiB (RFC 1951,
    3.2.4), plus the gzip header and trailer (RFC 1952), room to spare in both."""
    return limit + limit // 1024 + 64 * 1024


def _inflater(coding: str, request: httpx.Request) -> Callable[[bytes, int], bytes]:
    """`unpack(data, room)`: what `data` unpacks to, cut at `room` + 1 bytes (zlib stops
    there, so no more is ever made; the caller then refuses the answer)."""
    decoder = zlib.decompressobj(_GZIP_WBITS) if coding != "deflate" else None
    head = b""

    def unpack(data: bytes, room: int) -> bytes:
        nonlocal decoder, head
        if decoder is None:
            # deflate is zlib-wrapped (RFC 9110, 8.4.1.2); some servers send it raw: the
            # first two bytes tell which.
            head += data
            if len(head) < 2:
                return b""
            data, head = head, b""
            decoder = zlib.decompressobj(_deflate_wbits(data))
        if decoder.eof:
            return b""  # bytes after the end of the stream are not read (as httpx does)
        try:
            return decoder.decompress(data, room + 1)
        except zlib.error as exc:
            raise httpx.DecodingError(f"{coding} body: {exc}", request=request) from None

    return unpack


def _deflate_wbits(head: bytes) -> int:
    wrapped = head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0  # RFC 1950, 2.2
    return zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS
