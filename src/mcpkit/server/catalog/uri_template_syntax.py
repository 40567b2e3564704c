"""RFC 6570's syntax, as `UriTemplate` reads a template once: its literal text and its
expressions, each an operator and its variables (`x`, a prefix `x:3`, an explode `x*`), and
the expansion table's row of each operator (RFC 6570 appendix A).

A template that breaks the syntax is refused here with ValueError naming the position: a
stray `}`, an unclosed or nested `{`, an empty expression, an operator RFC 6570 reserves for
later, a variable name it does not allow. What a parsed template expands to and which URIs
it matches is `uri_template`'s.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

__all__ = ["OPERATORS", "Expression", "Operator", "Variable", "parse", "spec_text"]


@dataclass(frozen=True, slots=True)
class Operator:
    """One row of RFC 6570's expansion table (appendix A).

    `first` opens a non-empty expansion, `sep` joins its values, `named` writes `name=value`
    pairs, `ifemp` follows a name whose value is empty, and `reserved` lets reserved
    characters through unencoded (`+` and `#`).
    """

    first: str
    sep: str
    named: bool
    ifemp: str
    reserved: bool


#: RFC 6570 appendix A's table, by operator (`""`: simple string expansion, level 1).
OPERATORS: Final = {
    "": Operator("", ",", False, "", False),
    "+": Operator("", ",", False, "", True),
    "#": Operator("#", ",", False, "", True),
    ".": Operator(".", ".", False, "", False),
    "/": Operator("/", "/", False, "", False),
    ";": Operator(";", ";", True, "", False),
    "?": Operator("?", "&", True, "=", False),
    "&": Operator("&", "&", True, "=", False),
}
_FUTUREOPERATORS: Final = frozenset("=,!@|")  # RFC 6570 section 2.2: reserved
# RFC 6570 section 2.3: a name is letters, digits, `_` and percent-encoded triplets, with
# single dots between them; a prefix is at most four digits (`{x:9999}`), never 0.
_VARCHAR: Final = r"(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2})"
_VARSPEC: Final = re.compile(
    rf"(?P<name>{_VARCHAR}(?:\.?{_VARCHAR})*)(?::(?P<prefix>[1-9][0-9]{{0,3}})|(?P<explode>\*))?"
)


@dataclass(frozen=True, slots=True)
class Variable:
    """One varspec of an expression: `x`, `x:3` (a prefix of three characters) or `x*`."""

    name: str
    prefix: int | None
    explode: bool


@dataclass(frozen=True, slots=True)
class Expression:
    """One `{...}`: its operator (`""` for none) and its variables, in the template's order."""

    operator: str
    variables: tuple[Variable, ...]


def _error(template: str, what: str, position: int) -> ValueError:
    """The error for a bad template; the position lets a user find the fault in a long URI."""
    return ValueError(f"invalid URI template {template!r}: {what} at position {position}")


def parse(template: str) -> list[str | Expression]:
    """The template as literal text and expressions, in order.

    Raises ValueError for a stray `}`, an unclosed `{` or a nested one: RFC 6570 has no
    escape for braces, so each is a mistake rather than literal text.
    """
    parts: list[str | Expression] = []
    i = 0
    while i < len(template):
        start = template.find("{", i)
        literal = template[i:] if start < 0 else template[i:start]
        if "}" in literal:
            raise _error(template, "'}' without '{'", i + literal.index("}"))
        if literal:
            parts.append(literal)
        if start < 0:
            break
        end = template.find("}", start)
        nested = template.find("{", start + 1)
        if end < 0:
            raise _error(template, "unclosed '{'", start)
        if 0 <= nested < end:
            raise _error(template, "'{' inside an expression", nested)
        parts.append(_expression(template, start, template[start + 1 : end]))
        i = end + 1
    return parts


def _expression(template: str, start: int, body: str) -> Expression:
    """One expression's operator and variables; `start` is its `{`, for the error position."""
    if not body:
        raise _error(template, "empty expression", start)
    # A first character that is no operator begins the first variable's name.
    operator = body[0] if body[0] in OPERATORS else ""
    # Refused rather than read as a name: a later RFC may give these a meaning.
    if body[0] in _FUTUREOPERATORS:
        raise _error(template, f"operator {body[0]!r} is reserved for future extensions", start + 1)
    position = start + 1 + len(operator)
    variables: list[Variable] = []
    for spec in body[len(operator) :].split(","):
        found = _VARSPEC.fullmatch(spec)
        if found is None:
            raise _error(template, f"invalid variable {spec!r}", position)
        prefix = found["prefix"]
        variables.append(
            Variable(found["name"], int(prefix) if prefix else None, found["explode"] is not None)
        )
        position += len(spec) + 1  # past the comma: the next varspec's own position
    return Expression(operator, tuple(variables))


def spec_text(var: Variable) -> str:
    """A variable as the template writes it (`x`, `x*`, `x:3`)."""
    if var.explode:
        return f"{var.name}*"
    return var.name if var.prefix is None else f"{var.name}:{var.prefix}"
