"""The tool search's regex engine (`mcpkit.server.catalog.safe_regex`) agrees with `re` on the
syntax it takes, whatever the pattern and text, and refuses the rest by name."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcpkit.server.catalog import safe_regex
from mcpkit.server.catalog.safe_regex import SafePattern, UnsafePatternError

_ATOMS = st.sampled_from(["a", "b", "B", ".", "[ab]", "[^a]", "[A-B]", "\\d", "\\w", "\\-", "-"])
_QUANTIFIERS = st.sampled_from(["", "", "*", "+", "?", "{2}", "{1,3}", "{0,}", "*?"])


def _repeated(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(inner, _QUANTIFIERS).map(lambda p: p[0] + p[1])


_PATTERNS = st.recursive(
    _repeated(_ATOMS),
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=4).map("".join),
        st.lists(inner, min_size=2, max_size=3).map("|".join),
        _repeated(inner.map(lambda p: f"({p})")),
        _repeated(inner.map(lambda p: f"(?:{p})")),
    ),
    max_leaves=8,
)
_ANCHORED = st.tuples(st.sampled_from(["", "^"]), _PATTERNS, st.sampled_from(["", "$"])).map(
    "".join
)


@settings(max_examples=400, deadline=None)
@given(_ANCHORED, st.text(alphabet="abAB1-_ ", max_size=12))
def test_it_finds_what_re_finds(pattern: str, text: str) -> None:
    expected = re.search(pattern, text, re.IGNORECASE | re.DOTALL) is not None
    assert SafePattern(pattern).search(text) is expected


@pytest.mark.parametrize(
    ("pattern", "why"),
    [
        ("(a)\\1", "backreferences"),
        ("(?=a)b", "lookarounds"),
        ("(?P<x>a)", "named groups"),
        ("(?i)a", "inline flags"),
        ("a++", "cannot be repeated"),
        ("a{2}{3}", "cannot be repeated"),
        ("*a", "nothing to repeat"),
        ("^*", "anchor cannot be repeated"),
        ("$+", "anchor cannot be repeated"),
        ("a{5,2}", "count"),
        ("a{101}", "count"),
        ("(a{100}){100}", "too large"),
        ("[b-a]", "backwards"),
        ("\\q", "unknown"),
        ("a\\", "trailing backslash"),
        ("[ab", "missing ]"),
        ("(ab", "missing )"),
        ("ab)", "unbalanced"),
    ],
)
def test_what_it_cannot_do_in_linear_time_or_at_all_is_refused_by_name(
    pattern: str, why: str
) -> None:
    with pytest.raises(UnsafePatternError, match=re.escape(why)):
        SafePattern(pattern)


def test_a_brace_that_is_no_count_is_a_literal_as_in_re() -> None:
    assert SafePattern("a{x}").search("A{X}")
    assert SafePattern("a{,2}").search("a{,2}")


def test_a_pattern_with_many_states_starts_its_cache_over_and_still_agrees_with_re(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `[ab]*a[ab]{6}` needs 2^7 DFA states on such text; a cache of 10 starts over often.
    monkeypatch.setattr(safe_regex, "_MAX_CACHED", 10)
    pattern = SafePattern("[ab]*a[ab]{6}c")
    rng = random.Random(41)
    for _ in range(50):
        text = "".join(rng.choice("ab") for _ in range(60)) + rng.choice(["c", ""])
        assert pattern.search(text) is (re.search("[ab]*a[ab]{6}c", text) is not None)


def _automaton_alone(pattern: str) -> SafePattern:
    """`pattern` without its literal checks: every text read by the automaton."""
    compiled = SafePattern(pattern)
    compiled._exact = None  # pyright: ignore[reportPrivateUsage]
    compiled._needs = ()  # pyright: ignore[reportPrivateUsage]
    return compiled


_LITERAL_ATOMS = st.sampled_from(["ab", "ba", "a", "B", "\\.", ".", "_", "é", "[ab]", "\\d"])
_LITERAL_PATTERNS = st.recursive(
    _repeated(_LITERAL_ATOMS),
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=4).map("".join),
        st.lists(inner, min_size=2, max_size=3).map("|".join),
        _repeated(inner.map(lambda p: f"(?:{p})")),
    ),
    max_leaves=6,
)


@settings(max_examples=400, deadline=None)
@given(
    st.tuples(st.sampled_from(["", "^"]), _LITERAL_PATTERNS, st.sampled_from(["", "$"])).map(
        "".join
    ),
    st.text(alphabet="abAB._1éÉ ", max_size=14),
)
def test_the_literal_checks_answer_as_the_automaton_does(pattern: str, text: str) -> None:
    # The checks of what a match must hold (and the direct test of a plain literal) are a
    # shortcut: never an answer the automaton alone would not give.
    expected = _automaton_alone(pattern).search(text)
    assert SafePattern(pattern).search(text) is expected


@pytest.mark.parametrize(
    ("pattern", "text", "found"),
    [
        ("Pull.?Request", "create a pullrequest", True),
        ("export.*csv", "export the table", False),
        ("(jira|github)_(get|list)", "ticket_list", False),
        ("K", "\u212a", True),  # the Kelvin sign lower-cases to k: no ASCII shortcut for it
        ("\u212a", "k", True),
        ("ss", "\u00df", False),
    ],
)
def test_a_text_without_what_a_match_needs_is_not_read(
    pattern: str, text: str, found: bool
) -> None:
    compiled = SafePattern(pattern)
    assert compiled.search(text) is found is _automaton_alone(pattern).search(text)
    if not found and pattern.isascii():
        # Ruled out by its literals: the automaton never took a step.
        assert compiled._keys == []  # pyright: ignore[reportPrivateUsage]
