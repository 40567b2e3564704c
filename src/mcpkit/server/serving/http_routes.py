"""`HttpRoutes`: the routes a server serves beside its MCP endpoint (`@server.custom_route`), an
object the `Server` holds and hands `custom_route` over to; and `routes_of`, the routes of a
server and of the servers mounted in it, as its HTTP apps serve them
(`transports.deployment.custom_routes`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from mcpkit.server.catalog.mounts import Mount
    from mcpkit.server.serving.card_publishing import PublishedCard
    from mcpkit.transports.deployment.app import HttpSettings
    from mcpkit.transports.deployment.custom_routes import CustomRoute, CustomRoutes
    from mcpkit.transports.deployment.starlette_routes import RouteHandler
    from mcpkit.types import Implementation

__all__ = ["Carded", "HttpRoutes", "Routed", "routes_of", "with_card"]


class Routed(Protocol):
    """What `routes_of` reads of a server: its routes and the servers mounted in it."""

    @property
    def custom_routes(self) -> tuple[CustomRoute, ...]: ...

    @property
    def mounts(self) -> tuple[Mount[Routed], ...]: ...


class HttpRoutes:
    """A server's custom routes, in the order they were registered (`routes`).

    Kept as plain route objects, not an app: every HTTP app of the server is built from
    them later (`http_app`), so a route registered after an app is built reaches the next
    app only."""

    def __init__(self) -> None:
        self.routes: list[CustomRoute] = []

    def custom_route(
        self,
        path: str,
        methods: Sequence[str],
        name: str | None = None,
        include_in_schema: bool = True,
        *,
        auth: bool = False,
    ) -> Callable[[RouteHandler], RouteHandler]:
        """Serve an HTTP route beside the MCP endpoint, in every HTTP app of this server
        (and of a server it is mounted in): `@server.custom_route("/health", methods=["GET"])`
        on `async def health(request: Request) -> Response` (Starlette's; FastMCP's
        `custom_route`). The server's lifespan has started before a route is served; the
        endpoint's Host and Origin checks apply. `auth=True` asks for the bearer token the
        endpoint asks for (`Server(auth=...)`), found as `request.auth`. `name` is what
        `request.url_for(name)` finds it by; `include_in_schema` is taken as FastMCP takes it,
        and means nothing here (no schema of the routes is made). A path the app serves
        itself (the endpoint, the health routes, the auth metadata, the legacy SSE paths) is
        refused when the app is built, naming both (docs/http.md, "Routes beside the
        endpoint")."""
        # Imported here: the route helpers need Starlette, which a server that registers no
        # route must not load.
        from mcpkit.transports.deployment.starlette_routes import (
            checked_methods,
            make_route,
            register_route,
        )

        # Checked at decoration, before any handler exists, so a bad method is an error at
        # the line that declares the route.
        upper = checked_methods(path, methods)

        def decorator(handler: RouteHandler) -> RouteHandler:
            """Register `handler` and hand it back unchanged, so it stays callable (and
            testable) as the plain function it was written as."""
            route = make_route(
                path,
                upper,
                handler,
                name=name,
                include_in_schema=include_in_schema,
                auth=auth,
            )
            register_route(self.routes, route)
            return handler

        return decorator


def routes_of(server: Routed) -> CustomRoutes | None:
    """The custom routes of `server` and of the servers mounted in it (a mounted server's
    routes after its parent's, as FastMCP serves them); None when there are none."""
    from mcpkit.transports.deployment.custom_routes import CustomRoutes
    from mcpkit.transports.deployment.starlette_routes import named, register_route

    # Breadth-first: the parent's routes, then each mounted server's, level by level. A
    # mounted server's route for a path and method already served is refused, not shadowed.
    found: list[CustomRoute] = []
    pending: list[Routed] = [server]
    while pending:
        each = pending.pop(0)
        for route in each.custom_routes:  # (one path and method served once: refused)
            register_route(found, route)
        pending.extend(mount.server for mount in each.mounts)
    return CustomRoutes(named(found)) if found else None


class Carded(Protocol):
    """What `with_card` reads of a server: its `serverInfo` and its `publish_card`. Read
    when each app is built, so a card published after an app was built reaches the
    next app only, as custom routes do."""

    @property
    def info(self) -> Implementation: ...

    @property
    def published_card(self) -> PublishedCard | None: ...


def with_card(
    routes: CustomRoutes | None, server: Carded, endpoint: str, settings: HttpSettings
) -> CustomRoutes | None:
    """`routes` and, when the server published a card (`publish_card`), the card's routes
    for an app at `endpoint` built with `settings` (its `auth`, its `legacy_sse`)."""
    published = server.published_card
    if published is None:
        return routes
    from mcpkit.server.serving.card_publishing import card_routes
    from mcpkit.transports.deployment.custom_routes import CustomRoutes
    from mcpkit.transports.legacy_sse.endpoint import LegacySse

    # The card lists what this app will really serve: the legacy SSE remote only when the
    # app serves it (on by default), the bearer header only when the app checks tokens.
    legacy = settings.get("legacy_sse", True)
    legacy_path = None
    if legacy is not False:
        legacy_path = (legacy if isinstance(legacy, LegacySse) else LegacySse()).sse_path
    bearer = settings.get("auth") is not None
    found = card_routes(server.info, published, endpoint, bearer=bearer, legacy_path=legacy_path)
    return CustomRoutes((*(routes or ()), *found))
