"""A tool result past its budget (`max_result=`, `result_budget`): cut with a marker,
or its overflow kept as `mcpkit-result://` resources that only its caller can read, for a
while, within bounds; and reading them back (resources/read, `ctx.read_resource`).

Who the caller is: in a 2025-11-25 session, the session; with auth, in either era, the
token's owner (as a requestState is bound). A 2026-07-28 request without auth
has neither, so its link is a capability: 192 random bits in the URI that only its answer
carried. The overflow is kept in the server's store (`server.store.kv`), so every process
sharing it (`--workers`, several hosts on one Redis) serves its pages (docs/server.md).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Final, Protocol

import msgspec

from mcpkit.server.catalog.callers import Served, lasting_session, outermost, principal_of
from mcpkit.server.catalog.calling.result_budget import (
    BYTES_PER_TOKEN,
    MARKER_ROOM,
    RESULT_SCHEME,
    ResultBudget,
    content_size,
    fits,
    split_blocks,
)
from mcpkit.server.catalog.resources import not_found
from mcpkit.stores.deadline import StoreUnavailable
from mcpkit.stores.kv import Limit
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
    from mcpkit.stores.kv import KeyValueStore

__all__ = [
    "Caller",
    "MAX_CALLER_ENTRIES",
    "MAX_ENTRIES",
    "MAX_OVERFLOW_BYTES",
    "MAX_PAGES",
    "MAX_STORED_BYTES",
    "RESULT_SCHEME",
    "ResultStore",
    "fit_result",
    "read_result",
    "store_of",
]

logger = logging.getLogger(__name__)

#: Overflows kept at once per server, and their bytes together (`MAX_STORED_BYTES`, a
#: `Limit` in the store): past them a new overflow is cut instead of kept.
MAX_ENTRIES: Final = 256
MAX_STORED_BYTES: Final = 64 * 1024 * 1024
#: Overflows one caller keeps at once, each of at most `MAX_OVERFLOW_BYTES`: one caller holds
#: at most a quarter of the server's room, so no caller can take everyone's. Callers with no
#: identity (2026-07-28 without auth) share one count, half of `MAX_ENTRIES`.
MAX_CALLER_ENTRIES: Final = 16
MAX_OVERFLOW_BYTES: Final = MAX_STORED_BYTES // (4 * MAX_CALLER_ENTRIES)
#: Pages of one "paginate" overflow; past them the rest is cut, as "truncate" does.
MAX_PAGES: Final = 100

#: One entry of a read's contents.
Contents = TextResourceContents | BlobResourceContents
Owner = tuple[str | None, str | None]  # (the 2025 session's id, the token's principal)


class Caller(Protocol):
    """A request's Context as far as who may read an overflow goes (named so, not `Context`,
    which sits above the tools this module serves)."""

    @property
    def server(self) -> Served:
        """The server running the tool; its outermost parent holds the overflow."""
        ...

    @property
    def session(self) -> object:
        """The client, whose session's id binds an overflow where it lasts (2025-11-25:
        `lasting_session`)."""
        ...

    @property
    def terms(self) -> Terms[Any] | None:
        """The request's terms, which say whether its session lasts past it."""
        ...

    @property
    def auth(self) -> AccessToken | None:
        """The caller's verified token, whose principal binds an overflow."""
        ...


class _Kept(msgspec.Struct, array_like=True):
    """An overflow as the store keeps it, one value: who may read it, and its pages, each
    its own JSON (a read decodes the one it asks for, not the others)."""

    owner: tuple[str | None, str | None]
    pages: list[msgspec.Raw]


# Typed: a stored value that is not an overflow's shape fails to decode here, rather than
# reaching a client as something else.
_kept_decoder: Final = msgspec.json.Decoder(_Kept)
_blocks_decoder: Final = msgspec.json.Decoder(list[ContentBlock])


class ResultStore:
    """The overflows of one server (named `server`) in `kv`, the store every process serving
    it shares: a value per overflow (at most `MAX_OVERFLOW_BYTES` of pages), until its TTL
    ends. The pages together stay within
    `max_bytes`, the overflows within `max_entries`, one caller's within `per_caller` (a
    `Limit` and counted slots of the store, each taken atomically)."""

    __slots__ = ("_kv", "_name", "max_bytes", "max_entries", "per_caller")

    def __init__(
        self,
        kv: KeyValueStore,
        server: str,
        *,
        max_entries: int = MAX_ENTRIES,
        max_bytes: int = MAX_STORED_BYTES,
        per_caller: int = MAX_CALLER_ENTRIES,
    ) -> None:
        """`kv` is the server's store and `server` its name; the bounds default to the
        module's, and tests set them lower to reach them."""
        # Every key starts with the server's name: servers sharing one store keep apart.
        self._kv = kv
        self._name = msgspec.json.encode(server).decode()  # (quoted: no name prefixes another)
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.per_caller = per_caller

    async def put(self, owner: Owner, ttl: float, pages: list[list[ContentBlock]]) -> str | None:
        """Keep `pages` for `owner` for `ttl` seconds: the key of their URIs, or None when
        they do not fit the room left (of the server, or of this caller)."""
        import secrets  # (these loaded only where some result overflows)

        from mcpkit.stores.kv_slots import release_slot, take_slot

        # 24 random bytes, 192 bits: the URI is the only proof of the right to read when
        # the caller has no identity, so it must not be guessed.
        key = secrets.token_urlsafe(24)
        kv, name = self._kv, self._name
        # The server's slot first, then the caller's; each failure gives back what was
        # taken, so a refused overflow holds no room until its TTL ends.
        everyone = f"result-n:{name}:"
        if not await take_slot(kv, everyone, key, self.max_entries, ttl):
            return None
        mine, count = self._callers(owner)
        if not await take_slot(kv, mine, key, count, ttl):
            await release_slot(kv, everyone, key)
            return None
        kept = _Kept(owner, [msgspec.Raw(msgspec.json.encode(page)) for page in pages])
        # The byte bound is kept by the store itself, under the prefix of every overflow
        # of this server, so concurrent processes cannot together pass it.
        limit = Limit(f"result:{name}:", self.max_bytes)
        if not await kv.set(f"result:{name}:{key}", msgspec.json.encode(kept), ttl, limit=limit):
            await release_slot(kv, mine, key)
            await release_slot(kv, everyone, key)
            return None
        return key

    async def get(self, key: str, page: int, owner: Owner) -> tuple[list[ContentBlock], int] | None:
        """Page `page` (from 1) of `key`, and how many it has, if `owner` may read it and it
        has not expired: one read of the store, however many are kept."""
        data = await self._kv.get(f"result:{self._name}:{key}")
        if data is None:
            return None
        found = _kept_decoder.decode(data)
        # Another caller's overflow and a page out of range read as absent, like an expiry.
        if not _may_read(found.owner, owner) or not 0 < page <= len(found.pages):
            return None
        return _blocks_decoder.decode(found.pages[page - 1]), len(found.pages)

    def _callers(self, owner: Owner) -> tuple[str, int]:
        """The prefix of `owner`'s slots and how many they are."""
        if owner == (None, None):  # no identity: the anonymous share one, larger, count
            return f"result-c:{self._name}:-:", self.max_entries // 2
        import hashlib  # (loaded only where some result overflows)

        # Hashed: a principal or session id is not written into store keys as it is, and
        # the key's length stays fixed whatever the caller's names are.
        who = hashlib.sha256(msgspec.json.encode(owner)).hexdigest()[:32]
        return f"result-c:{self._name}:{who}:", self.per_caller


def _may_read(kept_for: Owner, reader: Owner) -> bool:
    """The session (where there was one) and the token's owner (where there was one) match."""
    session, principal = kept_for
    return (session is None or session == reader[0]) and (
        principal is None or principal == reader[1]
    )


def store_of(server: Served) -> ResultStore:
    """The overflows of the server the client talks to (`server`'s outermost parent), in its
    store: a mounted server's tool keeps its overflow where the client's resources/read
    arrives, and every process sharing the store reads it."""
    server = outermost(server)
    return ResultStore(server.store.kv, server.name)


def _owner(ctx: Caller) -> Owner:
    """Who `ctx`'s caller is, as far as an overflow is bound to it (the module docstring)."""
    return lasting_session(ctx), principal_of(ctx.auth)


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
    # Room is left for the marker that says what was cut, so the result with it still fits.
    kept, rest = split_blocks(content, limit - MARKER_ROOM)
    cut = total - content_size(kept)
    tail: list[ContentBlock]
    # The cut is said in the result itself, so the model knows its answer is partial.
    if budget.overflow == "truncate":
        tail = [TextContent(text=_truncated(cut, total, limit))]
    else:
        tail = await _kept_for_caller(budget, name, rest, cut, total, ctx)
    return msgspec.structs.replace(result, content=[*kept, *tail])


def _truncated(cut: int, total: int, limit: int, why: str = "") -> str:
    """The marker of a cut, in tokens too: the model reading it counts in tokens."""
    return (
        f"[cut: {cut} of {total} bytes (about {cut // BYTES_PER_TOKEN} tokens) left out "
        f"to fit this tool's result budget of {limit} bytes{why}]"
    )


async def _kept_for_caller(
    budget: ResultBudget,
    name: str,
    rest: list[ContentBlock],
    cut: int,
    total: int,
    ctx: Caller,
) -> list[ContentBlock]:
    """The marker and links of an overflow kept as resources (dropped, and said so, when
    the store has no room for it or cannot be reached: the tool has run, and its result is
    not lost for that)."""
    # One overflow keeps at most MAX_OVERFLOW_BYTES in MAX_PAGES pages; past either, the
    # rest is dropped and the marker says how much.
    rest, beyond = split_blocks(rest, MAX_OVERFLOW_BYTES)
    pages = [rest] if budget.overflow == "resource" else _pages(rest, budget.limit - MARKER_ROOM)
    dropped = [beyond, *pages[MAX_PAGES:]]
    pages = pages[:MAX_PAGES]
    why = "; no room is left to keep it for reading now"
    try:
        key = await store_of(ctx.server).put(_owner(ctx), budget.ttl, pages) if rest else None
    except StoreUnavailable as exc:
        logger.warning("a result's overflow was not kept: %s", exc)
        key, why = None, "; the server's store could not be reached to keep it for reading"
    if key is None:
        return [TextContent(text=_truncated(cut, total, budget.limit, why))]
    lost = sum(content_size(page) for page in dropped)
    first = pages[0]
    # Only the first page is linked: each read names the next, so the result stays small
    # however many pages there are.
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
        + (f"; {lost} bytes past what one result may keep were left out" if lost else "")
        + "]"
    )
    return [TextContent(text=text), link]


def _pages(rest: list[ContentBlock], limit: int) -> list[list[ContentBlock]]:
    """`rest` in pages of at most `limit` bytes (a block larger than a page that cannot be
    cut, an image, is a page of its own)."""
    pages: list[list[ContentBlock]] = []
    while rest and len(pages) < MAX_PAGES:
        page, rest = split_blocks(rest, limit)
        # Nothing fitted: the first block cannot be cut, so it goes alone, or the loop
        # would never move on.
        if not page:
            page, rest = rest[:1], rest[1:]
        pages.append(page)
    if rest:
        pages.append(rest)  # (beyond MAX_PAGES: left out, and said so)
    return pages


def _mime_type(page: list[ContentBlock]) -> str | None:
    """The link's MIME type where the page has one: a lone image or audio block's, text's
    for text alone, and none for a mix, which no single type describes."""
    first = page[0] if len(page) == 1 else None
    if isinstance(first, ImageContent | AudioContent):
        return first.mime_type
    return "text/plain" if all(isinstance(b, TextContent) for b in page) else None


# ------------------------------------------------------------------ reading


async def read_result(ctx: Caller, uri: str) -> ReadResourceResult:
    """resources/read of an `mcpkit-result://` URI: the page's contents if the caller of
    `ctx` is its owner and it has not expired; else -32002, as for any unknown URI (never
    saying that it exists)."""
    # `mcpkit-result://<key>/<page>`: anything else is an unknown URI like any other.
    key, _, number = uri[len(RESULT_SCHEME) :].partition("/")
    # (ASCII digits only, and few: "²" passes isdigit() and int() refuses it; a 5,000-digit
    # page number is past int()'s limit)
    page_number = number.isascii() and number.isdigit() and len(number) <= 9
    store = store_of(ctx.server)
    found = await store.get(key, int(number), _owner(ctx)) if page_number else None
    # Expired, never kept, and another caller's answer alike: a probe learns nothing.
    if found is None:
        raise not_found(uri)
    page, count = found
    contents = [_contents(uri, block) for block in page]
    at = int(number)
    # The note is an entry of its own, so the page's contents stay as they were kept.
    if at < count:  # the pages of "paginate" chain: each names the next
        following = f"{RESULT_SCHEME}{key}/{at + 1}"
        note = f"[page {at} of {count}; the next: {following}]"
        contents.append(TextResourceContents(uri=uri, text=note, mime_type="text/plain"))
    return ReadResourceResult(contents=contents)


def _contents(uri: str, block: ContentBlock) -> Contents:
    """A kept content block as a read's contents entry: a resource read holds contents,
    not content blocks. Each entry takes the page's URI, but an embedded resource's own."""
    if isinstance(block, TextContent):
        return TextResourceContents(uri=uri, text=block.text, mime_type="text/plain")
    if isinstance(block, ImageContent | AudioContent):
        return BlobResourceContents(uri=uri, blob=block.data, mime_type=block.mime_type)
    if isinstance(block, EmbeddedResource):
        return block.resource
    # A resource link has no contents of its own: its JSON lets the reader follow it.
    text = msgspec.json.encode(block).decode()  # (a resource link: as its JSON)
    return TextResourceContents(uri=uri, text=text, mime_type="application/json")
