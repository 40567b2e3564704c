"""Every page of a paginated list (server/utilities/pagination): the one loop the client's
`list_*` calls share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

__all__ = ["MAX_PAGES", "all_pages"]

#: Pages read at most by a `list_*` call unless it is given another bound: a server whose
#: cursors never end (or repeat) cannot keep the client listing forever.
MAX_PAGES = 1000


async def all_pages(
    fetch: Callable[[str | None], Awaitable[Any]], attr: str, max_pages: int = MAX_PAGES
) -> list[Any]:
    """The items under `attr` of each page `fetch(cursor)` returns, from the first page to the
    last (no `nextCursor`), a cursor seen before, or `max_pages`."""
    items: list[Any] = []
    cursor: str | None = None
    seen: set[str] = set()
    for _ in range(max_pages):
        page = await fetch(cursor)
        items.extend(getattr(page, attr))
        cursor = page.next_cursor
        if not cursor or cursor in seen:
            break
        seen.add(cursor)
    return items
