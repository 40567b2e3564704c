"""A tool result past its budget (`max_result=`, `catalog.result_budget`): cut with a marker,
or its overflow kept as `mcpkit-result://` resources that only its caller can read, for a
while, within bounds; and reading them back (resources/read, `ctx.read_resource`).

Who the caller is: in a 2025-11-25 session, the session; with auth, in either era, the
token's owner (as a requestState is bound). A 2026-07-28 request without auth
has neither, so its link is a capability: 192 random bits in the URI that only its answer
carried. The overflow lives in the memory of the process that ran the call (docs/server.md).
"""

from __future__ import annotations

import time
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Protocol

import msgspec

from mcpkit.protocol.own_terms import is_stateless_revision
from mcpkit.server.catalog.resources import not_found
from mcpkit.server.catalog.result_budget import (
    BYTES_PER_TOKEN,
    MARKER_ROOM,
    RESULT_SCHEME,
    ResultBudget,
    content_size,
    fits,
    split_blocks,
)
from mcpkit.stores.sessions import owner_key
from mcpkit.types import (
    AudioContent,
    BlobResourceContents,
    CallToolResult,
    ContentBlock,
    EmbeddedResource,
    ImageContent,
    ReadResourceResult,
    ResourceLink,
    TextContent,
    TextResourceContents,
)

if TYPE_CHECKING:
    from mcpkit.auth.server.verifier import AccessToken
    from mcpkit.protocol.terms import Terms

__all__ = [
    "Caller",
    "MAX_ENTRIES",
    "MAX_PAGES",
    "MAX_STORED_BYTES",
    "RESULT_SCHEME",
    "ResultStore",
    "Served",
    "fit_result",
    "read_result",
    "store_of",
]

#: Overflows kept at once per server, and their bytes together: the oldest go first.
MAX_ENTRIES: Final = 256
MAX_STORED_BYTES: Final = 64 * 1024 * 1024
#: Pages of one "paginate" overflow; past them the rest is cut, as "truncate" does.
MAX_PAGES: Final = 100

Contents = TextResourceContents | BlobResourceContents
Owner = tuple[str | None, str | None]  # (the 2025 session's id, the token's principal)


class _Mounted(Protocol):
    @property
    def parent(self) -> Served: ...


class Served(Protocol):
    """A server as far as where its overflows are kept goes (`Server`)."""

    @property
    def mounted_in(self) -> _Mounted | None: ...


class _Peer(Protocol):
    @property
    def id(self) -> str: ...


class Caller(Protocol):
    """A request's Context as far as who may read an overflow goes (named so, not `Context`,
    which sits above the tools this module serves)."""

    @property
    def server(self) -> Served: ...

    @property
    def session(self) -> _Peer: ...

    @property
    def terms(self) -> Terms[Any] | None: ...

    @property
    def auth(self) -> AccessToken | None: ...


@dataclass(slots=True)
class _Entry:
    owner: Owner
    expires: float
    pages: list[list[ContentBlock]]
    size: int


class ResultStore:
    """The overflows of one server's tool results: at most `max_entries` and `max_bytes`
    together, each until it expires; the oldest are dropped to make room."""

    def __init__(
        self,
        max_entries: int = MAX_ENTRIES,
        max_bytes: int = MAX_STORED_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def put(self, owner: Owner, ttl: float, pages: list[list[ContentBlock]]) -> str | None:
        """Keep `pages` for `owner` for `ttl` seconds: the key of their URIs, or None when
        they are larger than the whole store."""
        size = sum(content_size(page) for page in pages)
        if size > self.max_bytes:
            return None
        import secrets  # (loaded only where some result overflows)

        self._expire()
        while self._entries and (
            len(self._entries) >= self.max_entries or self._bytes + size > self.max_bytes
        ):
            self._drop(next(iter(self._entries)))
        key = secrets.token_urlsafe(24)
        self._entries[key] = _Entry(owner, self._clock() + ttl, pages, size)
        self._bytes += size
        return key

    def get(self, key: str, page: int, owner: Owner) -> tuple[list[ContentBlock], int] | None:
        """Page `page` (from 1) of `key`, and how many it has, if `owner` may read it and it
        has not expired."""
        self._expire()
        entry = self._entries.get(key)
        if entry is None or not _may_read(entry.owner, owner) or not 0 < page <= len(entry.pages):
            return None
        return entry.pages[page - 1], len(entry.pages)

    def _expire(self) -> None:
        now = self._clock()
        # Entries are kept in the order they were put, and all of one server's share no
        # order of expiry (ttls differ): one pass over the few there are.
        for key in [k for k, e in self._entries.items() if e.expires <= now]:
            self._drop(key)

    def _drop(self, key: str) -> None:
        entry = self._entries.pop(key)
        self._bytes -= entry.size


def _may_read(kept_for: Owner, reader: Owner) -> bool:
    """The session (where there was one) and the token's owner (where there was one) match."""
    session, principal = kept_for
    return (session is None or session == reader[0]) and (
        principal is None or principal == reader[1]
    )


_stores: weakref.WeakKeyDictionary[Served, ResultStore] = weakref.WeakKeyDictionary()


def store_of(server: Served) -> ResultStore:
    """The overflows of the server the client talks to (`server`'s outermost parent): a
    mounted server's tool keeps its overflow where the client's resources/read arrives."""
    while server.mounted_in is not None:
        server = server.mounted_in.parent
    found = _stores.get(server)
    if found is None:
        found = _stores[server] = ResultStore()
    return found


def _owner(ctx: Caller) -> Owner:
    terms = ctx.terms
    stateless = terms is not None and terms.stateless and is_stateless_revision(terms.revision)
    return (None if stateless else ctx.session.id), _principal(ctx.auth)


def _principal(token: AccessToken | None) -> str | None:
    """The token's issuer, subject and client, spelt as a requestState's caller is
    (`asking.round_trip.principal_of`, a room this one may not import); None without auth."""
    if token is None:
        return None
    from mcpkit.auth.server.resource import identity_of  # (loaded already where auth is)

    return owner_key((*(identity_of(token) or ()), token.client_id))


# ------------------------------------------------------------------ cutting


async def fit_result(
    budget: ResultBudget, name: str, result: CallToolResult, ctx: Caller
) -> CallToolResult:
    """`result` of the tool `name` made to fit `budget`: as it is when it does; else its
    content cut, the overflow dropped or kept for the caller (`budget.overflow`).
    structuredContent stays whole (it must fit the output schema)."""
    content = result.content
    limit = budget.limit
    if fits(content, limit):
        return result
    total = content_size(content)
    kept, rest = split_blocks(content, limit - MARKER_ROOM)
    cut = total - content_size(kept)
    tail: list[ContentBlock]
    if budget.overflow == "truncate":
        tail = [TextContent(text=_truncated(cut, total, limit))]
    else:
        tail = _kept_for_caller(budget, name, rest, cut, total, ctx)
    return msgspec.structs.replace(result, content=[*kept, *tail])


def _truncated(cut: int, total: int, limit: int, why: str = "") -> str:
    return (
        f"[cut: {cut} of {total} bytes (about {cut // BYTES_PER_TOKEN} tokens) left out "
        f"to fit this tool's result budget of {limit} bytes{why}]"
    )


def _kept_for_caller(
    budget: ResultBudget,
    name: str,
    rest: list[ContentBlock],
    cut: int,
    total: int,
    ctx: Caller,
) -> list[ContentBlock]:
    """The marker and links of an overflow kept as resources (dropped, and said so, when
    the store cannot hold it)."""
    pages = [rest] if budget.overflow == "resource" else _pages(rest, budget.limit - MARKER_ROOM)
    dropped = pages[MAX_PAGES:]
    pages = pages[:MAX_PAGES]
    key = store_of(ctx.server).put(_owner(ctx), budget.ttl, pages)
    if key is None:
        why = "; too large to keep for reading"
        return [TextContent(text=_truncated(cut, total, budget.limit, why))]
    lost = sum(content_size(page) for page in dropped)
    first = pages[0]
    link = ResourceLink(
        uri=f"{RESULT_SCHEME}{key}/1",
        name=f"{name} result, the rest" if len(pages) == 1 else f"{name} result, page 1",
        mime_type=_mime_type(first),
        size=content_size(first),
        description="The rest of a tool result cut to fit its budget: read it with resources/read",
    )
    where = (
        "the resource linked below"
        if len(pages) == 1
        else f"{len(pages)} pages, the first linked below, each naming the next"
    )
    kept = cut - lost
    text = (
        f"[cut to fit this tool's result budget of {budget.limit} bytes: the other {kept} "
        f"bytes (about {kept // BYTES_PER_TOKEN} tokens) are in {where}, readable by this "
        f"caller for {budget.ttl:g} s"
        + (f"; {lost} bytes past {MAX_PAGES} pages were left out" if lost else "")
        + "]"
    )
    return [TextContent(text=text), link]


def _pages(rest: list[ContentBlock], limit: int) -> list[list[ContentBlock]]:
    """`rest` in pages of at most `limit` bytes (a block larger than a page that cannot be
    cut, an image, is a page of its own)."""
    pages: list[list[ContentBlock]] = []
    while rest and len(pages) < MAX_PAGES:
        page, rest = split_blocks(rest, limit)
        if not page:
            page, rest = rest[:1], rest[1:]
        pages.append(page)
    if rest:
        pages.append(rest)  # (beyond MAX_PAGES: left out, and said so)
    return pages


def _mime_type(page: list[ContentBlock]) -> str | None:
    first = page[0] if len(page) == 1 else None
    if isinstance(first, ImageContent | AudioContent):
        return first.mime_type
    return "text/plain" if all(isinstance(b, TextContent) for b in page) else None


# ------------------------------------------------------------------ reading


def read_result(ctx: Caller, uri: str) -> ReadResourceResult:
    """resources/read of an `mcpkit-result://` URI: the page's contents if the caller of
    `ctx` is its owner and it has not expired; else -32002, as for any unknown URI (never
    saying that it exists)."""
    key, _, number = uri[len(RESULT_SCHEME) :].partition("/")
    # (ASCII digits only, and few: "²" passes isdigit() and int() refuses it; a 5,000-digit
    # page number is past int()'s limit)
    page_number = number.isascii() and number.isdigit() and len(number) <= 9
    found = store_of(ctx.server).get(key, int(number), _owner(ctx)) if page_number else None
    if found is None:
        raise not_found(uri)
    page, count = found
    contents = [_contents(uri, block) for block in page]
    at = int(number)
    if at < count:  # the pages of "paginate" chain: each names the next
        following = f"{RESULT_SCHEME}{key}/{at + 1}"
        note = f"[page {at} of {count}; the next: {following}]"
        contents.append(TextResourceContents(uri=uri, text=note, mime_type="text/plain"))
    return ReadResourceResult(contents=contents)


def _contents(uri: str, block: ContentBlock) -> Contents:
    if isinstance(block, TextContent):
        return TextResourceContents(uri=uri, text=block.text, mime_type="text/plain")
    if isinstance(block, ImageContent | AudioContent):
        return BlobResourceContents(uri=uri, blob=block.data, mime_type=block.mime_type)
    if isinstance(block, EmbeddedResource):
        return block.resource
    text = msgspec.json.encode(block).decode()  # (a resource link: as its JSON)
    return TextResourceContents(uri=uri, text=text, mime_type="application/json")
