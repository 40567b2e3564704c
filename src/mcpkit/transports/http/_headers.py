"""Helpers the request checks share: the header list type, quoting a value for a message, and a
bounded memo for parsing the short values real clients repeat on every request."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final, TypeVar

__all__ = ["Headers", "collect", "distinct", "memo_short", "quote_header", "values_of"]

#: Request headers as an ASGI scope gives them: (lower-case name, value) pairs, in order.
Headers = Sequence[tuple[bytes, bytes]]

# Values up to this size are memoized: every real Accept, Host or Origin is far shorter, and
# capping it bounds what a peer sending new values each time can make the memo hold.
_MEMO_VALUE_MAX: Final = 256
_MEMO_ENTRIES: Final = 256

_T = TypeVar("_T")


def values_of(headers: Headers, name: bytes) -> list[bytes]:
    """Every value of header `name`, in order (several lines of one header are legal)."""
    return [value for key, value in headers if key == name]


def distinct(headers: Headers) -> dict[bytes, bytes] | None:
    """The headers by name when no name comes twice (the usual case), so that each check reads
    a value with one lookup; None when one does (the checks then read every value sent)."""
    each = dict(headers)
    return each if len(each) == len(headers) else None


def collect(headers: Headers, names: frozenset[bytes]) -> dict[bytes, list[bytes]]:
    """The values of each of `names` present, in one pass over the headers."""
    found: dict[bytes, list[bytes]] = {}
    for key, value in headers:
        if key in names:
            found.setdefault(key, []).append(value)
    return found


def memo_short(
    parse: Callable[[bytes], _T], remembered: dict[bytes, _T] | None = None
) -> Callable[[bytes], _T]:
    """`parse`, remembering its answers for the last `_MEMO_ENTRIES` short values seen (at most
    64 KiB held), so a peer sending new values each time costs a bounded memory. (A dict,
    not `lru_cache`: that would build a key tuple for every bytes argument.) `remembered` is
    the memo when the caller reads it itself (`.get` first: one lookup for a value seen)."""
    if remembered is None:
        remembered = {}

    def parse_value(value: bytes) -> _T:
        if value in remembered:
            return remembered[value]
        answer = parse(value)
        if len(value) <= _MEMO_VALUE_MAX:
            if len(remembered) >= _MEMO_ENTRIES:
                del remembered[next(iter(remembered))]  # the oldest goes
            remembered[value] = answer
        return answer

    return parse_value


def quote_header(value: bytes, limit: int = 80) -> str:
    """A header value quoted for a message: escaped, and cut short when long."""
    text = repr(value[:limit].decode("latin-1"))
    # Escapes can make the text four times the bytes: cut the text, not only the bytes.
    return text if len(value) <= limit and len(text) <= limit + 2 else text[:limit] + "..."
