"""Answers read within a size: an API's answer to a call, or a document fetched by URL, is
read as it arrives and refused once it passes its bound, so neither a broken API nor a
hostile document host can make the server hold more than the bound (a compressed answer is
counted as it unpacks)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from mcpkit.openapi.exceptions import OpenApiRequestError

if TYPE_CHECKING:
    import httpx

__all__ = ["MAX_DOCUMENT_BYTES", "MAX_RESPONSE_BYTES", "send_bounded"]

#: The largest answer an operation's call reads (`max_response_bytes`).
MAX_RESPONSE_BYTES: Final = 16 * 1024 * 1024
#: The largest document `load_spec` fetches (`max_document_bytes`).
MAX_DOCUMENT_BYTES: Final = 32 * 1024 * 1024


async def send_bounded(
    client: httpx.AsyncClient,
    request: httpx.Request,
    limit: int,
    setting: str,
    label: str | None = None,
) -> tuple[httpx.Response, bytes]:
    """Send `request` and read its answer's body, at most `limit` bytes of it (after any
    content coding is undone); past that `OpenApiRequestError`, naming `setting`. httpx's
    own errors are the caller's to catch. `label` names the request in the error (default: its
    method and URL; an operation's call passes its path template, as the URL holds what the
    operator configured)."""
    shown = label or f"{request.method} {request.url}"
    response = await client.send(request, stream=True)
    try:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise _too_large(shown, limit, setting)
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise _too_large(shown, limit, setting)
            chunks.append(chunk)
    finally:
        await response.aclose()
    return response, b"".join(chunks)


def _too_large(label: str, limit: int, setting: str) -> OpenApiRequestError:
    return OpenApiRequestError(f"{label} answered more than {limit} bytes ({setting})")
