"""The syntax of a `safe_regex` pattern: its parser into a tree, refusing by name what no
linear-time engine can do, and the literals the tree says a matching text must hold."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, cast

__all__ = [
    "BOL",
    "CHAR",
    "EOL",
    "MATCH",
    "SPLIT",
    "Alt",
    "Anchor",
    "Cat",
    "Char",
    "Needs",
    "Node",
    "Rep",
    "UnsafePatternError",
    "exact",
    "needs",
    "parse",
]

#: The largest count a `{m,n}` may give.
_MAX_REPEAT: Final = 100

Predicate = Callable[[str], bool]
CHAR, SPLIT, MATCH, BOL, EOL = range(5)
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
class Char:
    pred: Predicate
    #: The one character it matches in lower-cased text, for an ASCII literal (`_needs`).
    literal: str | None = None


@dataclass(frozen=True, slots=True)
class Anchor:
    kind: int  # BOL or EOL


@dataclass(frozen=True, slots=True)
class Cat:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Alt:
    branches: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Rep:
    inner: Node
    low: int
    high: int | None  # None: no upper bound


Node = Char | Anchor | Cat | Alt | Rep


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
        return branches[0] if len(branches) == 1 else Alt(tuple(branches))

    def sequence(self) -> Node:
        items: list[Node] = []
        while (c := self.peek()) is not None and c not in "|)":
            atom = self.atom()
            items.append(self.quantified(atom))
        return Cat(tuple(items))

    def atom(self) -> Node:
        c = self.text[self.pos]
        self.pos += 1
        if c == "(":
            return self.group()
        if c in "*+?":
            raise self.fail(f"nothing to repeat before {c!r}")
        if c == "^":
            return Anchor(BOL)
        if c == "$":
            return Anchor(EOL)
        if c == "[":
            return Char(self.char_class())
        if c == "\\":
            escaped = self.peek()
            pred = self.escape()
            plain = escaped is not None and escaped.isascii() and not escaped.isalnum()
            return Char(pred, escaped if plain else None)
        if c == ".":
            return Char(_any)
        # An ASCII letter's upper case is never in lower-cased text: it matches one character.
        return Char(_literal(c), c.lower() if c.isascii() else None)

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
        if isinstance(atom, Anchor):
            raise self.fail("an anchor cannot be repeated")
        if self.peek() == "?":
            self.pos += 1  # lazy: the same matches for a yes-or-no search
        after = self.peek()
        if after is not None and after in "*+?{":
            if after != "{" or self.braces(peek_only=True) is not None:
                raise self.fail("a repeat cannot be repeated (possessive quantifiers included)")
        return Rep(atom, bounds[0], bounds[1])

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


#: What a text must hold for a pattern to occur in it: each clause is a tuple of literals (in
#: lower case), at least one of which the text contains.
Needs = tuple[tuple[str, ...], ...]


def needs(node: Node) -> Needs:
    """Literals every match of `node` contains (a cheap `in` rules most texts out before the
    automaton reads them); an empty answer says nothing."""
    if isinstance(node, Char):
        return ((node.literal,),) if node.literal is not None else ()
    if isinstance(node, Rep):
        return needs(node.inner) if node.low >= 1 else ()
    if isinstance(node, Alt):
        return _either(node)
    if isinstance(node, Anchor):
        return ()
    found: list[tuple[str, ...]] = []
    run = ""  # consecutive literal characters: a match holds them side by side
    for item in node.items:
        if isinstance(item, Char) and item.literal is not None:
            run += item.literal
            continue
        if run:
            found.append((run,))
            run = ""
        found.extend(needs(item))
    if run:
        found.append((run,))
    return tuple(found)


def _either(node: Alt) -> Needs:
    # One clause of each branch (the one with the longest literals): a match holds one of
    # their literals, unless a branch needs none.
    chosen: list[str] = []
    for branch in node.branches:
        clauses = needs(branch)
        if not clauses:
            return ()
        chosen.extend(max(clauses, key=lambda clause: min(map(len, clause))))
    return (tuple(dict.fromkeys(chosen)),)


def exact(node: Node) -> Predicate | None:
    """A direct test for a pattern that is a literal (`in`), a literal at the start or end
    (`^lit`, `lit$`), or literals as alternatives; None for any other pattern."""
    if isinstance(node, Alt):
        alternatives = [_literal_text(branch) for branch in node.branches]
        if all(alternatives):
            found = tuple(cast("str", alternative) for alternative in alternatives)
            return lambda text: any(alternative in text for alternative in found)
        return None
    items = node.items if isinstance(node, Cat) else (node,)
    starts = bool(items) and items[0] == Anchor(BOL)
    ends = bool(items) and items[-1] == Anchor(EOL)
    literal = _literal_text(Cat(items[int(starts) : len(items) - int(ends)]))
    if literal is None or (starts and ends):
        return None
    if starts:
        return lambda text: text.startswith(literal)
    if ends:
        return lambda text: text.endswith(literal)
    return lambda text: literal in text


def _literal_text(node: Node) -> str | None:
    """The text a pattern of literal characters alone matches (None for any other)."""
    items = node.items if isinstance(node, Cat) else (node,)
    chars = [item.literal for item in items if isinstance(item, Char)]
    if not items or len(chars) != len(items) or None in chars:
        return None
    return "".join(cast("list[str]", chars))


def parse(pattern: str) -> Node:
    """The tree of `pattern` (UnsafePatternError for one this engine does not take)."""
    parser = _Parser(pattern)
    tree = parser.alternation()
    if parser.pos < len(pattern):
        raise parser.fail("unbalanced )")
    return tree
