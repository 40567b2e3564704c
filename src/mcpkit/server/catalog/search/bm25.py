"""BM25 over a catalog's tools (`ToolSearch`'s default mode): the words each tool is found
by, read once per tool and kept while it is the same, their postings kept up to date as tools
come and go, and Okapi BM25's ranking of the tools a caller may see.

A catalog's words repeat, so a tool's text is mostly read by looking its chunks up in a
bounded memo shared by every index (`_TOKENS_OF`); a client's query is read without adding
its words to it (`query_tokens`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from itertools import chain, filterfalse
from typing import TYPE_CHECKING, Any, Final, cast

if TYPE_CHECKING:
    from mcpkit.server.catalog.tools import ToolSpec

__all__ = ["Bm25Index", "Document", "Postings", "document", "query_tokens", "tokens"]

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
# BM25's usual constants: k1 bounds how much a word's repeats add (saturation), b how much a
# long text's score is scaled down for its length.
_K1: Final = 1.2
_B: Final = 0.75


def _stem(word: str) -> str:
    """Plural to singular, roughly: "forecasts" finds "forecast", "entries" finds "entry"."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


#: A word as written, with what clings to it ("id," or "getHTTPResponse") -> its tokens; a
#: catalog's words repeat, so reading a tool is mostly lookups. Bounded, shared by every index.
_TOKENS_OF: dict[str, tuple[str, ...]] = {}
# Well above the distinct words of a catalog of thousands of tools; past it, new words are
# split each time rather than kept, so no catalog grows the memo without bound.
_MAX_REMEMBERED: Final = 50_000


def _token(word: str) -> str:
    """One word as it is indexed, or "" for a stop word, which says nothing about a tool."""
    low = word.lower()
    return "" if low in _STOP else _stem(low)


def _words(text: str) -> list[str]:
    # No `_WORD` match holds a space or an underscore, and a word's end is found the same way
    # before either as at the end of the text: splitting there first changes no token.
    return text.replace("_", " ").split()


def _split(chunk: str) -> tuple[str, ...]:
    """The tokens of one space-free chunk (`getHTTPResponse,` -> get, http, response)."""
    return tuple(token for word in _WORD.findall(chunk) if (token := _token(word)))


def _remember(chunk: str) -> tuple[str, ...]:
    """`_split`, kept in the memo while it has room (it is never evicted: a catalog's words
    are what fills it, and they stay useful for every rebuild)."""
    found = _split(chunk)
    if len(_TOKENS_OF) < _MAX_REMEMBERED:
        _TOKENS_OF[chunk] = found
    return found


def _tokens_of(chunks: list[str], remember: bool = True) -> list[str]:
    """The tokens of `chunks`; those never seen are remembered unless not to (`remember`)."""
    try:  # (one pass in C when every word was seen before: a rebuild's common case)
        return list(chain.from_iterable(map(_TOKENS_OF.__getitem__, chunks)))
    except KeyError:
        # Only the words never seen go through the regex: a catalog read for the first time
        # has a few new words in most of its texts, among many it has seen.
        known = _TOKENS_OF.get
        found: list[str] = []
        for chunk in chunks:
            seen = known(chunk)
            if seen is None:
                seen = _remember(chunk) if remember else _split(chunk)
            found += seen
        return found


def tokens(text: str) -> list[str]:
    """The searchable words of `text`, lower-cased and singular, without the commonest."""
    return _tokens_of(_words(text))


def query_tokens(query: str) -> list[str]:
    """`tokens` of a client's query, whose new words are not remembered: what clients send
    must not fill the memo of the catalog's words (up to `_MAX_REMEMBERED` of them, shared by
    every index), nor push the catalog's own out of it."""
    return _tokens_of(_words(query), remember=False)


class Postings:
    """Each word -> the tools that hold it, by name, with its count in each: kept up to date
    tool by tool as the catalog changes (`add`, `drop`), never rebuilt whole."""

    __slots__ = ("terms",)

    def __init__(self) -> None:
        self.terms: dict[str, dict[str, int]] = {}

    def add(self, name: str, doc: Document) -> None:
        """Record the words of tool `name`."""
        terms = self.terms
        for term, tf in doc[1].items():
            hits = terms.get(term)
            if hits is None:
                terms[term] = {name: tf}
            else:
                hits[name] = tf

    def drop(self, name: str, doc: Document) -> None:
        """Forget tool `name`, given the document it was added with; a word no tool holds
        any more goes, so the postings do not grow with every tool ever seen."""
        terms = self.terms
        for term in doc[1]:
            hits = terms[term]
            del hits[name]
            if not hits:
                del terms[term]


class Bm25Index:
    """Okapi BM25 over one tool list, its words' postings shared with the lists before it:
    building it is only placing each name and length (the postings are up to date)."""

    __slots__ = ("_lengths", "_positions", "_postings", "_sum", "_total")

    def __init__(self, names: list[str], lengths: list[int], postings: Postings) -> None:
        """`names` and `lengths` are the tools in list order; `postings` must hold exactly
        their words (`_PerTool` keeps it so), and is shared, not copied."""
        self._positions = dict(zip(names, range(len(names)), strict=True))
        self._lengths = lengths
        self._postings = postings.terms
        self._total = len(lengths)
        self._sum = sum(lengths)

    def rank(self, query: Iterable[str], shown: Collection[str]) -> list[int]:
        """The documents named in `shown` that hold some word of `query`, best first (ties by
        position). The statistics are those of the shown documents alone (how many, their
        average length, how many hold each word), so that a caller's ranking is the one a
        catalog of only the tools it may see would give: the others' words leave no trace."""
        positions, lengths = self._positions, self._lengths
        # Usually few tools are hidden from a caller, so their share is taken off the totals
        # rather than the shown ones summed afresh.
        hidden = set(filterfalse(shown.__contains__, positions))
        total, length_sum = self._total - len(hidden), self._sum
        if hidden:
            length_sum -= sum(lengths[positions[name]] for name in hidden)
        # With no shown tool, or only wordless ones, no word is found: any average will do.
        average = (length_sum / total or 1.0) if total else 1.0
        scores: dict[int, float] = {}
        scale, base = _K1 * _B / average, _K1 * (1 - _B)
        for term in set(query):
            found = self._postings.get(term)
            if found and hidden:
                found = {name: tf for name, tf in found.items() if name not in hidden}
            if not found:
                continue
            n = len(found)
            # The `1 +` keeps the weight positive for a word most tools hold (Lucene's form of
            # BM25's idf): such a word still ranks a tool that has it above one that has not.
            idf = math.log(1 + (total - n + 0.5) / (n + 0.5))
            for name, tf in found.items():
                doc = positions[name]
                weight = idf * tf * (_K1 + 1) / (tf + base + scale * lengths[doc])
                scores[doc] = scores.get(doc, 0.0) + weight
        return sorted(scores, key=lambda doc: (-scores[doc], doc))


#: A document as the index takes it: its length in words, and each word with its count.
Document = tuple[int, Mapping[str, int]]


def document(spec: ToolSpec) -> Document:
    """The words a tool is found by: its name, title, description, and its arguments' names
    and descriptions, the first ones counted several times."""
    wire = spec.wire
    # One text, each part repeated as much as it weighs, read in one go (the words of a text
    # are those of its parts: they are joined at a space).
    parts = [spec.name] * _NAME_WEIGHT
    if wire.title:
        parts += [wire.title] * _TITLE_WEIGHT
    if wire.description:
        parts.append(wire.description)
    properties = wire.input_schema.get("properties")
    if isinstance(properties, dict):
        arguments = cast("dict[str, Any]", properties)
        parts += list(arguments) * _ARGUMENT_WEIGHT
        # A schema is whatever the tool's author wrote: only a text description counts.
        for prop in arguments.values():
            if isinstance(prop, dict):
                described = cast("dict[str, Any]", prop).get("description")
                if isinstance(described, str):
                    parts.append(described)
    words = tokens(" ".join(parts))
    return len(words), Counter(words)
