"""A regular-expression search that takes time linear in the text, whatever the pattern: the
tool search's regex mode (`search.py`) runs patterns that the model, not the author, writes.

Python's `re` backtracks, so a pattern such as `(a+)+$` or `.*.*.*x` can take exponential or
high-polynomial time on a few hundred characters; a timeout would need a thread per match. This
module parses the common subset of the syntax (literals, `.`, classes, `\\d \\w \\s` and their
negations, groups, `|`, `* + ?`, `{m,n}`, `^`, `$`) into a Thompson automaton and runs it as a
DFA built while it runs (each step one dict lookup once seen), so no input makes it backtrack.
Backreferences and lookarounds, which no linear-time engine can offer, are refused by name.
Matching ignores case, as a search box does. Before the automaton reads a text, the literals
every match must hold are looked for in it (`in`, `regex_syntax.needs`), and a pattern that
is only a literal (or `^literal`, `literal$`, literals as alternatives) is tested directly:
each check reads the text once per literal, so the time stays linear in the text.
"""

from __future__ import annotations

from typing import Final

from mcpkit.server.catalog.regex_syntax import (
    BOL,
    CHAR,
    EOL,
    MATCH,
    SPLIT,
    Alt,
    Anchor,
    Cat,
    Char,
    Node,
    Predicate,
    UnsafePatternError,
    exact,
    needs,
    parse,
)

__all__ = ["MAX_PATTERN_LENGTH", "SafePattern", "UnsafePatternError"]


#: The longest pattern accepted (characters).
MAX_PATTERN_LENGTH: Final = 256
#: The largest automaton a pattern may compile to (a `{m,n}` copies its operand).
_MAX_STATES: Final = 2_000
#: The DFA states kept before the cache starts over (bounds memory, not time).
_MAX_CACHED: Final = 20_000


class SafePattern:
    """A compiled pattern: `search(text)` says whether it occurs in `text`, ignoring case."""

    def __init__(self, pattern: str) -> None:
        if len(pattern) > MAX_PATTERN_LENGTH:
            raise UnsafePatternError(
                f"the pattern has {len(pattern)} characters; at most {MAX_PATTERN_LENGTH}"
            )
        tree = parse(pattern)
        self._kind: list[int] = []
        self._pred: list[Predicate | None] = []
        self._out: list[list[int]] = []
        match = self._state(MATCH)
        self._start = self._compile(tree, match)
        self._match = match
        self._needs = needs(tree)
        self._exact = exact(tree)
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
        if isinstance(node, Char):
            return self._state(CHAR, node.pred, nxt)
        if isinstance(node, Anchor):
            return self._state(node.kind, None, nxt)
        if isinstance(node, Cat):
            for item in reversed(node.items):
                nxt = self._compile(item, nxt)
            return nxt
        if isinstance(node, Alt):
            return self._state(SPLIT, None, *(self._compile(b, nxt) for b in node.branches))
        if node.high is None:
            loop = self._state(SPLIT, None)
            self._out[loop] = [self._compile(node.inner, loop), nxt]
            tail = loop
        else:
            tail = nxt
            for _ in range(node.high - node.low):
                tail = self._state(SPLIT, None, self._compile(node.inner, tail), nxt)
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
            if kind == CHAR:
                takers.append(state)
            elif kind == MATCH:
                matched = True
            elif kind == SPLIT or (kind == BOL and at_start) or (kind == EOL and at_end):
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
        return self.search_lowered(text.lower())

    def search_lowered(self, text: str) -> bool:
        """`search` of a text already lower-cased (`str.lower`), as a search keeps its texts."""
        if self._exact is not None:
            return self._exact(text)
        for clause in self._needs:
            if not any(literal in text for literal in clause):
                return False
        state = self._intern(frozenset(), True)
        rows, accepting = self._rows, self._accepting
        if accepting[state]:
            return True
        for c in text:
            nxt = rows[state].get(c)
            if nxt is None:
                nxt = self._step(state, c)
                rows, accepting = self._rows, self._accepting  # (new after a start over)
            if accepting[nxt]:
                return True
            state = nxt
        pending, at_start = self._keys[state]
        return self._closure(pending, at_start, True)[1]
