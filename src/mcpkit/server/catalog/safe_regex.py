"""A regular-expression search that takes time linear in the text, whatever the pattern: the
tool search's regex mode (`search.py`) runs patterns that the model, not the author, writes.

Python's `re` backtracks, so a pattern such as `(a+)+$` or `.*.*.*x` can take exponential or
high-polynomial time on a few hundred characters; a timeout would need a thread per match. This
module parses the common subset of the syntax (literals, `.`, classes, `\\d \\w \\s` and their
negations, groups, `|`, `* + ?`, `{m,n}`, `^`, `$`) into a Thompson automaton and runs it as a
DFA built while it runs (each step one dict lookup once seen), so no input makes it backtrack.
Backreferences and lookarounds, which no linear-time engine can offer, are refused by name.
Matching ignores case, as a search box does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

__all__ = ["MAX_PATTERN_LENGTH", "SafePattern", "UnsafePatternError"]

#: The longest pattern accepted (characters).
MAX_PATTERN_LENGTH: Final = 256
#: The largest automaton a pattern may compile to (a `{m,n}` copies its operand).
_MAX_STATES: Final = 2_000
#: The largest count a `{m,n}` may give.
_MAX_REPEAT: Final = 100
#: The DFA states kept before the cache starts over (bounds memory, not time).
_MAX_CACHED: Final = 20_000

Predicate = Callable[[str], bool]
_CHAR, _SPLIT, _MATCH, _BOL, _EOL = range(5)
_CLASSES: Final[dict[str, Predicate]] = {
    "d": str.isdigit,
    "w": lambda c: c.isalnum() or c == "_",
    "s": str.isspace,
}
_ESCAPED: Final = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v"}


class UnsafePatternError(ValueError):
    """A pattern this engine does not take: too long, malformed, or using a feature (such as a
    backreference) that would need backtracking. The message says which and where."""


@dataclass(frozen=True, slots=True)
class _Char:
    pred: Predicate


@dataclass(frozen=True, slots=True)
class _Anchor:
    kind: int  # _BOL or _EOL


@dataclass(frozen=True, slots=True)
class _Cat:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class _Alt:
    branches: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class _Rep:
    inner: Node
    low: int
    high: int | None  # None: no upper bound


Node = _Char | _Anchor | _Cat | _Alt | _Rep


class _Parser:
    """Recursive descent over the pattern, lower-cased (matching ignores case)."""

    def __init__(self, pattern: str) -> None:
        self.text = pattern
        self.pos = 0

    def fail(self, what: str) -> UnsafePatternError:
        return UnsafePatternError(f"{what} at position {self.pos} of the pattern")

    def peek(self) -> str | None:
        return self.text[self.pos] if self.pos < len(self.text) else None

    def alternation(self) -> Node:
        branches = [self.sequence()]
        while self.peek() == "|":
            self.pos += 1
            branches.append(self.sequence())
        return branches[0] if len(branches) == 1 else _Alt(tuple(branches))

    def sequence(self) -> Node:
        items: list[Node] = []
        while (c := self.peek()) is not None and c not in "|)":
            atom = self.atom()
            items.append(self.quantified(atom))
        return _Cat(tuple(items))

    def atom(self) -> Node:
        c = self.text[self.pos]
        self.pos += 1
        if c == "(":
            return self.group()
        if c in "*+?":
            raise self.fail(f"nothing to repeat before {c!r}")
        if c == "^":
            return _Anchor(_BOL)
        if c == "$":
            return _Anchor(_EOL)
        if c == "[":
            return _Char(self.char_class())
        if c == "\\":
            return _Char(self.escape())
        return _Char(_any if c == "." else _literal(c))

    def group(self) -> Node:
        if self.text.startswith("?:", self.pos):
            self.pos += 2
        elif self.peek() == "?":
            raise self.fail("lookarounds, named groups and inline flags are not supported")
        inner = self.alternation()
        if self.peek() != ")":
            raise self.fail("missing )")
        self.pos += 1
        return inner

    def quantified(self, atom: Node) -> Node:
        c = self.peek()
        bounds: tuple[int, int | None] | None = None
        if c is not None and c in "*+?":
            self.pos += 1
            bounds = {"*": (0, None), "+": (1, None), "?": (0, 1)}[c]
        elif c == "{":
            bounds = self.braces()
        if bounds is None:
            return atom
        if isinstance(atom, _Anchor):
            raise self.fail("an anchor cannot be repeated")
        if self.peek() == "?":
            self.pos += 1  # lazy: the same matches for a yes-or-no search
        after = self.peek()
        if after is not None and after in "*+?{":
            if after != "{" or self.braces(peek_only=True) is not None:
                raise self.fail("a repeat cannot be repeated (possessive quantifiers included)")
        return _Rep(atom, bounds[0], bounds[1])

    def braces(self, *, peek_only: bool = False) -> tuple[int, int | None] | None:
        """`{m}`, `{m,}`, `{m,n}` at `pos`; None (a literal `{`, as in `re`) otherwise."""
        end = self.text.find("}", self.pos)
        body = self.text[self.pos + 1 : end] if end > 0 else ""
        low, comma, high = body.partition(",")
        if not low.isdigit() or not (high.isdigit() or high == ""):
            return None
        if peek_only:
            return (0, 0)
        m = int(low)
        n = None if comma and high == "" else int(high) if comma else m
        if m > _MAX_REPEAT or (n is not None and (n > _MAX_REPEAT or n < m)):
            raise self.fail(f"a count must be 0 to {_MAX_REPEAT}, the first at most the second")
        self.pos = end + 1
        return m, n

    def escape(self) -> Predicate:
        c = self.peek()
        if c is None:
            raise self.fail("a trailing backslash")
        self.pos += 1
        if c.lower() in _CLASSES:
            found = _CLASSES[c.lower()]
            return found if c.islower() else _negated(found)
        if c in _ESCAPED:
            return _literal(_ESCAPED[c])
        if c.isalnum():
            what = "backreferences" if c.isdigit() else f"the escape \\{c}"
            raise self.fail(f"{what} are not supported" if c.isdigit() else f"{what} is unknown")
        return _literal(c)

    def char_class(self) -> Predicate:
        negate = self.peek() == "^"
        if negate:
            self.pos += 1
        parts: list[Predicate] = []
        first = True
        while (c := self.peek()) != "]" or first:
            first = False
            if c is None:
                raise self.fail("missing ]")
            if c == "\\":
                self.pos += 1
                parts.append(self.escape())
                continue
            self.pos += 1
            nxt = self.peek()
            if nxt == "-" and self.pos + 1 < len(self.text) and self.text[self.pos + 1] != "]":
                high = self.text[self.pos + 1]
                if high < c:
                    raise self.fail(f"the range {c}-{high} runs backwards")
                self.pos += 2
                parts.append(_range(c, high))
            else:
                parts.append(_literal(c))
        self.pos += 1
        member = _union(parts)
        return _negated(member) if negate else member


def _any(c: str) -> bool:
    return True


def _literal(ch: str) -> Predicate:
    low, high = ch.lower(), ch.upper()
    return lambda c: c == low or c == high


def _range(low: str, high: str) -> Predicate:
    # Text is lower-cased before matching: an upper-case range matches by its lower case.
    return lambda c: low <= c <= high or low <= c.upper() <= high


def _union(parts: list[Predicate]) -> Predicate:
    return lambda c: any(part(c) for part in parts)


def _negated(inner: Predicate) -> Predicate:
    return lambda c: not inner(c)


class SafePattern:
    """A compiled pattern: `search(text)` says whether it occurs in `text`, ignoring case."""

    def __init__(self, pattern: str) -> None:
        if len(pattern) > MAX_PATTERN_LENGTH:
            raise UnsafePatternError(
                f"the pattern has {len(pattern)} characters; at most {MAX_PATTERN_LENGTH}"
            )
        parser = _Parser(pattern)
        tree = parser.alternation()
        if parser.pos < len(pattern):
            raise parser.fail("unbalanced )")
        self._kind: list[int] = []
        self._pred: list[Predicate | None] = []
        self._out: list[list[int]] = []
        match = self._state(_MATCH)
        self._start = self._compile(tree, match)
        self._match = match
        # The DFA, built while it runs: each state a set of automaton states waiting for a
        # character (and whether nothing was read yet, for `^`), its row of transitions, and
        # whether a match ends where it is reached.
        self._ids: dict[tuple[frozenset[int], bool], int] = {}
        self._keys: list[tuple[frozenset[int], bool]] = []
        self._rows: list[dict[str, int]] = []
        self._accepting: list[bool] = []

    def _state(self, kind: int, pred: Predicate | None = None, *out: int) -> int:
        if len(self._kind) >= _MAX_STATES:
            raise UnsafePatternError("the pattern is too large once its counted repeats expand")
        self._kind.append(kind)
        self._pred.append(pred)
        self._out.append(list(out))
        return len(self._kind) - 1

    def _compile(self, node: Node, nxt: int) -> int:
        """The state that matches `node` and then goes on to `nxt` (built back to front)."""
        if isinstance(node, _Char):
            return self._state(_CHAR, node.pred, nxt)
        if isinstance(node, _Anchor):
            return self._state(node.kind, None, nxt)
        if isinstance(node, _Cat):
            for item in reversed(node.items):
                nxt = self._compile(item, nxt)
            return nxt
        if isinstance(node, _Alt):
            return self._state(_SPLIT, None, *(self._compile(b, nxt) for b in node.branches))
        if node.high is None:
            loop = self._state(_SPLIT, None)
            self._out[loop] = [self._compile(node.inner, loop), nxt]
            tail = loop
        else:
            tail = nxt
            for _ in range(node.high - node.low):
                tail = self._state(_SPLIT, None, self._compile(node.inner, tail), nxt)
        for _ in range(node.low):
            tail = self._compile(node.inner, tail)
        return tail

    def _closure(
        self, pending: frozenset[int], at_start: bool, at_end: bool
    ) -> tuple[tuple[int, ...], bool]:
        """The character-taking states reachable from `pending` (and a fresh start: the search
        may begin anywhere) without taking one, and whether the match state is among them."""
        seen: set[int] = set()
        todo = [self._start, *pending]
        takers: list[int] = []
        matched = False
        while todo:
            state = todo.pop()
            if state in seen:
                continue
            seen.add(state)
            kind = self._kind[state]
            if kind == _CHAR:
                takers.append(state)
            elif kind == _MATCH:
                matched = True
            elif kind == _SPLIT or (kind == _BOL and at_start) or (kind == _EOL and at_end):
                todo.extend(self._out[state])
        return tuple(sorted(takers)), matched

    def _intern(self, pending: frozenset[int], at_start: bool) -> int:
        """The DFA state of (`pending`, `at_start`), made when first met."""
        key = (pending, at_start)
        found = self._ids.get(key)
        if found is None:
            found = self._ids[key] = len(self._keys)
            self._keys.append(key)
            self._rows.append({})
            self._accepting.append(self._closure(pending, at_start, False)[1])
        return found

    def _step(self, state: int, c: str) -> int:
        """The DFA state after `state` reads `c`, worked out from the automaton once."""
        if len(self._keys) > _MAX_CACHED:  # start over, keeping only the state in hand
            key = self._keys[state]
            self._ids, self._keys, self._rows, self._accepting = {}, [], [], []
            state = self._intern(*key)
        pending, at_start = self._keys[state]
        takers = self._closure(pending, at_start, False)[0]
        nxt = self._intern(
            frozenset(self._out[s][0] for s in takers if (p := self._pred[s]) is not None and p(c)),
            False,
        )
        self._rows[state][c] = nxt
        return nxt

    def search(self, text: str) -> bool:
        """Whether the pattern occurs somewhere in `text`: one pass, each character once (one
        dict lookup for a step already taken)."""
        state = self._intern(frozenset(), True)
        rows, accepting = self._rows, self._accepting
        if accepting[state]:
            return True
        for c in text.lower():
            nxt = rows[state].get(c)
            if nxt is None:
                nxt = self._step(state, c)
                rows, accepting = self._rows, self._accepting  # (new after a start over)
            if accepting[nxt]:
                return True
            state = nxt
        pending, at_start = self._keys[state]
        return self._closure(pending, at_start, True)[1]
