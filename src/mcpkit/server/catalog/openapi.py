"""A `Server` whose tools, resources and templates are an OpenAPI document's operations
(`Server.from_openapi`), or a FastAPI app's, called in process (`Server.from_fastapi`).

The engine (`mcpkit.openapi`) reads the document and calls the API; this module registers
each of its routes on a server, as a handler that hands the call on: a non-2xx answer is a
tool error (or, for a read, an MCP error) with the status and the API's error body, and the
headers a route map names are taken from the MCP request (HTTP; none over stdio or in
memory) and passed on. It imports `mcpkit.openapi`, and so httpx: `Server` imports it only
when one of those constructors is called.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import inspect
import json
from collections.abc import AsyncGenerator, Awaitable, Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeVar

from mcpkit._extras import needs_extra

with needs_extra("openapi"):
    import httpx

from mcpkit.errors import McpError, ToolError
from mcpkit.openapi import (
    OpenApiArgumentError,
    OpenApiRequestError,
    OpenApiRoute,
    OpenApiStatusError,
    build_routes,
)
from mcpkit.openapi.requests import OpenApiResult
from mcpkit.openapi.schemas import as_object
from mcpkit.protocol import codes
from mcpkit.server.catalog.calling.invoke import Injected
from mcpkit.types import (
    AudioContent,
    CallToolResult,
    ContentBlock,
    ImageContent,
    TextContent,
    ToolAnnotations,
)

if TYPE_CHECKING:
    from mcpkit.protocol.events import RequestInfo
    from mcpkit.server.core import ServerCore

__all__ = [
    "add_routes",
    "app_lifespan",
    "build_server",
    "forwarding",
    "in_process_client",
    "incoming_headers",
    "is_url",
]


class _Request(Protocol):
    """What the handlers built here read of the request's Context (`mcpkit.Context`; this
    module sits below it, as the catalog does)."""

    @property
    def request_info(self) -> RequestInfo | None: ...


#: The Context parameter of the handlers built here (annotated `Injected`, the base of
#: `mcpkit.Context`, which is how the catalog knows it): a name no argument of a document is
#: likely to take (arguments come as `**arguments`, in any spelling, `x-currency` included).
_CTX: Final = "_mcpkit_context"

#: The server class `build_server` makes, so `Server.from_openapi` returns a `Server`.
S = TypeVar("S", bound="ServerCore")
#: A server lifespan: given the server, a context manager around its serving.
Lifespan = Callable[[Any], contextlib.AbstractAsyncContextManager[Any]]


def forwarding(routes: list[OpenApiRoute], headers: Collection[str]) -> list[OpenApiRoute]:
    """`routes`, each also forwarding `headers` (besides those its route map names)."""
    # Lower-cased: header names are case-insensitive, and `incoming_headers` lowers its own.
    extra = frozenset(h.lower() for h in headers)
    if not extra:
        return routes
    return [dataclasses.replace(r, forward_headers=r.forward_headers | extra) for r in routes]


def incoming_headers(ctx: _Request) -> dict[str, str]:
    """The MCP request's HTTP headers, first value of each (none over stdio and in memory)."""
    info = ctx.request_info
    found: dict[str, str] = {}
    # Latin-1 maps every byte to one character, so no header value fails to decode; the
    # first of a repeated header wins, as the API would see only one forwarded.
    for key, value in info.headers if info is not None else ():
        found.setdefault(key.decode("latin-1").lower(), value.decode("latin-1"))
    return found


def _json(value: object) -> str:
    """A decoded JSON answer as compact JSON text (bytes, in an error body, as their repr)."""
    return json.dumps(value, separators=(",", ":"), default=repr)


def _status_text(exc: OpenApiStatusError) -> str:
    """A non-2xx answer as the model reads it: the call, the status and the API's own body,
    which usually says what was wrong with the arguments."""
    body = exc.body if isinstance(exc.body, str) else _json(exc.body)
    return f"{exc.method} {exc.path} answered HTTP {exc.status}: {body}"


def _passthrough(verified: bool) -> str:
    """Why forwarding Authorization is refused, and what to do instead. `verified`: the
    refusal comes at a call whose token was checked, rather than when the server is built."""
    why = "this server verified it as its own" if verified else "the server checks tokens"
    return (
        "forwarding the Authorization header would hand the API the MCP client's token, "
        f"issued for this server ({why}): token passthrough, which the MCP spec forbids "
        "(basic/security_best_practices). Give the API's own credentials to the "
        "httpx.AsyncClient instead, and leave 'Authorization' out of forward_headers"
    )


async def _call(route: OpenApiRoute, ctx: _Request, arguments: Mapping[str, object]) -> Any:
    """The route's answer; what went wrong as a ToolError (the tool's error result)."""
    forwarded = route.headers_to_forward(incoming_headers(ctx))
    info = ctx.request_info
    # basic/security_best_practices, "Token Passthrough": a token issued to this server
    # must not reach another API. `build_server` refuses the setting where auth is known;
    # this catches the token a parent server checked for a mounted one.
    if "authorization" in forwarded and info is not None and info.auth is not None:
        # (A mounted server's parent may be the one that checked it: refused here too.)
        raise ToolError(_passthrough(verified=True))
    # Each failure becomes a tool error: the model sees it and may try other arguments
    # (server/tools, "Error Handling": errors of the call go in the result).
    try:
        return await route.call(arguments, forward_headers=forwarded)
    except OpenApiStatusError as exc:
        raise ToolError(_status_text(exc)) from None
    except (OpenApiArgumentError, OpenApiRequestError) as exc:
        raise ToolError(str(exc)) from None


def _content(result: OpenApiResult) -> list[ContentBlock]:
    """An answer's body as content: JSON as its text, images and audio as themselves, other
    bytes as base64 text saying what they are."""
    # An API that says nothing of its type sent bytes, as HTTP reads it (RFC 9110, 8.3).
    body, kind = result.body, result.content_type or "application/octet-stream"
    # An empty answer (a 204, say) is a success with no content, not an empty text block.
    if body is None or body in ("", b""):
        return []
    if isinstance(body, bytes):
        data = base64.b64encode(body).decode("ascii")
        if kind.startswith("image/"):
            return [ImageContent(data=data, mime_type=kind)]
        if kind.startswith("audio/"):
            return [AudioContent(data=data, mime_type=kind)]
        # No content block holds other bytes: text that says what they are beats an
        # embedded resource at a URI the API never gave.
        return [TextContent(text=f"{len(body)} bytes of {kind}, base64: {data}")]
    text = body if isinstance(body, str) else _json(body)
    return [TextContent(text=text)]


def _tool(route: OpenApiRoute) -> Callable[..., Awaitable[CallToolResult]]:
    """The route's tool function. Its arguments come as `**arguments`, since an API's
    parameter names need not be Python names (`x-currency`), and the route's input schema,
    given to `add_tool` apart, validates them. The signature set on it shows the catalog
    where the Context goes."""

    async def call(**arguments: Any) -> CallToolResult:
        ctx: _Request = arguments.pop(_CTX)
        result: OpenApiResult = await _call(route, ctx, arguments)
        return CallToolResult(
            content=_content(result), structured_content=result.structured_content
        )

    call.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [_ctx_parameter(), inspect.Parameter("arguments", inspect.Parameter.VAR_KEYWORD)]
    )
    # The hints too: the catalog finds the Context by its type hint, not by the signature.
    call.__annotations__ = {_CTX: Injected, "arguments": Any, "return": CallToolResult}
    return call


def _ctx_parameter() -> inspect.Parameter:
    """The Context parameter every function built here declares (`_CTX`)."""
    return inspect.Parameter(_CTX, inspect.Parameter.KEYWORD_ONLY, annotation=Injected)


async def _read(route: OpenApiRoute, ctx: _Request, arguments: Mapping[str, object]) -> Any:
    """The route's answer as a resource's contents; a failure as an MCP error (a 404 as
    "Resource not found", -32002)."""
    try:
        result = await _call(route, ctx, arguments)
    except ToolError as exc:
        # `_call` raised `from None`, which hides the cause from a traceback but keeps it
        # as the context: the status is read from there.
        cause = exc.__context__
        code = codes.INTERNAL_ERROR
        if isinstance(cause, OpenApiStatusError) and cause.status == 404:
            code = codes.RESOURCE_NOT_FOUND
        raise McpError(code, str(exc)) from None
    body: object = result.body
    # Text and bytes are served as they came; a decoded JSON body as JSON text again.
    if body is None or isinstance(body, str | bytes):
        return body if body is not None else ""
    return _json(body)


def _reader(route: OpenApiRoute) -> Callable[..., Awaitable[Any]]:
    """A resource's or template's function: the template's variables (as the URI gives
    them, strings) as its parameters, so that the server passes them."""

    async def read(**given: Any) -> Any:
        ctx: _Request = given.pop(_CTX)
        return await _read(route, ctx, route.arguments_from_uri(given))

    # Declared one by one, typed `str`: the catalog checks a template's variables against
    # its function's parameters, and passes each as the text the URI held.
    variables = [
        inspect.Parameter(v, inspect.Parameter.KEYWORD_ONLY, annotation=str)
        for v in route.variables
    ]
    read.__signature__ = inspect.Signature([*variables, _ctx_parameter()])  # type: ignore[attr-defined]
    # The hints too, as for a tool: they say which parameter is the Context.
    read.__annotations__ = {**{v: str for v in route.variables}, _CTX: Injected}
    return read


def _annotations(route: OpenApiRoute) -> ToolAnnotations:
    """The route's hints as tool annotations; an API is another system (open world)."""
    hints = route.hints
    return ToolAnnotations(
        read_only_hint=hints["readOnlyHint"],
        destructive_hint=hints["destructiveHint"],
        idempotent_hint=hints["idempotentHint"],
        open_world_hint=True,
    )


def add_routes(server: ServerCore, routes: list[OpenApiRoute]) -> None:
    """Register each route on `server` as what its kind says.

    A tool keeps the schemas the engine made from the document; a resource template's
    variables are the route's parameters, read back from the URI (`arguments_from_uri`).
    """
    for route in routes:
        common: dict[str, Any] = {
            "name": route.name,
            "title": route.title,
            "description": route.description,
            "tags": route.tags,
            "meta": dict(route.meta) if route.meta else None,  # the server's own copy
        }
        if route.kind == "tool":
            server.add_tool(
                _tool(route),
                input_schema=route.input_schema,
                output_schema=route.output_schema,
                annotations=_annotations(route),
                **common,
            )
        elif route.kind in ("resource", "resource_template") and route.uri is not None:
            server.add_resource(_reader(route), route.uri, mime_type=route.mime_type, **common)
        else:  # (an OpenApiRoute checks its kind; one excluded is never a route)
            raise ValueError(f"route {route.name!r}: a {route.kind!r} is not registered")


def app_lifespan(app: Any, state: dict[str, Any], then: Lifespan | None) -> Lifespan:
    """A server lifespan that runs `app`'s (a Starlette or FastAPI app) around `then`'s, the
    state the app's yields kept in `state` for its requests (as its server would)."""

    @contextlib.asynccontextmanager
    async def lifespan(server: Any) -> AsyncGenerator[Any, None]:
        # The app starts first and stops last: the server's own lifespan may call it.
        async with app.router.lifespan_context(app) as found:
            # Cleared first: a server run twice must not keep the first run's state.
            state.clear()
            if found is not None:
                state.update(found)
            if then is None:
                yield None
            else:
                async with then(server) as yielded:
                    yield yielded

    return lifespan


def in_process_client(app: Any, state: dict[str, Any], base_url: str) -> httpx.AsyncClient:
    """A client calling `app` in process (no network), each request with the app's lifespan
    state, as an ASGI server passes it (a copy per request, as Starlette's own does)."""

    # A copy per request, so one request's changes to the state do not leak into another's.
    async def with_state(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = {**scope, "state": dict(state)}
        await app(scope, receive, send)

    return httpx.AsyncClient(transport=httpx.ASGITransport(app=with_state), base_url=base_url)


def build_server(
    make: Callable[..., S],
    spec: Mapping[str, Any],
    *,
    client: httpx.AsyncClient,
    name: str | None,
    forward_headers: Collection[str],
    server_options: dict[str, Any],
    max_response_bytes: int | None,
    max_schema_nodes: int | None = None,
    **route_options: Any,
) -> S:
    """`make(name, **server_options)` with `spec`'s routes (`build_routes(**route_options)`)
    registered; its name and version are the document's title and version by default.
    `max_response_bytes` and `max_schema_nodes` None are the engine's defaults.

    Raises ValueError when the server checks tokens and a route would forward the
    Authorization header (token passthrough), and the engine's errors for a document it
    cannot read.
    """
    # Passed on only when given, so the engine keeps its own defaults in one place.
    if max_response_bytes is not None:
        route_options["max_response_bytes"] = max_response_bytes
    if max_schema_nodes is not None:
        route_options["max_schema_nodes"] = max_schema_nodes
    routes = forwarding(build_routes(spec, client=client, **route_options), forward_headers)
    info = as_object(spec.get("info")) or {}
    server_options.setdefault("version", str(info.get("version") or "0.0.0"))
    # Refused here, where the setting is written, rather than at every call (`_call`).
    if server_options.get("auth") is not None and any(
        "authorization" in r.forward_headers for r in routes
    ):
        raise ValueError(_passthrough(verified=False))
    server = make(name or str(info.get("title") or "openapi"), **server_options)
    add_routes(server, routes)
    return server


def is_url(spec: object) -> bool:
    """Whether `spec` is a URL. `from_openapi` refuses one, naming `from_openapi_url`: a
    fetch needs `await`, which a plain constructor cannot do."""
    return isinstance(spec, str) and spec.startswith(("http://", "https://"))
