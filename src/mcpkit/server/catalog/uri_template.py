"""RFC 6570 URI templates for resource templates: parsed once (`uri_template_syntax`), expanded,
and matched.

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

from mcpkit.server.catalog.uri_template_syntax import (
    OPERATORS,
    Expression,
    Operator,
    Variable,
    parse,
    spec_text,
)

__all__ = ["UriTemplate", "Value"]

Value = str | int | float | Sequence[str] | Mapping[str, str] | None
"""What a variable expands from: text, a number, a list, a mapping, or None (undefined)."""

_PCT_TRIPLET: Final = re.compile(r"(%[0-9A-Fa-f]{2})")
# RFC 3986's gen-delims and sub-delims: what `{+x}` and `{#x}` may leave unencoded.
_RESERVED: Final = ":/?#[]@!$&'()*+,;="


# ------------------------------------------------------------------ expansion


def _encode(text: str, reserved: bool) -> str:
    """Percent-encode a value: everything but unreserved characters (U), or, for `+` and `#`,
    everything but unreserved and reserved ones (U+R), per RFC 6570 section 1.5."""
    if not reserved:
        return quote(text, safe="")
    # U+R: reserved characters and existing percent-encoded triplets pass through.
    return "".join(
        piece if _PCT_TRIPLET.fullmatch(piece) else quote(piece, safe=_RESERVED)
        for piece in _PCT_TRIPLET.split(text)
    )


def _named(name: str, encoded: str, op: Operator) -> str:
    """`name=value`; an empty value keeps the name, followed by `=` in a query and by
    nothing after `;` (`;x` against `?x=`), as the expansion table says."""
    return f"{name}={encoded}" if encoded else name + op.ifemp


def _expand_variable(var: Variable, value: Value, op: Operator) -> str | None:
    """One variable's expansion (RFC 6570 section 3.2.1), or None when an empty list or
    mapping makes it undefined, so the expression leaves it out with its separator.

    Raises ValueError for a prefix on a list or mapping, which the RFC does not allow.
    """
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
        # Exploded, each pair stands alone (`k=v` joined by the operator's separator); not
        # exploded, keys and values alternate in one comma list under the variable's name.
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


def _expand(expression: Expression, values: Mapping[str, Value]) -> str:
    """One expression's text: the defined variables joined, or nothing at all (not even the
    operator's first character) when none is defined."""
    op = OPERATORS[expression.operator]
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
    """A regex group and the variable it captures; several groups may share one name."""

    group: str
    name: str
    presence: str | None = None  # for `{;x}`: matched even when the value is empty


def _value_pattern(operator: str, var: Variable, several: bool) -> str:
    """The regex for one variable's value under its operator (the rules in the module's
    docstring). `several` stops a value at `,` so the next variable of the expression can
    start there; lazy patterns leave as much as they can to the literal text after them."""
    if var.explode:
        # An exploded value is the whole run of items with its separators, so it may hold
        # the characters a plain value stops at (`/` for `{/x*}`, `,` for `{x*}`).
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
        #: The value groups, in the order of the template's variables.
        self.groups: list[_Group] = []
        #: One group per `{?...}` or `{&...}` expression, holding its raw query text.
        self.query_groups: list[str] = []
        #: The names the query expressions declare; `match` keeps only these.
        self.query_names: set[str] = set()

    def group(self, name: str) -> str:
        """A fresh group name for variable `name`, recorded so `match` can read it back."""
        group = f"g{len(self.groups)}"
        self.groups.append(_Group(group, name))
        return group

    def expression(self, expr: Expression) -> str:
        """The regex for one expression; every variable in it is optional, as an undefined
        one expands to nothing."""
        op = expr.operator
        # A query is captured whole and read as name=value pairs afterwards: a client may
        # send its parameters in any order, which one regex could not follow.
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
                # An empty group marks that `;name` was there, so `;x` (x is "") differs
                # from an absent x, which the value group alone cannot tell.
                marker = f"p{len(self.groups)}"
                self.groups[-1] = _Group(self.groups[-1].group, var.name, marker)
                name = re.escape(var.name)
                pieces.append(rf"(?:;{name}(?:={value})?(?P<{marker}>))?")
            elif op in ("", "+", "#"):
                # No operator character before the first value; later ones follow a `,`.
                pieces.append(value if i == 0 else f"(?:,{value})?")
            else:
                pieces.append(f"(?:{re.escape(op)}{value})?")
        body = "".join(pieces)
        return rf"(?:\#{body})?" if op == "#" else body


class UriTemplate:
    """An RFC 6570 URI template, parsed and compiled once.

    Attributes:
        template: The text as written, which is also its identity (`==`, `hash`).
        variables: The variable names, each once, in order of first use.

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
        self._parts = parse(template)
        builder = _PatternBuilder()
        pattern = "".join(
            re.escape(part) if isinstance(part, str) else builder.expression(part)
            for part in self._parts
        )
        # DOTALL: `.` in a `{+x}` or `{x*}` value matches every character, a raw newline too.
        self._regex = re.compile(pattern, re.DOTALL)
        self._groups = tuple(builder.groups)
        self._query_groups = tuple(builder.query_groups)
        self._query_names = frozenset(builder.query_names)
        names = [v.name for p in self._parts if isinstance(p, Expression) for v in p.variables]
        # Each name once, in the order the template first uses it.
        self.variables: list[str] = list(dict.fromkeys(names))

    def __repr__(self) -> str:
        return f"UriTemplate({self.template!r})"

    def __str__(self) -> str:
        return self.template

    def __eq__(self, other: object) -> bool:
        # Equal by text: the parsed form follows from it, and two registrations of one
        # template are the same route.
        return isinstance(other, UriTemplate) and other.template == self.template

    def __hash__(self) -> int:
        return hash(self.template)

    def expand(self, values: Mapping[str, Value] | None = None, /, **kwargs: Value) -> str:
        """The URI for these variable values (RFC 6570 section 3); None means undefined.

        Keyword values win over the mapping's. Raises ValueError when a variable with a
        prefix (`{x:3}`) is given a list or a mapping.
        """
        merged = {**(values or {}), **kwargs}
        return "".join(
            part if isinstance(part, str) else _expand(part, merged) for part in self._parts
        )

    def check_matchable(self) -> None:
        """Raise ValueError, naming the expression and a form that works, if `match` cannot
        give back the variables of the URIs this template expands to (see the module's
        docstring): a server's template must match the URIs it is read by."""
        for part in self._parts:
            if not isinstance(part, Expression):
                continue
            # The expression as written, so the error points at the text the user typed.
            text = "{" + part.operator + ",".join(spec_text(v) for v in part.variables) + "}"
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
            if isinstance(part, Expression):
                for var in part.variables:
                    carries = part.operator in ("+", "#", "?", "&") or (
                        var.explode and part.operator in ("", "/")
                    )
                    (slashed if carries else plain).add(var.name)
        # A name also used plainly elsewhere must match there too, so it never carries `/`.
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
            # A name used twice must agree (`{x}/{x}` does not match `a/b`).
            if result.setdefault(g.name, value) != value:
                return None
        if self._query_groups:
            # `{?x}{&y}` read as one query string: a client may order its parameters freely.
            query = "&".join(filter(None, (found.group(q) for q in self._query_groups)))
            if query and not self._read_query(query, result):
                return None
        return result

    def _read_query(self, query: str, result: dict[str, str]) -> bool:
        """Add the template's query variables found in `query` to `result`; False when one
        disagrees with a value the path already gave it. Unknown names are ignored: a
        client may add parameters the template does not name."""
        seen: dict[str, list[str]] = {}
        for pair in query.split("&"):
            name, _, value = pair.partition("=")
            if name in self._query_names:
                seen.setdefault(name, []).append(unquote(value))
        for name, values in seen.items():
            if result.setdefault(name, ",".join(values)) != ",".join(values):
                return False
        return True
