"""Routes of the server's own served beside the MCP endpoint (`@server.custom_route`): a health
check, a webhook, an OAuth callback of a tool. The app looks them up only for a path that is
none of its own (`McpHttpApp._elsewhere`), so the endpoint's requests never see the table.

A route passes the endpoint's Host and Origin checks (DNS rebinding protection: a browser page
must not reach a loopback server's routes either) and, when it asks for `auth`, its bearer
token check; the token verified is `scope["auth"]` (Starlette's `request.auth`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Final

from mcpkit._asgi import Message, Receive, Scope, Send
from mcpkit.auth.server.resource import ASGIApp
from mcpkit.stores.approvals import APPROVAL_PATH
from mcpkit.transports.deployment.guard import Guard
from mcpkit.transports.guards.origin import OriginPolicy
from mcpkit.transports.http._exchange import send_refusal
from mcpkit.transports.http.checks import Refusal, check_origin, refuse

if TYPE_CHECKING:
    from mcpkit.auth.server.resource import ProtectedResource
    from mcpkit.transports.deployment.health import HealthRoutes
    from mcpkit.transports.legacy_sse.endpoint import LegacySseEndpoint

__all__ = ["HTTP_METHODS", "CustomRoute", "CustomRoutes", "check_routes", "serve_route"]

#: The methods a route may name (RFC 9110 section 9, and PATCH).
HTTP_METHODS: Final = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"}
)


@dataclasses.dataclass(frozen=True, slots=True)
class CustomRoute:
    """One route: its `path` as written (`/items/{id}`), its `methods`, the ASGI `app` serving
    it (it answers 405 itself for another method on its path), `matches`, whether a request's
    path is this route's (its methods aside), `auth`, whether it needs the server's bearer
    token, and `handler`, what to call it in a message."""

    path: str
    methods: frozenset[str]
    app: ASGIApp
    matches: Callable[[Scope], bool]
    auth: bool
    handler: str

    def answers(self, path: str) -> bool:
        """Whether a request for `path` (below the app's mount point) would reach this route."""
        scope: Scope = {"type": "http", "path": path, "root_path": "", "method": "GET"}
        return self.matches(scope)


class CustomRoutes:
    """The routes an `McpHttpApp` serves besides its own, first match first."""

    __slots__ = ("_routes",)

    def __init__(self, routes: Iterable[CustomRoute] = ()) -> None:
        self._routes = tuple(routes)

    def __bool__(self) -> bool:
        return bool(self._routes)

    def __iter__(self) -> Iterator[CustomRoute]:
        return iter(self._routes)

    def find(self, scope: Scope) -> CustomRoute | None:
        """The route a request's path is for, or None."""
        for route in self._routes:
            if route.matches(scope):
                return route
        return None

    def check(self, taken: Mapping[str, str], prefixes: Sequence[str], guard: Guard | None) -> None:
        """Refuse a route that would answer a path the app serves itself (`taken`: each path,
        and what it is), lie below an app of `ProtectedResource(routes=...)` (`prefixes`), or
        ask for the bearer token check of an app that has none (`guard`)."""
        for route in self._routes:
            for path, what in taken.items():
                if route.answers(path):
                    raise ValueError(
                        f"custom route {route.path!r} ({route.handler}) would answer {path!r}, "
                        f"{what}: give the route another path, or move {what}"
                    )
            for prefix in prefixes:
                bare = prefix.rstrip("/")
                if bare and (route.path == bare or route.path.startswith(bare + "/")):
                    raise ValueError(
                        f"custom route {route.path!r} ({route.handler}) lies below "
                        f"{prefix!r}, an app of ProtectedResource(routes=...): give the route "
                        "another path"
                    )
            if route.auth and guard is None:
                raise ValueError(
                    f"custom route {route.path!r} ({route.handler}) asks for auth=True, but "
                    "this app serves without authorization: give the server auth= "
                    "(docs/auth.md), or register the route with auth=False"
                )


def check_routes(
    routes: CustomRoutes,
    endpoint: str,
    health: HealthRoutes,
    guard: Guard | None,
    legacy: LegacySseEndpoint | None,
    auth: ProtectedResource | None,
) -> None:
    """Refuse a custom route on a path an app serves itself (`CustomRoutes.check`): its MCP
    `endpoint`, its `health` routes, the approval page, the metadata of its `guard`, the
    `legacy` SSE paths, the apps of `auth.routes`."""
    taken = {endpoint: "the MCP endpoint", endpoint.rstrip("/") + "/": "the MCP endpoint"}
    for name, path in (("health_path", health.live), ("ready_path", health.ready)):
        if path is not None:
            taken[path] = f"the health route ({name})"
    taken[APPROVAL_PATH] = "the approval page"
    if guard is not None:
        for path in guard.metadata_paths:
            taken[path] = "the protected resource metadata (auth)"
    if legacy is not None:
        for path in (legacy.settings.sse_path, legacy.settings.messages_path):
            taken[path] = "the legacy SSE endpoint (legacy_sse)"
    routes.check(taken, () if auth is None else tuple(auth.routes), guard)


async def serve_route(
    route: CustomRoute,
    origin: OriginPolicy,
    guard: Guard | None,
    max_bytes: int,
    scope: Scope,
    receive: Receive,
    send: Send,
) -> None:
    """Serve a request on `route`, once the Host and Origin checks (and its token, when the
    route asks for auth) let it through; its body is held to `max_bytes` (the server's
    `max_message_size`), as a message to the endpoint is: 413 past it."""
    refusal = check_origin(origin, scope["headers"])
    if refusal is None and route.auth:
        assert guard is not None  # (`CustomRoutes.check` refused the route otherwise)
        found = await guard.admit(scope)
        if isinstance(found, Refusal):
            refusal = found
        else:
            scope = {**scope, "auth": found}
    if refusal is None and _declared_length(scope) > max_bytes:
        refusal = _too_large(max_bytes)
    if refusal is not None:
        await send_refusal(send, refusal)
        return
    await _bounded(route.app, max_bytes, scope, receive, send)


class _TooLarge(Exception):
    """A route's body went past its bound while the route read it."""


def _declared_length(scope: Scope) -> int:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else 0  # (uvicorn refuses a bad one)
    return 0


def _too_large(max_bytes: int) -> Refusal:
    return refuse(
        413, f"the request body is over this server's max_message_size ({max_bytes} bytes)"
    )


async def _bounded(
    app: ASGIApp, max_bytes: int, scope: Scope, receive: Receive, send: Send
) -> None:
    """`app` with its body counted as it reads it (a body without Content-Length, chunked):
    past `max_bytes` its read fails, and the client gets 413 unless an answer began."""
    read = 0
    began = False

    async def counted() -> Message:
        nonlocal read
        message = await receive()
        if message["type"] == "http.request":
            body = message.get("body", b"")
            read += len(body) if isinstance(body, bytes) else 0
            if read > max_bytes:
                raise _TooLarge
        return message

    async def watched(message: Message) -> None:
        nonlocal began
        began = began or message["type"] == "http.response.start"
        await send(message)

    try:
        await app(scope, counted, watched)
    except _TooLarge:
        if not began:
            await send_refusal(send, _too_large(max_bytes))
