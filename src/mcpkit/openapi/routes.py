"""Route maps and names: which operations become tools, resources, resource templates or
nothing, and the `OpenApiRoute` each becomes, ready to be called.

Route maps are tried in order and the first that matches decides; an operation no map
matches is a tool. A map matches by method, by a regular expression searched in the path
as the document writes it (`/pets/{petId}`), and by tags (all of them on the operation).
A `resource` map applies only to a GET with no path parameter, a `resource_template` map
only to a GET with path parameters; either skips an operation with a required query,
header or body argument, since reading a resource passes none. A resource's URI is
`<uri_prefix><path>`, a template's the same with each path parameter as a `{variable}`
(renamed to a Python name where the document's is not one: `pet-id` -> `pet_id`); the
default prefix is `openapi://<name>`.

Names come from `operationId` (characters outside `A-Za-z0-9_.-` become `_`, at most 128,
per server/tools "Tool Names"), else from the method and path (`get_pets_petId`); a name
taken twice gets `_2`, `_3`; `names={operationId: name}` overrides.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal
from urllib.parse import urljoin

from mcpkit.openapi.bounded import MAX_RESPONSE_BYTES
from mcpkit.openapi.exceptions import OpenApiSpecError
from mcpkit.openapi.operations import Operation, read_operations
from mcpkit.openapi.requests import OpenApiResult, call_operation
from mcpkit.openapi.schemas import as_list, as_object

if TYPE_CHECKING:
    import httpx

__all__ = ["OpenApiRoute", "RouteKind", "RouteMap", "build_routes", "tool_name"]

#: What an operation becomes.
RouteKind = Literal["tool", "resource", "resource_template", "exclude"]

_NAME_LIMIT: Final = 128
_NAME: Final = re.compile(r"[A-Za-z0-9_.\-]{1,128}")
_NOT_NAME: Final = re.compile(r"[^A-Za-z0-9_.\-]+")
_NOT_VAR: Final = re.compile(r"[^A-Za-z0-9_]+")


@dataclass(frozen=True)
class RouteMap:
    """One rule: operations matching `methods` (any when `None`; GET for resource maps),
    `pattern` (searched in the path) and every tag of `tags` become `kind`.
    `forward_headers` names headers of the incoming MCP request that calls of the matched
    operations pass on to the API (see `OpenApiRoute.headers_to_forward`)."""

    kind: RouteKind
    methods: Collection[str] | None = None
    pattern: str | None = None
    tags: Collection[str] = ()
    forward_headers: Collection[str] = ()

    def __post_init__(self) -> None:
        if self.kind in ("resource", "resource_template") and self.methods is not None:
            if {m.upper() for m in self.methods} != {"GET"}:
                raise ValueError(f"a {self.kind} route map matches GET only, not {self.methods}")
        if self.pattern is not None:
            re.compile(self.pattern)

    def matches(self, op: Operation) -> bool:
        methods = self.methods
        if methods is None and self.kind in ("resource", "resource_template"):
            methods = ("GET",)
        if methods is not None and op.method not in {m.upper() for m in methods}:
            return False
        if self.pattern is not None and not re.search(self.pattern, op.path):
            return False
        if not set(self.tags) <= set(op.tags):
            return False
        if self.kind == "resource":
            return _readable(op) and not op.path_arguments
        if self.kind == "resource_template":
            return _readable(op) and bool(op.path_arguments)
        return True


def _readable(op: Operation) -> bool:
    """Reading a resource passes no argument but its URI's variables."""
    return all(a.location == "path" or not a.required for a in op.arguments)


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
    def tags(self) -> tuple[str, ...]:
        return self.operation.tags

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
    parts = [p for p in (op.summary, op.description) if p]
    if len(parts) == 2 and parts[0] == parts[1]:
        parts.pop()
    return "\n\n".join(parts) or None


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
    uri_prefix: str | None = None,
    document_url: str | None = None,
    max_response_bytes: int = MAX_RESPONSE_BYTES,
) -> list[OpenApiRoute]:
    """Every operation of a checked document (`load_spec`) as a route, excluded ones left
    out, in document order. Calls go to `client`'s base URL, or where it has none to the
    document's first server (relative to `document_url`, the URL it was fetched from); an
    answer longer than `max_response_bytes` fails the call."""
    if max_response_bytes < 1:
        raise ValueError("max_response_bytes must be >= 1")
    overrides = dict(names or {})
    try:
        operations = read_operations(spec)
    except RecursionError:  # schemas nested past what the interpreter's recursion allows
        raise OpenApiSpecError("#", "a schema is nested too deeply to read") from None
    known_ids = {op.operation_id for op in operations}
    unknown = sorted(set(overrides) - known_ids)
    if unknown:
        raise ValueError(f"names= has operationIds the document does not have: {unknown}")
    doubled = sorted(n for n in set(overrides.values()) if list(overrides.values()).count(n) > 1)
    if doubled:
        raise ValueError(f"names= gives two operations the same name: {doubled}")
    for wanted in overrides.values():
        if not _NAME.fullmatch(wanted):
            raise ValueError(f"invalid tool name {wanted!r}: use 1 to 128 of A-Z a-z 0-9 _ - .")
    title = (as_object(spec.get("info")) or {}).get("title")
    prefix = uri_prefix if uri_prefix is not None else f"openapi://{_slug(title)}"
    server_url = _server_url(spec, document_url)
    taken = set(overrides.values())
    routes: list[OpenApiRoute] = []
    for op in operations:
        rule = next((m for m in route_maps if m.matches(op)), None)
        kind: RouteKind = rule.kind if rule is not None else "tool"
        if kind == "exclude":
            continue
        given = overrides.get(op.operation_id) if op.operation_id is not None else None
        name = given if given is not None else _unique(tool_name(op), taken)
        uri, variables = _uri(prefix, op) if kind != "tool" else (None, {})
        forwarded = frozenset(h.lower() for h in (rule.forward_headers if rule else ()))
        routes.append(
            OpenApiRoute(
                kind,
                name,
                _description(op),
                op,
                client,
                server_url,
                uri,
                variables,
                forwarded,
                max_response_bytes,
            )
        )
    return routes


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
