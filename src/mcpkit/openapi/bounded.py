"""Answers read within a size: an API's answer to a call, or a document fetched by URL, is
read as it arrives and refused once it passes its bound, so neither a broken API nor a
hostile document host can make the server hold more than the bound. An API may compress its
answers: gzip and deflate are asked for and counted as they unpack (`mcpkit._bounded_answer`
reads them), any other coding is refused by name."""

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
    """Send `request` and read its answer's body, at most `limit` bytes of it (a gzip or
    deflate body counted as it unpacks); past that `OpenApiRequestError`, naming `setting`,
    as for an answer in another coding. httpx's own errors are the caller's to catch.
    `label` names the request in the error (default: its method and URL; an operation's call
    passes its path template, as the URL holds what the operator configured). No deadline
    here, as no setting of this engine names one: the client's timeouts bound each read, and
    `Server(tool_timeout=...)` a tool's whole call."""
    # (here, not at the top: reading a document from a file needs no httpx)
    from mcpkit._bounded_answer import AnswerTooLarge, UnreadCoding, send_and_read

    shown = label or f"{request.method} {request.url}"
    try:
        return await send_and_read(
            client, request, limit, inflate=True, follow_redirects=client.follow_redirects
        )
    except AnswerTooLarge:
        raise OpenApiRequestError(f"{shown} answered more than {limit} bytes ({setting})") from None
    except UnreadCoding as exc:
        raise OpenApiRequestError(
            f"{shown} answered in content coding {exc.coding!r}, which is not read: mcpkit asks "
            "for gzip or deflate (accept-encoding) and undoes only those"
        ) from None
