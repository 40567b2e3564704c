"""The routes of `@server.custom_route(path, methods=[...])` as FastMCP's `custom_route` writes
them: a handler taking a Starlette `Request` and returning a Starlette `Response`, made into a
`CustomRoute` (`transports.deployment.custom_routes`) that every HTTP app of the server serves.

Starlette is imported when a route is registered, never by `import mcpkit`; it matches the
path (with `{name}` parameters: `request.path_params`) and answers 405 for another method.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias, cast

from mcpkit._asgi import Receive, Scope, Send
from mcpkit.auth.server.resource import WELL_KNOWN, ASGIApp
from mcpkit.transports.deployment.custom_routes import HTTP_METHODS, CustomRoute

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

__all__ = ["RouteHandler", "checked_methods", "make_route", "named", "register_route"]

#: What `@server.custom_route` decorates: `async def handler(request) -> Response` (a plain
#: `def` runs in a worker thread, as Starlette runs it).
RouteHandler: TypeAlias = "Callable[[Request], Awaitable[Response]] | Callable[[Request], Response]"

_NEEDS_STARLETTE = (
    "@server.custom_route needs Starlette, whose Request its handlers take and whose Response "
    "they return: pip install starlette"
)


def checked_methods(path: str, methods: Sequence[str]) -> frozenset[str]:
    """`methods` in upper case, once `path` and they are checked: a misspelt method, or a path
    the server's authorization owns, is refused where the route is written."""
    if isinstance(methods, str):
        raise TypeError(
            f"custom_route({path!r}, methods={methods!r}): methods is a list, such as "
            f"methods=[{methods!r}]"
        )
    upper = frozenset(method.upper() for method in methods)
    unknown = sorted(upper - HTTP_METHODS)
    if not upper or unknown:
        raise ValueError(
            f"custom_route({path!r}, methods={list(methods)!r}): "
            + (f"{', '.join(unknown)} is not an HTTP method" if unknown else "give a method")
            + f"; use some of {', '.join(sorted(HTTP_METHODS))}"
        )
    if not path.startswith("/"):
        raise ValueError(f"custom_route({path!r}): a route's path starts with '/', as in /health")
    if path == WELL_KNOWN or path.startswith(WELL_KNOWN + "/"):
        raise ValueError(
            f"custom_route({path!r}): {WELL_KNOWN} is where the protected resource metadata is "
            "served (auth): give the route another path"
        )
    return upper


def make_route(
    path: str,
    methods: frozenset[str],
    handler: Callable[..., Any],
    *,
    name: str | None,
    include_in_schema: bool,
    auth: bool,
) -> CustomRoute:
    """The route `handler` serves at `path` for `methods` (`checked_methods`)."""
    try:
        from starlette.routing import Match, Route
    except ImportError:
        raise ImportError(_NEEDS_STARLETTE) from None
    route = Route(
        path, handler, methods=sorted(methods), name=name, include_in_schema=include_in_schema
    )

    def matches(scope: Any) -> bool:
        return route.matches(scope)[0] is not Match.NONE

    described = handler.__qualname__ if inspect.isfunction(handler) else repr(handler)
    return CustomRoute(path, methods, route, matches, auth, described)


def register_route(routes: list[CustomRoute], route: CustomRoute) -> None:
    """Add `route`, refusing one that takes a method of a route already on its path."""
    for known in routes:
        shared = known.methods & route.methods
        if known.path == route.path and shared:
            raise ValueError(
                f"custom_route({route.path!r}) of {route.handler} takes "
                f"{', '.join(sorted(shared))}, which {known.handler} already serves there: "
                "one handler per path and method"
            )
    routes.append(route)


def named(routes: Sequence[CustomRoute]) -> list[CustomRoute]:
    """`routes`, each served with a Starlette `Router` of them all as `scope["router"]`, so that
    `request.url_for(name)` finds a route by the `name` it was registered with, below the
    point the server's app is mounted at (an outer app's routes are not found that way)."""
    from starlette.routing import BaseRoute, Router

    router = Router(routes=[cast(BaseRoute, route.app) for route in routes])
    return [dataclasses.replace(route, app=_Routed(router, route.app)) for route in routes]


class _Routed:
    """A route's app, given the router of all the routes (`named`)."""

    __slots__ = ("app", "router")

    def __init__(self, router: object, app: ASGIApp) -> None:
        self.router = router
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The router's paths are below the mount point of the server's app: `base_url`
        # (Starlette's, from `app_root_path`) is where that app is, not the outer app's root.
        root = scope.get("root_path", "")
        await self.app({**scope, "router": self.router, "app_root_path": root}, receive, send)
