"""Opaque pagination cursors for list results (spec: server/utilities/pagination).

A cursor encodes the position after the last item sent; clients must treat it as opaque.
An unreadable cursor is answered with -32602 Invalid params.

The page size is the server's choice (clients "MUST NOT assume a fixed page size"), and a
cursor is an offset, so it is not stable across a change of the list: an item added or removed
before the cursor between two pages shifts the rest by one, and one item is then skipped or
sent twice (server/utilities/pagination asks for stable cursors only as a SHOULD).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import TypeVar

from mcpkit.errors import McpError
from mcpkit.protocol import codes

__all__ = ["decode_cursor", "encode_cursor", "paginate"]

T = TypeVar("T")
# A marker inside the base64: a string that merely decodes as base64 (another server's cursor,
# or one made up) is refused rather than read as an offset.
_PREFIX = "o:"


def encode_cursor(offset: int) -> str:
    """The cursor of the page starting at `offset` (URL-safe base64, padding dropped)."""
    return base64.urlsafe_b64encode(f"{_PREFIX}{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    """The offset `cursor` stands for; McpError -32602 for one this module did not make
    (server/utilities/pagination, Error Handling)."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        text = base64.urlsafe_b64decode(padded.encode()).decode()
        if not text.startswith(_PREFIX):
            raise ValueError(text)
        offset = int(text[len(_PREFIX) :])
        if offset < 0:
            raise ValueError(text)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise McpError(codes.INVALID_PARAMS, f"Invalid params: unknown cursor {cursor!r}") from None
    return offset


def paginate(items: Sequence[T], cursor: str | None, page_size: int) -> tuple[list[T], str | None]:
    """Return one page of `items` starting at `cursor`, and the cursor of the next page."""
    start = decode_cursor(cursor) if cursor else 0
    end = start + page_size
    page = list(items[start:end])
    # No `nextCursor` on the last page: clients treat its absence as the end of results. An
    # offset past the end (the list shrank) gives an empty last page, not an error.
    return page, (encode_cursor(end) if end < len(items) else None)
