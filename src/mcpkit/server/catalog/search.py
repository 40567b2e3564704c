"""Tool search for large catalogs (docs/compose.md, "Large catalogs: tool search"): the
settings of `server.add_tool_search`, and the index it answers from, BM25 over each tool's
words or a linear-time regex, rebuilt when the tool list has changed and not per query."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, cast

from mcpkit.server.catalog.safe_regex import SafePattern
from mcpkit.server.catalog.tools import ToolSpec, check_tool_name

__all__ = [
    "MAX_QUERY_LENGTH",
    "Bm25Index",
    "Document",
    "SearchMode",
    "ToolSearch",
    "document",
    "tokens",
]

SearchMode = Literal["bm25", "regex"]
#: The longest query the search tool takes (characters); a regex's own cap is lower.
MAX_QUERY_LENGTH: Final = 1_000

# Words of identifiers and prose: `getHTTPResponse` -> get, http, response; snake_case splits
# on its underscores, which no alternative matches.
_WORD: Final = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+|[^\W\d_A-Za-z]+")
_STOP: Final = frozenset(
    "a an and are as at be by for from in is it of on or that the this to with".split()
)
# How much more a word counts where it is found: a tool's name says most about it.
_NAME_WEIGHT: Final = 3
_TITLE_WEIGHT: Final = 2
_ARGUMENT_WEIGHT: Final = 2
_K1: Final = 1.2
_B: Final = 0.75


def _stem(word: str) -> str:
    """Plural to singular, roughly: "forecasts" finds "forecast", "entries" finds "entry"."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


#: word as written -> its token ("" for a stop word); bounded, shared by every index.
_TOKEN_OF: dict[str, str] = {}
_MAX_REMEMBERED: Final = 50_000


def _token(word: str) -> str:
    low = word.lower()
    return "" if low in _STOP else _stem(low)


def tokens(text: str) -> list[str]:
    """The searchable words of `text`, lower-cased and singular, without the commonest."""
    memo = _TOKEN_OF
    found: list[str] = []
    for word in _WORD.findall(text):
        token = memo.get(word)
        if token is None:
            token = _token(word)
            if len(memo) < _MAX_REMEMBERED:  # (a catalog's words repeat: few are new)
                memo[word] = token
        if token:
            found.append(token)
    return found


class Bm25Index:
    """Okapi BM25 over documents given as token lists. Building only counts words (the
    index is rebuilt when the catalog changes); a query weighs the postings of its words."""

    __slots__ = ("_average", "_lengths", "_postings", "_total")

    def __init__(self, documents: Sequence[Document]) -> None:
        postings: dict[str, list[tuple[int, int]]] = {}
        lengths: list[int] = []
        for doc, (length, counts) in enumerate(documents):
            lengths.append(length)
            for term, tf in counts:
                found = postings.get(term)
                if found is None:
                    postings[term] = [(doc, tf)]
                else:
                    found.append((doc, tf))
        self._postings = postings
        self._lengths = lengths
        self._total = len(lengths)
        self._average = (sum(lengths) / len(lengths) or 1.0) if lengths else 1.0

    def rank(self, query: Iterable[str]) -> list[int]:
        """The documents holding some word of `query`, best first (ties by position)."""
        scores: dict[int, float] = {}
        lengths, scale = self._lengths, _K1 * _B / self._average
        base = _K1 * (1 - _B)
        for term in set(query):
            found = self._postings.get(term)
            if not found:
                continue
            n = len(found)
            idf = math.log(1 + (self._total - n + 0.5) / (n + 0.5))
            for doc, tf in found:
                weight = idf * tf * (_K1 + 1) / (tf + base + scale * lengths[doc])
                scores[doc] = scores.get(doc, 0.0) + weight
        return sorted(scores, key=lambda doc: (-scores[doc], doc))


#: A document as the index takes it: its length in words, and each word with its count.
Document = tuple[int, tuple[tuple[str, int], ...]]


def document(spec: ToolSpec) -> Document:
    """The words a tool is found by: its name, title, description, and its arguments' names
    and descriptions, the first ones counted several times."""
    wire = spec.wire
    words = tokens(spec.name) * _NAME_WEIGHT
    if wire.title:
        words += tokens(wire.title) * _TITLE_WEIGHT
    prose = [wire.description or ""]
    properties = wire.input_schema.get("properties")
    if isinstance(properties, dict):
        arguments = cast("dict[str, Any]", properties)
        words += tokens(" ".join(arguments)) * _ARGUMENT_WEIGHT
        for prop in arguments.values():
            described = (
                cast("dict[str, Any]", prop).get("description") if isinstance(prop, dict) else None
            )
            if isinstance(described, str):
                prose.append(described)
    words += tokens(" ".join(prose))
    return len(words), tuple(Counter(words).items())


def _texts(spec: ToolSpec) -> tuple[str, ...]:
    """What a regex is matched against: each of a tool's name, title and description."""
    wire = spec.wire
    return tuple(text for text in (spec.name, wire.title, wire.description) if text)


@dataclass(eq=False)
class ToolSearch:
    """`server.add_tool_search(...)`: how tools/list and the search tool answer."""

    mode: SearchMode = "bm25"
    pinned: frozenset[str] = frozenset()
    max_results: int = 5
    search_tool_name: str = "search_tools"
    call_tool_name: str = "call_tool"
    # The tool list the index was built from (the registry's snapshot, a new list after each
    # change, a mounted server's included), and the index.
    _built: tuple[list[ToolSpec], Bm25Index] | None = field(default=None, repr=False)
    # name -> (the spec, its document): a rebuild reads only the tools that are new.
    _documents: dict[str, tuple[ToolSpec, Document]] = field(
        default_factory=dict[str, "tuple[ToolSpec, Document]"], repr=False
    )

    def __post_init__(self) -> None:
        if self.mode not in ("bm25", "regex"):
            raise ValueError(f"mode must be 'bm25' or 'regex', not {self.mode!r}")
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

    def find(self, tools: list[ToolSpec], query: str, shown: Collection[str]) -> list[ToolSpec]:
        """Up to `max_results` of `tools` (the registry's `items()`) that match `query`, best
        first, among those named in `shown` (what the caller may list). ValueError for a query
        that is too long, or a regex this engine refuses."""
        if len(query) > MAX_QUERY_LENGTH:
            raise ValueError(f"the query has {len(query)} characters; at most {MAX_QUERY_LENGTH}")
        if self.mode == "regex":
            pattern = SafePattern(query)
            ranked: Iterable[ToolSpec] = (
                spec for spec in tools if any(pattern.search(t) for t in _texts(spec))
            )
        else:
            ranked = (tools[doc] for doc in self._index(tools).rank(tokens(query)))
        found: list[ToolSpec] = []
        for spec in ranked:
            if spec.name in shown and spec.name not in self.names:
                found.append(spec)
                if len(found) == self.max_results:
                    break
        return found

    def _index(self, tools: list[ToolSpec]) -> Bm25Index:
        built = self._built
        if built is not None and built[0] is tools:
            return built[1]
        known = self._documents
        documents: dict[str, tuple[ToolSpec, Document]] = {}
        for spec in tools:
            found = known.get(spec.name)
            documents[spec.name] = (
                found if found is not None and found[0] is spec else (spec, document(spec))
            )
        index = Bm25Index([documents[spec.name][1] for spec in tools])
        self._built, self._documents = (tools, index), documents
        return index
