"""A public, read-only JSON document served beside the MCP endpoint (a Server Card, an AI
Catalog): GET and HEAD answer it with its media type, caching headers and an entity tag
(`If-None-Match` that matches: 304), and open CORS, as the Server Card extension's
docs/discovery.md asks of a hosted card ("CORS Requirements", "Caching"). The document is
fixed when the app is built, so its tag is its digest."""

from __future__ import annotations

import hashlib
from typing import Final

from mcpkit._asgi import Receive, Scope, Send, first_header, local_path, send_whole
from mcpkit.transports.deployment.custom_routes import CustomRoute

__all__ = ["public_document_route"]

#: The CORS headers of a public document: anyone may read it, from any page.
_CORS: Final = (
    (b"access-control-allow-origin", b"*"),
    (b"access-control-allow-methods", b"GET"),
    (b"access-control-allow-headers", b"Content-Type, If-None-Match"),
    (b"access-control-expose-headers", b"ETag"),
)
_CACHE: Final = (b"cache-control", b"public, max-age=3600")
_ALLOW: Final = (b"allow", b"GET, HEAD, OPTIONS")


class _Document:
    """The ASGI app of one document."""

    __slots__ = ("_body", "_etag", "_media_type")

    def __init__(self, body: bytes, media_type: str) -> None:
        self._body = body
        self._media_type = media_type.encode()
        self._etag = b'"' + hashlib.sha256(body).hexdigest()[:32].encode() + b'"'

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope["method"]
        if method == "OPTIONS":  # a browser's preflight
            await send_whole(send, 204, headers=(*_CORS, _ALLOW))
            return
        if method not in ("GET", "HEAD"):
            await send_whole(send, 405, headers=(*_CORS, _ALLOW))
            return
        tagged = (*_CORS, _CACHE, (b"etag", self._etag))
        if self._matches(first_header(scope, b"if-none-match")):
            await send_whole(send, 304, headers=tagged)
            return
        headers = (*tagged, (b"content-type", self._media_type))
        if method == "HEAD":
            length = (b"content-length", str(len(self._body)).encode())
            await send(
                {"type": "http.response.start", "status": 200, "headers": [*headers, length]}
            )
            await send({"type": "http.response.body", "body": b""})
            return
        await send_whole(send, 200, self._body, headers)

    def _matches(self, asked: bytes | None) -> bool:
        """Whether `If-None-Match` names this document's tag (or `*`), weak tags included
        (RFC 9110 section 13.1.2 compares them weakly)."""
        if asked is None:
            return False
        tags = {tag.strip().removeprefix(b"W/") for tag in asked.split(b",")}
        return b"*" in tags or self._etag in tags


def public_document_route(path: str, body: bytes, media_type: str, what: str) -> CustomRoute:
    """A route serving `body` as `media_type` at `path` (below the app's mount point), open to
    every origin's pages; `what` names it in the app's messages."""

    def matches(scope: Scope) -> bool:
        return local_path(scope) == path

    methods = frozenset({"GET", "HEAD", "OPTIONS"})
    return CustomRoute(path, methods, _Document(body, media_type), matches, False, what)
