"""The `OpenApiRoute` each operation becomes, ready to be called, and its name.

What each operation becomes is the route maps' choice (`mcpkit.openapi.route_maps`). A
resource's URI is `<uri_prefix><path>`, a template's the same with each path parameter as a
`{variable}` (renamed to a Python name where the document's is not one: `pet-id` ->
`pet_id`); the default prefix is `openapi://<name>`. A route's title is the operation's
`summary`, its description the operation's `description` (the summary where it has none),
its tags the operation's and its route map's `mcp_tags`; `mcp_component_fn` (FastMCP's
name and shape) may change them, and the name, before the route is made.

Names come from `operationId` (characters outside `A-Za-z0-9_.-` become `_`, at most 128,
per server/tools "Tool Names"), else from the method and path (`get_pets_petId`); a name
taken twice gets `_2`, `_3`; `names={operationId: name}` overrides.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import urljoin

from mcpkit.openapi.bounded import MAX_RESPONSE_BYTES
from mcpkit.openapi.components import ComponentFn, OpenApiComponent, checked_component
from mcpkit.openapi.exceptions import OpenApiSpecError
from mcpkit.openapi.operations import Operation, read_operations
from mcpkit.openapi.requests import OpenApiResult, call_operation
from mcpkit.openapi.route_maps import (
    RouteKind,
    RouteMap,
    RouteMapFn,
    check_kind,
    check_readable,
    choose_kind,
)
from mcpkit.openapi.schemas import MAX_SCHEMA_NODES, as_list, as_object

if TYPE_CHECKING:
    import httpx

__all__ = ["OpenApiRoute", "build_routes", "tool_name"]

_NAME_LIMIT: Final = 128
_NAME: Final = re.compile(r"[A-Za-z0-9_.\-]{1,128}")
_NOT_NAME: Final = re.compile(r"[^A-Za-z0-9_.\-]+")
_NOT_VAR: Final = re.compile(r"[^A-Za-z0-9_]+")


@dataclass(frozen=True)
class OpenApiRoute:
    """One operation as what it becomes, with what a server needs to list and call it."""

    kind: RouteKind
    name: str
    description: str | None
    operation: Operation
    client: httpx.AsyncClient
    server_url: str | None
    uri: str | None = None
    #: template variable -> argument name, for resource templates
    variables: Mapping[str, str] = field(default_factory=dict[str, str])
    forward_headers: frozenset[str] = frozenset()
    max_response_bytes: int = MAX_RESPONSE_BYTES
    title: str | None = None
    tags: frozenset[str] = frozenset()
    #: the item's `_meta` (tags are added to it by the server)
    meta: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        # (whoever built it: a POST listed as a resource would run on every read)
        kind = check_kind("OpenApiRoute", self.kind)
        check_readable(self.operation, kind, "OpenApiRoute")
        if kind in ("resource", "resource_template") and self.uri is None:
            raise ValueError(f"OpenApiRoute {self.name!r}: a {kind} needs its uri")

    @property
    def input_schema(self) -> dict[str, Any]:
        return self.operation.input_schema

    @property
    def output_schema(self) -> dict[str, Any] | None:
        return self.operation.response.schema

    @property
    def mime_type(self) -> str | None:
        return self.operation.response.media_type

    @property
    def hints(self) -> dict[str, bool]:
        """What the HTTP method says of the operation (RFC 9110, 9.2), as the names of MCP's
        tool annotations: GET, HEAD and OPTIONS only read; PUT and DELETE are idempotent;
        DELETE destroys. A document can be wrong about its methods: these are hints."""
        method = self.operation.method
        read_only = method in ("GET", "HEAD", "OPTIONS")
        return {
            "readOnlyHint": read_only,
            "destructiveHint": method == "DELETE",
            "idempotentHint": read_only or method in ("PUT", "DELETE"),
        }

    def headers_to_forward(self, incoming: Mapping[str, str]) -> dict[str, str]:
        """The headers of an incoming request that this route's map says to pass on."""
        return {k: v for k, v in incoming.items() if k.lower() in self.forward_headers}

    def arguments_from_uri(self, variables: Mapping[str, str]) -> dict[str, object]:
        """A template's URI variables as the operation's arguments."""
        return {self.variables.get(k, k): v for k, v in variables.items()}

    async def call(
        self, arguments: Mapping[str, object], *, forward_headers: Mapping[str, str] | None = None
    ) -> OpenApiResult:
        """Call the operation; raises `OpenApiStatusError` for a non-2xx answer."""
        return await call_operation(
            self.operation,
            self.client,
            arguments,
            server_url=self.server_url,
            forward_headers=forward_headers,
            max_response_bytes=self.max_response_bytes,
        )


def tool_name(op: Operation) -> str:
    """An MCP tool name for `op` (see the module)."""
    raw = op.operation_id or f"{op.method.lower()}_{op.path.strip('/')}"
    name = _NOT_NAME.sub("_", raw).strip("_") or op.method.lower()
    return name[:_NAME_LIMIT]


def _unique(name: str, taken: set[str]) -> str:
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        suffix = f"_{n}"
        candidate = name[: _NAME_LIMIT - len(suffix)] + suffix
    taken.add(candidate)
    return candidate


def _description(op: Operation) -> str | None:
    """The operation's description; its summary where it has none (a model may be shown no
    title, so the summary is not lost)."""
    return op.description or op.summary or None


def _server_url(spec: Mapping[str, Any], document_url: str | None) -> str | None:
    """The first server's URL, its variables at their defaults; a relative one (`/api/v3`,
    or `/`, the default with no `servers`) is relative to where the document was fetched
    (Server Object, "url")."""
    first = as_object((as_list(spec.get("servers")) or [None])[0]) or {}
    url = str(first.get("url", "/"))
    for var, options in (as_object(first.get("variables")) or {}).items():
        default = (as_object(options) or {}).get("default")
        if default is not None:
            url = url.replace("{" + var + "}", str(default))
    if document_url is not None:
        url = urljoin(document_url, url)
    return url if "://" in url else None


def _slug(title: object) -> str:
    return _NOT_VAR.sub("-", str(title or "api")).strip("-").lower() or "api"


def build_routes(
    spec: Mapping[str, Any],
    *,
    client: httpx.AsyncClient,
    names: Mapping[str, str] | None = None,
    route_maps: Collection[RouteMap] = (),
    route_map_fn: RouteMapFn | None = None,
    mcp_component_fn: ComponentFn | None = None,
    uri_prefix: str | None = None,
    document_url: str | None = None,
    max_response_bytes: int = MAX_RESPONSE_BYTES,
    max_schema_nodes: int = MAX_SCHEMA_NODES,
) -> list[OpenApiRoute]:
    """Every operation of a checked document (`load_spec`) as a route, excluded ones left
    out, in document order. Calls go to `client`'s base URL, or where it has none to the
    document's first server (relative to `document_url`, the URL it was fetched from); an
    answer longer than `max_response_bytes` fails the call; schemas that come to more than
    `max_schema_nodes` nodes once inlined refuse the document. `route_map_fn` and
    `mcp_component_fn` are FastMCP's hooks (see `route_maps` and `components`)."""
    if max_response_bytes < 1:
        raise ValueError("max_response_bytes must be >= 1")
    if max_schema_nodes < 1:
        raise ValueError("max_schema_nodes must be >= 1")
    overrides = dict(names or {})
    try:
        operations = read_operations(spec, max_schema_nodes)
    except RecursionError:  # schemas nested past what the interpreter's recursion allows
        raise OpenApiSpecError("#", "a schema is nested too deeply to read") from None
    _check_names(overrides, {op.operation_id for op in operations})
    title = (as_object(spec.get("info")) or {}).get("title")
    prefix = uri_prefix if uri_prefix is not None else f"openapi://{_slug(title)}"
    server_url = _server_url(spec, document_url)
    taken = set(overrides.values())
    routes: list[OpenApiRoute] = []
    for op in operations:
        kind, rule = choose_kind(op, route_maps, route_map_fn)
        if kind == "exclude":
            continue
        given = overrides.get(op.operation_id) if op.operation_id is not None else None
        name = given if given is not None else _unique(tool_name(op), taken)
        uri, variables = _uri(prefix, op) if kind != "tool" else (None, {})
        route = OpenApiRoute(
            kind,
            name,
            _description(op),
            op,
            client,
            server_url,
            uri,
            variables,
            frozenset(h.lower() for h in (rule.forward_headers if rule else ())),
            max_response_bytes,
            title=op.summary or None,
            tags=frozenset(t for t in (*op.tags, *(rule.mcp_tags if rule else ())) if t),
        )
        routes.append(route if mcp_component_fn is None else _customised(route, mcp_component_fn))
    _check_unique(routes)
    return routes


def _check_names(overrides: Mapping[str, str], known_ids: set[str | None]) -> None:
    unknown = sorted(set(overrides) - known_ids)
    if unknown:
        raise ValueError(f"names= has operationIds the document does not have: {unknown}")
    doubled = sorted(n for n in set(overrides.values()) if list(overrides.values()).count(n) > 1)
    if doubled:
        raise ValueError(f"names= gives two operations the same name: {doubled}")
    for wanted in overrides.values():
        if not _NAME.fullmatch(wanted):
            raise ValueError(f"invalid tool name {wanted!r}: use 1 to 128 of A-Z a-z 0-9 _ - .")


def _customised(route: OpenApiRoute, fn: ComponentFn) -> OpenApiRoute:
    """`route` as `fn` (`mcp_component_fn`) changed its component."""
    op = route.operation
    component = OpenApiComponent(
        route.kind,
        route.uri,
        route.name,
        route.title,
        route.description,
        set(route.tags),
        dict(route.meta or {}),
    )
    fn(op, component)
    where = f"{op.method} {op.path}"
    checked_component(component, route.kind, route.uri, where)
    if route.kind == "tool" and not _NAME.fullmatch(component.name):
        raise ValueError(
            f"mcp_component_fn for {where} set the invalid tool name {component.name!r}: "
            "use 1 to 128 of A-Z a-z 0-9 _ - ."
        )
    return replace(
        route,
        name=component.name,
        title=component.title,
        description=component.description,
        tags=frozenset(component.tags),
        meta=component.meta or None,
    )


def _check_unique(routes: list[OpenApiRoute]) -> None:
    """Two tools of one name would make one of them unreachable: refused (the names were
    unique until `mcp_component_fn` changed some)."""
    seen: set[str] = set()
    for route in routes:
        if route.kind != "tool":
            continue
        if route.name in seen:
            raise ValueError(f"two tools are named {route.name!r}: mcp_component_fn named both")
        seen.add(route.name)


def _variable(name: str) -> str:
    """A template variable for a path parameter: a Python name, since a server hands each
    variable to its function as a parameter (`1st` -> `_1st`, `from` -> `from_`)."""
    var = _NOT_VAR.sub("_", name)
    if var[:1].isdigit():
        var = "_" + var
    return var + "_" if keyword.iskeyword(var) else var


def _uri(prefix: str, op: Operation) -> tuple[str, dict[str, str]]:
    uri = prefix.removesuffix("/") + op.path  # one slash between: `pets://` + `/a` is `pets://a`
    variables: dict[str, str] = {}
    for arg in op.path_arguments:
        var = _variable(arg.name)
        if var in variables:
            raise OpenApiSpecError(op.where, f"two path parameters make the variable {var!r}")
        variables[var] = arg.name
        uri = uri.replace("{" + str(arg.key) + "}", "{" + var + "}")
    return uri, variables
