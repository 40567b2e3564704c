"""Route maps: which operations become tools, resources, resource templates or nothing,
each field checked where the map is written, and the rule no map or hook can break.

Route maps are tried in order and the first that matches decides; an operation no map
matches is a tool. A map matches by method, by a regular expression searched in the path
as the document writes it (`/pets/{petId}`), and by tags (all of them on the operation).
A `resource` map applies only to a GET with no path parameter, a `resource_template` map
only to a GET with path parameters; either skips an operation with a required query,
header or body argument, since reading a resource passes none. `route_map_fn` (FastMCP's
name and shape) then sees each operation with the kind the maps chose, and may return
another.

Whatever chose it, only a GET becomes a resource or a template: reading a resource must
change nothing (server/resources), and a client reads whatever a server lists, so a POST
listed as a resource would run on every read. A choice that breaks this is refused when
the server is built, naming what chose it and the operation.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import Final, Literal, cast, get_args

from mcpkit.openapi.operations import Operation

__all__ = [
    "HTTP_METHODS",
    "KINDS",
    "RouteKind",
    "RouteMap",
    "RouteMapFn",
    "check_kind",
    "check_readable",
    "choose_kind",
]

#: What an operation becomes.
RouteKind = Literal["tool", "resource", "resource_template", "exclude"]
KINDS: Final[tuple[RouteKind, ...]] = get_args(RouteKind)
#: The methods an OpenAPI path item can hold (Path Item Object).
HTTP_METHODS: Final = ("GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE")
_READS: Final = ("resource", "resource_template")
_TOKEN: Final = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # a header name (RFC 9110, 5.1)

#: `route_map_fn(operation, kind)`: the kind the route maps chose for `operation` (a tool where
#: none matched); return another kind, or None to keep it.
RouteMapFn = Callable[[Operation, RouteKind], "RouteKind | None"]


def check_kind(where: str, kind: object) -> RouteKind:
    """`kind` if it is one of `KINDS`; else a ValueError naming `where`, the kinds and the
    closest one."""
    if isinstance(kind, str) and kind in KINDS:
        return kind
    shown = ", ".join(repr(k) for k in KINDS)
    close = difflib.get_close_matches(str(kind).lower(), KINDS, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise ValueError(f"{where}: {kind!r} is not a kind; the kinds are {shown}{hint}")


def _names(where: str, value: object, example: str) -> tuple[str, ...]:
    """A field holding names, as a tuple; one string (taken letter by letter) or a name that
    is no string is refused."""
    if isinstance(value, str):
        raise TypeError(f"{where} is a list of names, not the string {value!r}: {example}")
    if not isinstance(value, Iterable):
        raise TypeError(f"{where} is a list of names, not {value!r}: {example}")
    found = tuple(cast(Iterable[object], value))
    for item in found:
        if not isinstance(item, str) or not item:
            raise TypeError(f"{where} holds names (non-empty strings), not {item!r}: {example}")
    return cast(tuple[str, ...], found)


def _header_names(headers: object) -> None:
    example = "forward_headers=['Authorization']"
    for header in _names("RouteMap forward_headers", headers, example):
        if not _TOKEN.fullmatch(header):
            raise ValueError(
                f"RouteMap forward_headers: {header!r} is not a header name "
                "(an RFC 9110 token, such as 'X-Api-Key')"
            )
        if header.lower() == "proxy-authorization":
            raise ValueError(
                "RouteMap forward_headers: 'Proxy-Authorization' is the MCP client's "
                "credential for a proxy on its way here, never one for the API: leave it out"
            )


def _methods(kind: RouteKind, methods: object) -> frozenset[str] | None:
    if methods is None or methods == "*":
        return None
    found = _names("RouteMap methods", methods, "methods=['GET']")
    if not found:
        raise ValueError("RouteMap methods=[] matches no operation: leave it out to match any")
    unknown = [m for m in found if m.upper() not in HTTP_METHODS]
    if unknown:
        raise ValueError(
            f"RouteMap methods: {unknown[0]!r} is not an HTTP method of OpenAPI; "
            f"the methods are {', '.join(HTTP_METHODS)}"
        )
    upper = frozenset(m.upper() for m in found)
    if kind in _READS and upper != frozenset({"GET"}):
        raise ValueError(
            f"a {kind} route map matches GET only, not {sorted(upper)}: reading a resource "
            "must change nothing; leave methods out, or make the map a 'tool'"
        )
    return upper


def _pattern(pattern: object) -> re.Pattern[str] | None:
    if pattern is None or isinstance(pattern, re.Pattern):
        return cast("re.Pattern[str] | None", pattern)
    if not isinstance(pattern, str):
        raise TypeError(f"RouteMap pattern is a regular expression (a str), not {pattern!r}")
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(
            f"RouteMap pattern {pattern!r} is not a regular expression: {exc}"
        ) from None


@dataclass(frozen=True)
class RouteMap:
    """One rule: operations matching `methods` (any when `None` or `"*"`; GET for resource
    maps), `pattern` (searched in the path) and every tag of `tags` become `kind`.
    `forward_headers` names headers of the incoming MCP request that calls of the matched
    operations pass on to the API (see `OpenApiRoute.headers_to_forward`); `mcp_tags` are
    tags given to what it makes (FastMCP's name). Every field is checked here: an unknown
    kind, a method OpenAPI has not, a bad regular expression or a single string where a
    list belongs is a TypeError or ValueError that says so."""

    kind: RouteKind
    methods: Collection[str] | Literal["*"] | None = None
    pattern: str | re.Pattern[str] | None = None
    tags: Collection[str] = ()
    forward_headers: Collection[str] = ()
    mcp_tags: Collection[str] = ()
    # the fields above as checked, kept for matching
    _methods: frozenset[str] | None = field(init=False, repr=False, compare=False, default=None)
    _pattern: re.Pattern[str] | None = field(init=False, repr=False, compare=False, default=None)
    _tags: frozenset[str] = field(init=False, repr=False, compare=False, default=frozenset())

    def __post_init__(self) -> None:
        kind = check_kind("RouteMap kind", self.kind)
        tags = _names("RouteMap tags", self.tags, "tags=['admin']")
        _header_names(self.forward_headers)
        _names("RouteMap mcp_tags", self.mcp_tags, "mcp_tags=['api']")
        object.__setattr__(self, "_methods", _methods(kind, self.methods))
        object.__setattr__(self, "_pattern", _pattern(self.pattern))
        object.__setattr__(self, "_tags", frozenset(tags))

    def matches(self, op: Operation) -> bool:
        methods = self._methods
        if methods is None and self.kind in _READS:
            methods = frozenset({"GET"})
        if methods is not None and op.method not in methods:
            return False
        if self._pattern is not None and not self._pattern.search(op.path):
            return False
        if not self._tags <= set(op.tags):
            return False
        if self.kind == "resource":
            return readable(op) and not op.path_arguments
        if self.kind == "resource_template":
            return readable(op) and bool(op.path_arguments)
        return True


def readable(op: Operation) -> bool:
    """Reading a resource passes no argument but its URI's variables."""
    return all(a.location == "path" or not a.required for a in op.arguments)


def _operation(op: Operation) -> str:
    named = f" (operationId {op.operation_id!r})" if op.operation_id else ""
    return f"{op.method} {op.path}{named}"


def check_readable(op: Operation, kind: RouteKind, chosen_by: str) -> None:
    """Refuse making `op` a resource or template unless a read can call it: a GET that needs
    no argument but its path's (a template's variables), with path parameters exactly when
    it is a template. `chosen_by` names what chose `kind`, for the message."""
    if kind not in _READS:
        return
    said = f"{chosen_by} makes {_operation(op)} a {kind}"
    if op.method != "GET":
        raise ValueError(
            f"{said}: only a GET may be read, since a client reads resources at will and "
            f"reading must change nothing; make it a 'tool', or 'exclude' it"
        )
    needed = [a.name for a in op.arguments if a.required and a.location != "path"]
    if needed:
        raise ValueError(
            f"{said}, but a read passes no arguments and it needs {needed}: make it a 'tool'"
        )
    if kind == "resource" and op.path_arguments:
        raise ValueError(f"{said}, but its path has parameters: did you mean 'resource_template'?")
    if kind == "resource_template" and not op.path_arguments:
        raise ValueError(f"{said}, but its path has no parameters: did you mean 'resource'?")


def choose_kind(
    op: Operation, route_maps: Collection[RouteMap], route_map_fn: RouteMapFn | None
) -> tuple[RouteKind, RouteMap | None]:
    """The kind `op` becomes and the map that matched it (None: none did), checked."""
    rule = next((m for m in route_maps if m.matches(op)), None)
    kind: RouteKind = rule.kind if rule is not None else "tool"
    chosen_by = f"the route map {rule!r}" if rule is not None else "the default"
    if route_map_fn is not None:
        returned = route_map_fn(op, kind)
        if returned is not None:
            kind = check_kind(f"route_map_fn for {_operation(op)} returned", returned)
            chosen_by = "route_map_fn"
    check_readable(op, kind, chosen_by)
    return kind, rule
