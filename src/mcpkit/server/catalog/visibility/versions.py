"""The `version=` of `server.enable()`/`disable()`: a component's exact version ("2"), or a
range of dotted numeric versions (">=2", "<2", ">=1.2,<2": every clause must hold), so a
server can retire the versions below one, or pin a range, by one rule.

Versions compare part by part as numbers ("1.10" is above "1.9"); missing parts are 0 ("2"
equals "2.0"). A component with no version, or one that is not dotted numbers, is never in
a range (it still matches its exact version).
"""

from __future__ import annotations

import functools
import re
from typing import Final

__all__ = ["check_version_filter", "in_version_filter", "is_range", "version_rank"]

_CLAUSE: Final = re.compile(r"\s*(<=|>=|==|!=|<|>)\s*(\d+(?:\.\d+)*)\s*")
_NUMERIC: Final = re.compile(r"\d+(?:\.\d+)*")
#: The characters a range starts with, which a component's own version may not.
_OPERATORS: Final = "<>=!"


def is_range(version: str) -> bool:
    """Whether `version` is a range (">=2"), not a version."""
    return version[:1] in _OPERATORS


def check_version_filter(where: str, version: str) -> None:
    """ValueError naming `where` for a range that is not comma-separated comparisons with
    dotted numbers."""
    if is_range(version):
        try:
            _clauses(version)
        except ValueError:
            raise ValueError(
                f"{where}: {version!r} is not a version range such as '>=2' or '>=1.2,<2' "
                "(comparisons <, <=, >, >=, ==, != with dotted numbers, joined by commas)"
            ) from None


def in_version_filter(wanted: str, version: str | None) -> bool:
    """Whether a component of `version` is picked by `wanted` (a version or a range)."""
    if not is_range(wanted):
        return wanted == version
    if version is None or not _NUMERIC.fullmatch(version):
        return False
    have = _key(version)
    for op, target in _clauses(wanted):
        if not _compare(op, have, target):
            return False
    return True


def version_rank(version: str | None) -> tuple[int, tuple[int, ...]]:
    """What orders versions of one name, highest last: dotted numbers as numbers ("1.10" above
    "1.9", trailing zeros ignored), above any other version, which are equal."""
    if version is None or not _NUMERIC.fullmatch(version):
        return (0, ())
    key = _key(version)
    while key and key[-1] == 0:
        key = key[:-1]
    return (1, key)


def _compare(op: str, have: tuple[int, ...], target: tuple[int, ...]) -> bool:
    """`have` against `target` by `op`, the shorter padded with zeros: "2" equals "2.0",
    where comparing the tuples as they are would put "2" below it."""
    width = max(len(have), len(target))
    a = have + (0,) * (width - len(have))
    b = target + (0,) * (width - len(target))
    if op == "<":
        return a < b
    if op == "<=":
        return a <= b
    if op == ">":
        return a > b
    if op == ">=":
        return a >= b
    return (a == b) == (op == "==")  # "==" or "!=", the two operators left


# Cached: the same few ranges of the server's rules are parsed for every component judged.
@functools.lru_cache(maxsize=256)
def _clauses(wanted: str) -> tuple[tuple[str, tuple[int, ...]], ...]:
    found: list[tuple[str, tuple[int, ...]]] = []
    for clause in wanted.split(","):
        match = _CLAUSE.fullmatch(clause)
        if match is None:
            raise ValueError(clause)
        found.append((match[1], _key(match[2])))
    return tuple(found)


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))
