"""Tool search for large catalogs (docs/compose.md, "Large catalogs: tool search"): the
settings of `server.add_tool_search`, and what it answers from, BM25 over each tool's words
(`bm25`) or each tool's texts for a regex run by RE2 (`regex_search`), built as the server starts
(`ToolSearch.prepare`) and updated from the tools that changed, never per query.

A query comes from a client, so its work is bounded before it is read: at most
`MAX_QUERY_LENGTH` characters, `MAX_QUERY_TERMS` distinct words for BM25, and for a regex
RE2's linear time under a budget of its own (`regex_search`); past a bound it is refused
with ValueError, which the search tool answers as a tool error. A caller finds only the
tools it may list, and BM25's statistics count only those, so a ranking says nothing of
the hidden ones.
"""

from __future__ import annotations

import asyncio
import operator
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Final, Generic, Literal, TypeVar, cast

from mcpkit.server.catalog.search.bm25 import Bm25Index, Document, Postings, document, query_tokens
from mcpkit.server.catalog.search.regex_search import RegexQuery, require_re2
from mcpkit.server.catalog.tools import ToolSpec, check_tool_name

__all__ = ["MAX_QUERY_LENGTH", "MAX_QUERY_TERMS", "SearchMode", "ToolSearch"]

T = TypeVar("T")
SearchMode = Literal["bm25", "regex"]
#: The longest query the search tool takes (characters); a regex's own cap is lower.
MAX_QUERY_LENGTH: Final = 1_000
#: The most distinct words a BM25 query may hold: each is a walk over its tools' postings.
MAX_QUERY_TERMS: Final = 32


def _texts(spec: ToolSpec) -> tuple[bytes, ...]:
    """What a regex is matched against: each of a tool's name, title and description, in
    UTF-8 once (RE2 reads bytes; the pattern ignores case itself)."""
    wire = spec.wire
    return tuple(text.encode() for text in (spec.name, wire.title, wire.description) if text)


class _PerTool(Generic[T]):
    """What `read` takes from each tool, kept per name while the tool is the same: the same
    spec, or one with the same title, description and input schema (a mounted server's tools
    are shown as new specs after each change of the catalog, their wire's parts shared)."""

    __slots__ = ("_added", "_dropped", "_kept", "_read")

    def __init__(
        self,
        read: Callable[[ToolSpec], T],
        added: Callable[[str, T], None] | None = None,
        dropped: Callable[[str, T], None] | None = None,
    ) -> None:
        """`read` takes what is kept from a tool; `added` and `dropped` hear of each read
        and each discard, so an index built from it (the postings) follows along."""
        self._read, self._added, self._dropped = read, added, dropped
        self._kept: dict[str, tuple[ToolSpec, T]] = {}

    def of(self, tools: list[ToolSpec]) -> list[T]:
        """What was read from each of `tools`, in order; only the tools that changed are read
        (`added`), and what was read from a tool that changed or left is `dropped`."""
        known, read, added, dropped = self._kept, self._read, self._added, self._dropped
        kept: dict[str, tuple[ToolSpec, T]] = {}
        for spec in tools:
            name = spec.name
            found = kept.get(name) or known.get(name)
            if found is None or not _same(found[0], spec):
                if found is not None and dropped is not None:
                    dropped(name, found[1])
                found = (spec, read(spec))
                if added is not None:
                    added(name, found[1])
            kept[name] = found
        if dropped is not None:
            for name in known.keys() - kept.keys():
                dropped(name, known[name][1])
        self._kept = kept
        return [kept[spec.name][1] for spec in tools]


def _same(before: ToolSpec, spec: ToolSpec) -> bool:
    """Whether `spec` has the words `before` was read for. The input schema is compared by
    identity: a mounted server's respecified tools share their wire's schema dict, and a
    deep comparison of every schema would cost as much as reading the tool again."""
    if before is spec:
        return True
    old, new = before.wire, spec.wire
    return (
        old.input_schema is new.input_schema
        and old.title == new.title
        and old.description == new.description
    )


@dataclass(eq=False)
class ToolSearch:
    """`server.add_tool_search(...)`: how tools/list and the search tool answer.

    Every setting is checked when it is made (ValueError naming the setting); a regex mode
    without the `re2` extra is refused there, not at the first search.
    """

    #: "bm25" ranks tools by the words of a query; "regex" finds them by a pattern (RE2).
    mode: SearchMode = "bm25"
    #: Tools tools/list keeps showing beside the two search tools.
    pinned: frozenset[str] = frozenset()
    #: The most tools one search answers with.
    max_results: int = 5
    search_tool_name: str = "search_tools"
    call_tool_name: str = "call_tool"
    # The tool list last searched (the registry's snapshot, a new list after each change, a
    # mounted server's included), and its BM25 index or each tool's texts for a regex.
    # Only one of these is used, by `mode`: each keeps what its tools gave, by name.
    _built: tuple[list[ToolSpec], Bm25Index | list[tuple[bytes, ...]]] | None = field(
        default=None, repr=False
    )
    # Each word's tools, kept up to date by what `_documents` reads and drops.
    _postings: Postings = field(default_factory=Postings, repr=False)
    _documents: _PerTool[Document] = field(init=False, repr=False)
    _encoded: _PerTool[tuple[bytes, ...]] = field(
        default_factory=lambda: _PerTool(_texts), repr=False
    )

    def __post_init__(self) -> None:
        self._documents = _PerTool(document, self._postings.add, self._postings.drop)
        if self.mode not in ("bm25", "regex"):
            raise ValueError(f"mode must be 'bm25' or 'regex', not {self.mode!r}")
        if self.mode == "regex":
            require_re2()
        if self.max_results < 1:
            raise ValueError(f"max_results must be an integer >= 1, not {self.max_results!r}")
        check_tool_name(self.search_tool_name)
        check_tool_name(self.call_tool_name)
        if self.search_tool_name == self.call_tool_name:
            raise ValueError("the search tool and the call tool need different names")

    @property
    def names(self) -> tuple[str, str]:
        """The names of the two tools it adds."""
        return self.search_tool_name, self.call_tool_name

    def prepare(self, tools: list[ToolSpec]) -> None:
        """Read `tools` and build their index now, not at the first search: the server does
        as it starts serving (`Server.running`), so that no search waits for every tool to
        be read. A search of the same list then reads nothing; of a list that changed since,
        only the tools that changed."""
        self._read(tools)

    def find(self, tools: list[ToolSpec], query: str, shown: Collection[str]) -> list[ToolSpec]:
        """Up to `max_results` of `tools` (the registry's `items()`) that match `query`, best
        first, among those named in `shown` (what the caller may list). ValueError for a query
        that is too long, holds too many words, or a regex RE2 refuses or past its budget."""
        if self.mode == "regex":
            pattern, candidates, texts = self._regex(tools, query, shown)
            return [candidates[i] for i in pattern.matches(texts, self.max_results)]
        return self._bm25(tools, query, shown)

    async def answer(
        self, tools: list[ToolSpec], query: str, shown: Collection[str]
    ) -> list[ToolSpec]:
        """`find`, its regex matching in a worker thread: it may take RE2 up to its budget,
        which no other request of the server waits for."""
        # BM25's work is bounded by the query's words and their postings: it stays on the
        # event loop.
        if self.mode != "regex":
            return self._bm25(tools, query, shown)
        pattern, candidates, texts = self._regex(tools, query, shown)
        found = await asyncio.to_thread(pattern.matches, texts, self.max_results)
        return [candidates[i] for i in found]

    def _regex(
        self, tools: list[ToolSpec], query: str, shown: Collection[str]
    ) -> tuple[RegexQuery, list[ToolSpec], list[tuple[bytes, ...]]]:
        """The compiled pattern, the tools it may find and their texts, its work checked."""
        _check_length(query)
        pattern = RegexQuery(query)
        every = cast("list[tuple[bytes, ...]]", self._read(tools))
        candidates: list[ToolSpec] = []
        texts: list[tuple[bytes, ...]] = []
        for spec, parts in zip(tools, every, strict=True):
            if spec.name in shown and spec.name not in self.names:
                candidates.append(spec)
                texts.append(parts)
        # The budget is checked against what this caller's search would read, known only
        # now: a caller who sees fewer tools may run a costlier pattern.
        pattern.check_work(sum(len(part) for parts in texts for part in parts))
        return pattern, candidates, texts

    def _bm25(self, tools: list[ToolSpec], query: str, shown: Collection[str]) -> list[ToolSpec]:
        """The best `max_results` shown tools for the words of `query`; ValueError for a
        query past either bound (its length, its distinct words)."""
        _check_length(query)
        terms = set(query_tokens(query))
        if len(terms) > MAX_QUERY_TERMS:
            raise ValueError(
                f"the query holds {len(terms)} distinct words; at most {MAX_QUERY_TERMS}"
            )
        index = cast("Bm25Index", self._read(tools))
        found: list[ToolSpec] = []
        for doc in index.rank(terms, shown):
            spec = tools[doc]
            # The search and call tools never find themselves: they are always listed.
            if spec.name in shown and spec.name not in self.names:
                found.append(spec)
                if len(found) == self.max_results:
                    break
        return found

    def _read(self, tools: list[ToolSpec]) -> Bm25Index | list[tuple[bytes, ...]]:
        """The index (or the texts) of `tools`: kept while the list is the same, or holds the
        same specs (a visibility change that hid none of them); else rebuilt from what each
        tool gave before, only the tools that changed read again."""
        built = self._built
        # Compared spec by spec: a visibility change gives a new list of the same specs,
        # which needs no new index.
        if built is not None and (
            built[0] is tools
            or (len(built[0]) == len(tools) and all(map(operator.is_, built[0], tools)))
        ):
            self._built = (tools, built[1])
            return built[1]
        made: Bm25Index | list[tuple[bytes, ...]]
        if self.mode == "regex":
            made = self._encoded.of(tools)
        else:
            documents = self._documents.of(tools)
            made = Bm25Index(
                [spec.name for spec in tools], [length for length, _ in documents], self._postings
            )
        self._built = (tools, made)
        return made


def _check_length(query: str) -> None:
    """Refuse a query over `MAX_QUERY_LENGTH` before any of it is read: it comes from a
    client, and its cost grows with its length."""
    if len(query) > MAX_QUERY_LENGTH:
        raise ValueError(f"the query has {len(query)} characters; at most {MAX_QUERY_LENGTH}")
