"""RFC 6570 URI templates for resource templates: parsed once, expanded, and matched.

Spec: server/resources ("Resource Templates": `uriTemplate` is an RFC 6570 template).
Expansion follows RFC 6570 through level 4 (prefixes `{x:3}` and explode `{x*}`). Matching
is the inverse a server needs to route `resources/read`, which RFC 6570 leaves open (its
section 1.4: matching is ambiguous in general); the rules here:

- `{x}` and `{x,y}` match one or more characters other than `/`, `?` and `#` (and `,`
  between several variables), so a plain variable never spans path segments;
- `{+x}` and `{#x}` match any characters, as few as the rest of the template allows, and
  `{x*}` one or more of them: `files://{path*}` matches `files://a/b.txt`, as FastMCP reads
  its wildcard (a list expands with `,`, which it keeps);
- `{/x}`, `{.x}` and `{;x}` are optional; a missing one is absent from the result;
- `{?x,y}` and `{&z}` read the whole query string, in any order, ignoring unknown names;
- matched values are percent-decoded; a variable used twice must match the same value;
- an exploded variable `{/x*}` gives its whole run of items as text, separators kept, and
  a repeated query name its values joined with `,`; a prefix `{x:3}` matches as `{x}`.

Two forms match nothing useful, so `UriTemplate.check_matchable` refuses them where a server
registers a template: `{;x*}` (each item is a `;x=...` of its own, or a `;key=...` for a
mapping), and an exploded variable before another in one expression (`{/a*,b}`: the run of
items leaves the later variable nothing).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final
from urllib.parse import quote, unquote

__all__ = ["UriTemplate", "Value"]

Value = str | int | float | Sequence[str] | Mapping[str, str] | None
"""What a variable expands from: text, a number, a list, a mapping, or None (undefined)."""


@dataclass(frozen=True, slots=True)
class _Operator:
    """One row of RFC 6570's expansion table (appendix A)."""

    first: str
    sep: str
    named: bool
    ifemp: str
    reserved: bool


_OPERATORS: Final = {
    "": _Operator("", ",", False, "", False),
    "+": _Operator("", ",", False, "", True),
    "#": _Operator("#", ",", False, "", True),
    ".": _Operator(".", ".", False, "", False),
    "/": _Operator("/", "/", False, "", False),
    ";": _Operator(";", ";", True, "", False),
    "?": _Operator("?", "&", True, "=", False),
    "&": _Operator("&", "&", True, "=", False),
}
_FUTURE_OPERATORS: Final = frozenset("=,!@|")  # RFC 6570 section 2.2: reserved
_VARCHAR: Final = r"(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2})"
_VARSPEC: Final = re.compile(
    rf"(?P<name>{_VARCHAR}(?:\.?{_VARCHAR})*)(?::(?P<prefix>[1-9][0-9]{{0,3}})|(?P<explode>\*))?"
)
_PCT_TRIPLET: Final = re.compile(r"(%[0-9A-Fa-f]{2})")
_RESERVED: Final = ":/?#[]@!$&'()*+,;="


@dataclass(frozen=True, slots=True)
class _Variable:
    name: str
    prefix: int | None
    explode: bool


@dataclass(frozen=True, slots=True)
class _Expression:
    operator: str
    variables: tuple[_Variable, ...]


def _error(template: str, what: str, position: int) -> ValueError:
    return ValueError(f"invalid URI template {template!r}: {what} at position {position}")


def _parse(template: str) -> list[str | _Expression]:
    parts: list[str | _Expression] = []
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


def _expression(template: str, start: int, body: str) -> _Expression:
    if not body:
        raise _error(template, "empty expression", start)
    operator = body[0] if body[0] in _OPERATORS else ""
    if body[0] in _FUTURE_OPERATORS:
        raise _error(template, f"operator {body[0]!r} is reserved for future extensions", start + 1)
    position = start + 1 + len(operator)
    variables: list[_Variable] = []
    for spec in body[len(operator) :].split(","):
        found = _VARSPEC.fullmatch(spec)
        if found is None:
            raise _error(template, f"invalid variable {spec!r}", position)
        prefix = found["prefix"]
        variables.append(
            _Variable(found["name"], int(prefix) if prefix else None, found["explode"] is not None)
        )
        position += len(spec) + 1
    return _Expression(operator, tuple(variables))


def _spec_text(var: _Variable) -> str:
    """A variable as the template writes it (`x`, `x*`, `x:3`)."""
    if var.explode:
        return f"{var.name}*"
    return var.name if var.prefix is None else f"{var.name}:{var.prefix}"


# ------------------------------------------------------------------ expansion


def _encode(text: str, reserved: bool) -> str:
    if not reserved:
        return quote(text, safe="")
    # U+R: reserved characters and existing percent-encoded triplets pass through.
    return "".join(
        piece if _PCT_TRIPLET.fullmatch(piece) else quote(piece, safe=_RESERVED)
        for piece in _PCT_TRIPLET.split(text)
    )


def _named(name: str, encoded: str, op: _Operator) -> str:
    return f"{name}={encoded}" if encoded else name + op.ifemp


def _expand_variable(var: _Variable, value: Value, op: _Operator) -> str | None:
    if isinstance(value, (str, int, float)):
        text = str(value)
        if var.prefix is not None:
            text = text[: var.prefix]
        encoded = _encode(text, op.reserved)
        return _named(var.name, encoded, op) if op.named else encoded
    if var.prefix is not None:
        raise ValueError(f"variable {var.name!r} has a prefix but its value is not text")
    if isinstance(value, Mapping):
        pairs = [
            (_encode(str(k), op.reserved), _encode(str(v), op.reserved)) for k, v in value.items()
        ]
        if not pairs:
            return None
        if var.explode:
            return op.sep.join(f"{k}={v}" if v or not op.named else k + op.ifemp for k, v in pairs)
        joined = ",".join(f"{k},{v}" for k, v in pairs)
    else:
        items = [_encode(str(item), op.reserved) for item in value or ()]
        if not items:
            return None
        if var.explode:
            return op.sep.join(_named(var.name, item, op) if op.named else item for item in items)
        joined = ",".join(items)
    return _named(var.name, joined, op) if op.named else joined


def _expand(expression: _Expression, values: Mapping[str, Value]) -> str:
    op = _OPERATORS[expression.operator]
    parts: list[str] = []
    for var in expression.variables:
        value = values.get(var.name)
        if value is None:
            continue
        expanded = _expand_variable(var, value, op)
        if expanded is not None:
            parts.append(expanded)
    return op.first + op.sep.join(parts) if parts else ""


# ------------------------------------------------------------------ matching


@dataclass(frozen=True, slots=True)
class _Group:
    group: str
    name: str
    presence: str | None = None  # for `{;x}`: matched even when the value is empty


def _value_pattern(operator: str, var: _Variable, several: bool) -> str:
    if var.explode:
        return {
            "": ".+?",
            "+": ".*?",
            "#": ".*?",
            ".": "[^/?#]*",
            "/": "[^?#]*",
            ";": "[^/?#]*",
        }[operator]
    if operator in ("+", "#"):
        return "[^,]*?" if several else ".*?"
    if operator == "":
        return "[^/?#,]+?" if several else "[^/?#]+?"  # lazy: later expressions come first
    return {".": "[^/?#.]*", "/": "[^/?#]*?", ";": "[^;/?#]*"}[operator]


class _PatternBuilder:
    """Turns parsed parts into one regex, numbering groups since names may not be
    identifiers (`{user.id}`, `{a%20b}`)."""

    def __init__(self) -> None:
        self.groups: list[_Group] = []
        self.query_groups: list[str] = []
        self.query_names: set[str] = set()

    def group(self, name: str) -> str:
        group = f"g{len(self.groups)}"
        self.groups.append(_Group(group, name))
        return group

    def expression(self, expr: _Expression) -> str:
        op = expr.operator
        if op in ("?", "&"):
            group = f"q{len(self.query_groups)}"
            self.query_groups.append(group)
            self.query_names.update(v.name for v in expr.variables)
            return rf"(?:{re.escape(op)}(?P<{group}>[^#]*))?"
        several = len(expr.variables) > 1
        pieces: list[str] = []
        for i, var in enumerate(expr.variables):
            value = f"(?P<{self.group(var.name)}>{_value_pattern(op, var, several)})"
            if op == ";":
                marker = f"p{len(self.groups)}"
                self.groups[-1] = _Group(self.groups[-1].group, var.name, marker)
                name = re.escape(var.name)
                pieces.append(rf"(?:;{name}(?:={value})?(?P<{marker}>))?")
            elif op in ("", "+", "#"):
                pieces.append(value if i == 0 else f"(?:,{value})?")
            else:
                pieces.append(f"(?:{re.escape(op)}{value})?")
        body = "".join(pieces)
        return rf"(?:\#{body})?" if op == "#" else body


class UriTemplate:
    """An RFC 6570 URI template, parsed and compiled once.

    Raises ValueError, naming the position, for an invalid template.
    """

    __slots__ = (
        "_groups",
        "_parts",
        "_query_groups",
        "_query_names",
        "_regex",
        "template",
        "variables",
    )

    def __init__(self, template: str) -> None:
        self.template = template
        self._parts = _parse(template)
        builder = _PatternBuilder()
        pattern = "".join(
            re.escape(part) if isinstance(part, str) else builder.expression(part)
            for part in self._parts
        )
        self._regex = re.compile(pattern, re.DOTALL)
        self._groups = tuple(builder.groups)
        self._query_groups = tuple(builder.query_groups)
        self._query_names = frozenset(builder.query_names)
        names = [v.name for p in self._parts if isinstance(p, _Expression) for v in p.variables]
        self.variables: list[str] = list(dict.fromkeys(names))

    def __repr__(self) -> str:
        return f"UriTemplate({self.template!r})"

    def __str__(self) -> str:
        return self.template

    def __eq__(self, other: object) -> bool:
        return isinstance(other, UriTemplate) and other.template == self.template

    def __hash__(self) -> int:
        return hash(self.template)

    def expand(self, values: Mapping[str, Value] | None = None, /, **kwargs: Value) -> str:
        """The URI for these variable values (RFC 6570 section 3); None means undefined."""
        merged = {**(values or {}), **kwargs}
        return "".join(
            part if isinstance(part, str) else _expand(part, merged) for part in self._parts
        )

    def check_matchable(self) -> None:
        """Raise ValueError, naming the expression and a form that works, if `match` cannot
        give back the variables of the URIs this template expands to (see the module's
        docstring): a server's template must match the URIs it is read by."""
        for part in self._parts:
            if not isinstance(part, _Expression):
                continue
            text = "{" + part.operator + ",".join(_spec_text(v) for v in part.variables) + "}"
            for i, var in enumerate(part.variables):
                if not var.explode:
                    continue
                if part.operator == ";":
                    raise ValueError(
                        f"URI template {self.template!r}: {text} cannot be matched (an exploded "
                        f"path parameter repeats its name per item); use {{;{var.name}}} for "
                        f"one value, or {{?{var.name}*}} to read repeated values"
                    )
                if i < len(part.variables) - 1 and part.operator not in ("?", "&"):
                    raise ValueError(
                        f"URI template {self.template!r}: in {text} the exploded "
                        f"{var.name!r} takes the rest of the expression, so the variables "
                        "after it never get a value; put the exploded variable last, or in "
                        "an expression of its own"
                    )

    def slashed_variables(self) -> frozenset[str]:
        """The variables every use of which may carry `/` as it is (RFC 6570: `{+x}`, `{#x}`,
        a query's `{?x}` and `{&x}`, an exploded `{x*}` or `{/x*}`); any other's value has
        a `/` only percent-encoded."""
        slashed: set[str] = set()
        plain: set[str] = set()
        for part in self._parts:
            if isinstance(part, _Expression):
                for var in part.variables:
                    carries = part.operator in ("+", "#", "?", "&") or (
                        var.explode and part.operator in ("", "/")
                    )
                    (slashed if carries else plain).add(var.name)
        return frozenset(slashed - plain)

    def match(self, uri: str) -> dict[str, str] | None:
        """The percent-decoded variable values if `uri` fits this template, else None."""
        found = self._regex.fullmatch(uri)
        if found is None:
            return None
        result: dict[str, str] = {}
        for g in self._groups:
            raw = found.group(g.group)
            if raw is None and g.presence is not None and found.group(g.presence) is not None:
                raw = ""  # `;name` without `=value`
            if raw is None:
                continue
            value = unquote(raw)
            if result.setdefault(g.name, value) != value:
                return None
        if self._query_groups:
            query = "&".join(filter(None, (found.group(q) for q in self._query_groups)))
            if query and not self._read_query(query, result):
                return None
        return result

    def _read_query(self, query: str, result: dict[str, str]) -> bool:
        seen: dict[str, list[str]] = {}
        for pair in query.split("&"):
            name, _, value = pair.partition("=")
            if name in self._query_names:
                seen.setdefault(name, []).append(unquote(value))
        for name, values in seen.items():
            if result.setdefault(name, ",".join(values)) != ",".join(values):
                return False
        return True
