"""The tool search's regex mode on google-re2 (`mcpkit[re2]`, docs/compose.md "Large catalogs:
tool search"): a client's pattern compiled with bounded memory, and its work (RE2's program
size times the bytes searched, its worst case) held to a budget before any text is read.

RE2 takes time linear in the text by construction, but the constant is the program's size:
a pattern of counted repeats (`([a-z].{49}){19}s`) compiles to thousands of instructions,
and RE2 falls back to stepping all of them per byte when its DFA runs out of memory. The
budget is checked first; the matching itself then runs off the event loop (`matches`), RE2
releasing the GIL while it matches, so no other client's request waits for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from mcpkit._extras import import_extra

__all__ = ["MAX_PATTERN_LENGTH", "MAX_REGEX_WORK", "RegexQuery", "require_re2"]

#: The longest pattern accepted (characters).
MAX_PATTERN_LENGTH: Final = 256
#: The most work one search may take: RE2 program instructions times bytes searched.
MAX_REGEX_WORK: Final = 50_000_000
#: RE2's memory for one pattern (its program and its DFA's states); past it, RE2 refuses to
#: compile the pattern, or matches with its slower automaton.
MAX_REGEX_MEMORY: Final = 1 << 20
_WHAT: Final = "add_tool_search('regex')"


def require_re2() -> Any:
    """The `re2` module, or MissingExtra naming `pip install 'mcpkit[re2]'`."""
    return import_extra("re2", "re2", _WHAT)


def _options(re2: Any) -> Any:
    options = re2.Options()
    options.max_mem = MAX_REGEX_MEMORY
    options.case_sensitive = False  # as a search box does
    options.never_capture = True
    options.log_errors = False  # a client's bad pattern is its error result, not a server log
    return options


class RegexQuery:
    """A client's pattern compiled by RE2: ValueError, saying why, for one it cannot take
    (bad syntax, backreferences, lookarounds, a program past `MAX_REGEX_MEMORY`)."""

    __slots__ = ("_regexp", "size")

    def __init__(self, pattern: str) -> None:
        if len(pattern) > MAX_PATTERN_LENGTH:
            raise ValueError(
                f"the pattern has {len(pattern)} characters; at most {MAX_PATTERN_LENGTH}"
            )
        re2 = require_re2()
        try:
            # Built by the class `re2.compile` returns, not by `re2.compile`: that one keeps
            # its last 128 patterns (each up to its memory) in a cache the whole process
            # shares, where a client's pattern must not stay after its search, and which
            # `re2.purge()` would empty of the application's own patterns too. re2 has no
            # public way to compile outside the cache; `_Regexp(pattern, options)` is the
            # constructor the cache itself calls, unchanged in every release since re2's
            # Python module came out of Google (2023); tests/compose/test_search_regex.py
            # pins that it compiles and that the cache is left as it was.
            self._regexp: Any = re2._Regexp(pattern, _options(re2))
        except re2.error as exc:
            why = exc.args[0] if exc.args else exc
            if isinstance(why, bytes):
                why = why.decode("utf-8", "replace")
            raise ValueError(f"the pattern is not one RE2 takes: {why}") from None
        #: The instructions of its program: the cost of each byte searched, at worst.
        self.size: int = self._regexp.programsize

    def check_work(self, searched: int) -> None:
        """ValueError if searching `searched` bytes would pass `MAX_REGEX_WORK`."""
        work = self.size * searched
        if work > MAX_REGEX_WORK:
            raise ValueError(
                f"the pattern compiles to {self.size} instructions and the catalog holds "
                f"{searched} bytes to search: {work} steps at worst, past the search's budget "
                f"of {MAX_REGEX_WORK}; send a shorter pattern (fewer or smaller counted "
                "repeats such as {n})"
            )

    def matches(self, texts: Sequence[tuple[bytes, ...]], wanted: int) -> list[int]:
        """The positions of the first `wanted` of `texts` that some text of holds the
        pattern. Runs in a worker thread: it touches nothing but its arguments."""
        search = self._regexp.search
        found: list[int] = []
        for position, parts in enumerate(texts):
            if any(search(part) is not None for part in parts):
                found.append(position)
                if len(found) == wanted:
                    break
        return found
