"""The Streamable HTTP server: one MCP endpoint as a plain ASGI 3 application (spec:
basic/transports, "Streamable HTTP"). Build it with `Server.http_app()`.

Here: its settings, the ASGI entry, and the checks every request passes before it is routed
by method to one of the binding's parts it holds (`transports.http`: `post.PostRequests`,
`get_delete.GetDeleteRequests`, and the sessions both serve, `hosting.AppSessions`), or, on
another path, to what a deployment serves beside the endpoint (health, the approval page,
the legacy endpoints, custom routes); and its lifetime (`app_lifespan.AppLifespan`). It sits
in the deployment package because it builds those: the binding never imports it."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any, Literal, Unpack

from mcpkit._asgi import Receive, Scope, Send, local_path
from mcpkit.auth.server.verifier import AccessToken
from mcpkit.stores.approvals import APPROVAL_PATH, approvals_of
from mcpkit.stores.deadline import StoreUnavailable
from mcpkit.transports.deployment.app_lifespan import AppLifespan
from mcpkit.transports.deployment.app_settings import AppSettings, HttpSettings
from mcpkit.transports.deployment.approval_page import serve_approval_page
from mcpkit.transports.deployment.capacity import BodyBytes
from mcpkit.transports.deployment.custom_routes import CustomRoutes, check_routes, serve_route
from mcpkit.transports.deployment.forwarded import TrustedProxies
from mcpkit.transports.deployment.guard import Guard, call_route
from mcpkit.transports.deployment.health import HealthRoutes, store_down
from mcpkit.transports.deployment.hosted_server import HostedServer
from mcpkit.transports.deployment.mirror_memos import MirrorMemos
from mcpkit.transports.deployment.relay import StreamRelay
from mcpkit.transports.deployment.session_records import RecordKeeper
from mcpkit.transports.deployment.slow_readers import QueuedBytes
from mcpkit.transports.http._exchange import (
    send_refusal,
)
from mcpkit.transports.http.checks import (
    Refusal,
    check_request,
    distinct,
    refuse,
)
from mcpkit.transports.http.get_delete import GetDeleteRequests
from mcpkit.transports.http.hosting import AppSessions
from mcpkit.transports.http.live_sessions import (
    HttpSession,
    MemorySessionRegistry,
    SessionRegistry,
)
from mcpkit.transports.http.own_calls import OwnCalls
from mcpkit.transports.http.post import PostRequests, read_body
from mcpkit.transports.http.streams import StreamSettings
from mcpkit.transports.legacy_sse.endpoint import legacy_endpoint

__all__ = ["HttpSettings", "McpHttpApp"]

logger = logging.getLogger("mcpkit.http")


class McpHttpApp:
    """An ASGI app serving `server` at `path` (POST, GET, DELETE) and running its lifespan.

    Settings: `json_response` answers each POST with one JSON object instead of an SSE
    stream; `allow_get` and `allow_delete` offer the GET stream and DELETE (else 405);
    `max_sessions` live sessions at most, of which `max_sessions_per_user` for one
    authenticated user and `max_sessions_per_address` for one client address without auth
    (past a cap the longest-idle session goes, or 503 when all are busy);
    `session_idle_timeout` seconds without a request, an open stream or a call whose client
    is still connected end a session. `max_requests_per_user` and `max_requests_per_address`
    are the same caps for 2026-07-28 requests in flight (calls running, `subscriptions/listen`
    streams open), which belong to no session: past one the client's oldest listen is
    answered (its graceful end), or 503 when each of its requests is a call still running.
    One budget for calls and listens, as both hold a connection, a task and memory until they
    end, and only a listen is the server's to end. `bind_host` and `bind_port` say where
    the server listens: DNS rebinding protection (`allowed_origins`, `allowed_hosts`,
    `dns_rebinding_protection`, see `OriginPolicy.for_bind`) is on for a loopback bind.
    `legacy_sse` also serves the 2024-11-05 HTTP+SSE transport (GET /sse, POST /messages;
    a `LegacySse` moves them), with the same protections and limits; False turns it off.
    `forwarded_allow_ips` are the addresses and networks (such as "10.0.0.0/8") of the
    reverse proxies in front: a request from one of them counts as from the client its
    `X-Forwarded-For` names (the right-most entry that is not a trusted proxy), in every
    per-address cap; from anyone else the header is ignored (`transports.deployment.forwarded`).

    Resumption (`resumable`, on by default): every SSE event carries an id naming its stream,
    and `event_store` (default: a `MemoryEventStore` keeping the last `replay_window` events
    of each stream) keeps them for a GET with `Last-Event-ID`; a stream cut before its end
    stays resumable `replay_retention` seconds after it ends. `sse_retry` is the reconnection
    delay (seconds) sent when the server closes a stream early (`ctx.close_sse_stream()`);
    `keepalive_interval` seconds without a message on a stream send a comment (None: never).
    `stateless` serves each POST with a fresh, already initialized session freed after its
    answer: no Mcp-Session-Id, no GET stream or DELETE (405), no requests to the client.

    `session_store` (a `mcpkit.stores.sessions.SessionStore`; None: none) keeps each
    session's record: written when the session opens and when it changes, read when a
    request names a session this app does not hold (it ended with a restarted process, or
    another process opened it), which is then rebuilt from it (`Server.restore`).

    `auth` protects the endpoint (docs/auth.md): every request needs a bearer token the
    `ProtectedResource`'s verifier accepts, a session answers only the identity that opened
    it, and the metadata and the `routes` apps are served beside the endpoint.

    What all clients together may cost (docs/http.md, "Limits and exposure"): bodies being
    read hold at most `max_body_bytes` at once (503 past it); answers queued for clients that
    read slowly, in every stream and (served with `uvicorn_protocol()`) every connection's
    write buffer, at most `max_queued_bytes` (past it the reader holding the most is ended).
    `header_timeout` and `body_timeout` (seconds for a request's headers, and for its body
    after them: 408), `keep_alive` (seconds an idle connection waits for its next request:
    above a load balancer's idle timeout) and `max_connections` (open at once; None: from
    the file-descriptor limit) are enforced by the uvicorn protocol `uvicorn_protocol()`
    gives, which `mcpkit run` and `server.run()` serve with: ASGI sees no connection before
    its headers are complete.

    `health_path` answers 200 while the process serves, `ready_path` 200 until a shutdown
    begins and 503 with Retry-After after, or while the server's store does not answer
    (`transports.deployment.health`); None serves neither. A request that needs the store when it
    does not answer within its timeout gets 503 with Retry-After (`health.store_down`).

    `custom_routes` are the server's own routes (`@server.custom_route`), served on paths
    that are none of the app's own, which they may not answer (refused here, naming both).

    `mirror_memos` is what the checks of the server's 2026-07-28 POSTs consult and remember
    of the values they read (`Server.http_app` gives every app of the server its one; None:
    the app's own).
    """

    def __init__(
        self,
        server: HostedServer,
        *,
        path: str = "/mcp",
        clock: Callable[[], float] = time.monotonic,
        mirror_memos: MirrorMemos | None = None,
        custom_routes: CustomRoutes | None = None,
        **settings: Unpack[HttpSettings],
    ) -> None:
        self.server = server
        self.path = path
        given = AppSettings(**settings)
        self.policy = given.policy(path, server.max_message_size)
        self.health = HealthRoutes(given.health_path, given.ready_path, self._check_store)
        self.bodies = BodyBytes(given.max_body_bytes)
        self.queued = QueuedBytes(given.max_queued_bytes)
        limits = given.connection_limits()
        self.header_timeout, self.body_timeout = limits.header_timeout, limits.body_timeout
        self.keep_alive, self.max_connections = limits.keep_alive, limits.max_connections
        self.proxies = TrustedProxies.parse(given.forwarded_allow_ips)
        self.json_response, self.stateless = given.json_response, given.stateless
        self.max_sessions = given.max_sessions
        self.session_idle_timeout = given.session_idle_timeout
        self.session_store = given.session_store
        self.sessions: SessionRegistry[HttpSession] = MemorySessionRegistry(
            max_sessions=given.max_sessions, idle_timeout=given.session_idle_timeout
        )
        self.client_caps, self.request_caps = given.client_caps()
        relayed = server.store.liveness is not None
        self.streams = given.streams(relayed=relayed, queued=self.queued)
        self.stateless_streams = StreamSettings(
            store=None, keepalive_interval=None, queued=self.queued
        )
        self._own_calls = OwnCalls(self.request_caps)  # 2026-07-28 requests served now
        self._local = path.rstrip("/") or "/"
        self._slashed = self._local.rstrip("/") + "/"
        self._not_found = _not_found(self._local)
        self._warned = False
        auth = given.auth
        self.guard = None if auth is None else Guard(auth, path, server)
        self.legacy = legacy_endpoint(
            server,
            given.legacy_sse,
            self.policy.origin,
            given.max_sessions,
            given.session_idle_timeout,
            clock,
            mcp_path=path,
            client_caps=self.client_caps,
            bodies=self.bodies,
            queued=self.queued,
        )
        if self.legacy is not None:
            self.legacy.guard = self.guard
        self.custom_routes = CustomRoutes() if custom_routes is None else custom_routes
        if self.custom_routes:
            check_routes(self.custom_routes, path, self.health, self.guard, self.legacy, auth)
        self._assemble(clock, mirror_memos)

    def _assemble(self, clock: Callable[[], float], mirror_memos: MirrorMemos | None) -> None:
        """Its parts: the sessions, and the paths of POST and of GET and DELETE, which serve
        them."""
        server = self.server
        self.hosting = AppSessions(
            server,
            sessions=self.sessions,
            client_caps=self.client_caps,
            streams=self.streams,
            json_response=self.json_response,
            clock=clock,
        )
        store = self.session_store
        idle = self.session_idle_timeout
        #: The sessions' records in the `session_store` (None: none is kept).
        self.records = None if store is None else RecordKeeper(server, self.hosting, store, idle)
        self.post = PostRequests(
            server,
            self.hosting,
            self._own_calls,
            policy=self.policy,
            guard=self.guard,
            stateless=self.stateless,
            request_caps=self.request_caps,
            stateless_streams=self.stateless_streams,
            mirror_memos=(
                MirrorMemos(server.param_headers) if mirror_memos is None else mirror_memos
            ),
            records=self.records,
        )
        relay = StreamRelay(server, self.hosting)
        self._get_delete = GetDeleteRequests(server, self.hosting, self.policy, relay, self.records)
        self.lifecycle = AppLifespan(
            server,
            self.hosting,
            idle_timeout=idle,
            records=self.records,
            own_calls=self._own_calls,
            health=self.health,
            relay=relay,
            legacy=self.legacy,
        )
        # (Its `__call__`, bound once: calling the object itself looks the method up each time.)
        self._post = self.post.__call__
        self._max_size = self.policy.max_message_size  # (the policy's, read once: it is frozen)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # An HTTP request is served here, not in a coroutine of its own: every request
        # passes through each level of coroutines there is.
        if scope["type"] != "http":
            await self._not_http(scope, receive, send)
            return
        if self.proxies is not None:  # before anything reads the client's address
            self.proxies.apply(scope)
        # For the MCP endpoint's path? Unmounted (the usual case), two compares; below a
        # mount point, its path below it.
        path: str = scope["path"]
        if not (
            local_path(scope) == self._local
            if scope.get("root_path")
            else path == self.path or path == self._slashed
        ):
            await self._elsewhere(scope, receive, send)
            return
        if not self._warned and not self.lifecycle.ran:
            self._warn_no_lifespan()
        method: str = scope["method"]
        headers = scope["headers"]
        # The headers by name, read by every check that follows; None when a name repeats.
        each = distinct(headers)
        refusal = check_request(self.policy, method, headers, each)
        token: AccessToken | None = None
        if refusal is None and self.guard is not None:
            # basic/authorization: the token is checked before anything touches a session.
            found = await self.guard.admit(scope)
            refusal, token = (found, None) if isinstance(found, Refusal) else (None, found)
        if refusal is not None:
            logger.info("refused %s: %s", method, refusal.message)
            await send_refusal(send, refusal)
            return
        try:
            if method == "POST":
                # (The body read is no name's here: no frame keeps it while it is served.)
                reading = read_body(receive, self._max_size, self.bodies)
                await self._post(scope, await reading, receive, send, token, each)
            elif method == "GET":
                await self._get_delete.get(scope, receive, send, token)
            else:
                await self._get_delete.delete(scope, send, token)
        except StoreUnavailable as exc:
            # Only before a response starts: once one has, the store's failures are the
            # stream's (`Stream.put`) or logged (`RecordKeeper.save_quietly`).
            logger.warning("answered %s with 503: %s", method, exc)
            await send_refusal(send, store_down(self.server.store))

    def close_streams(self, *, calls: bool = False) -> None:
        """`AppLifespan.close_streams` (a shutdown begins: `/readyz` answers 503 then)."""
        self.lifecycle.close_streams(calls=calls)

    def lifespan(self) -> AbstractAsyncContextManager[None]:
        """`AppLifespan.lifespan`, to enter from the outer app's lifespan when this app is
        mounted in another: `Starlette(..., lifespan=lambda _: app.lifespan())`."""
        return self.lifecycle.lifespan()

    async def expire_idle(self) -> int:
        """`AppLifespan.expire_idle`: how many idle sessions ended."""
        return await self.lifecycle.expire_idle()

    async def aclose_sessions(self) -> None:
        """`AppLifespan.aclose_sessions`: end every live session (at shutdown)."""
        await self.lifecycle.aclose_sessions()

    async def _check_store(self) -> None:
        """`/readyz`'s look at the store (`Stores.check`, within the store's own timeout)."""
        store = self.server.store
        await store.check(store.timeout)

    def uvicorn_protocol(self, http: Literal["httptools", "h11"] = "httptools") -> type[Any]:
        """uvicorn's `http` protocol class with this app's `header_timeout`, `body_timeout`,
        `keep_alive` (give uvicorn the same as `timeout_keep_alive`) and `max_connections`,
        its writes joined per loop turn and its write buffer counted in
        `max_queued_bytes`: for `uvicorn.run(app, http=app.uvicorn_protocol(),
        timeout_keep_alive=app.keep_alive)` when serving the app yourself.
        Raises `UvicornShapeChanged` when the installed uvicorn lacks what the connection
        limits read of it (`mcpkit.transports.deployment.uvicorn_protocol`, which says what)."""
        # The guard reads uvicorn's protocol state, so it is the inner class; the joined
        # writes only wrap the transport, from outside. Imported here: the one module that
        # hooks into uvicorn loads only when uvicorn serves the app.
        from mcpkit.transports.deployment.connection_limits import guarded
        from mcpkit.transports.deployment.uvicorn_protocol import joined, uvicorn_protocol

        return joined(
            guarded(
                uvicorn_protocol(http),
                header_timeout=self.header_timeout,
                body_timeout=self.body_timeout,
                keep_alive=self.keep_alive,
                max_connections=self.max_connections,
            ),
            self.queued,
        )

    async def _not_http(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The lifespan is served; any other kind of scope (websocket) is not."""
        if scope["type"] == "lifespan":
            await self.lifecycle.serve(receive, send)

    def _warn_no_lifespan(self) -> None:
        """Say once, at the first request, that the lifespan never ran (the app is mounted in
        another ASGI app that does not enter `lifespan()`): the server's lifespan hook has
        not run and idle sessions are not swept."""
        self._warned = True
        has_hook = self.server.lifespan is not None
        hook = " (the server's lifespan hook has not run)" if has_hook else ""
        logger.warning(
            "serving without the ASGI lifespan%s: when mounting this app in another, enter "
            "app.lifespan() in the outer app's lifespan (docs/http.md, \"Inside another ASGI "
            'app")',
            hook,
        )

    async def _elsewhere(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Another path: the health routes, the approval page, the protected resource
        metadata, the legacy endpoints, the custom routes, the apps of `auth.routes`, in this
        order, else 404."""
        here = local_path(scope)
        if self.health.serves(here):
            await self.health.answer(scope, here, send)
            return
        if here == APPROVAL_PATH:  # (`when_cannot_ask="url"` tools, docs/server.md)
            approvals = approvals_of(self.server.store)
            await serve_approval_page(scope, receive, send, approvals, self.policy.origin)
            return
        guard = self.guard
        if guard is not None and await guard.serve_metadata(scope, send):
            return
        legacy = self.legacy
        if legacy is not None and legacy.serves(scope):
            await legacy(scope, receive, send)
            return
        route = self.custom_routes.find(scope) if self.custom_routes else None
        if route is not None:
            if not self._warned and not self.lifecycle.ran:
                self._warn_no_lifespan()
            limit = self.server.max_message_size
            await serve_route(route, self.policy.origin, guard, limit, scope, receive, send)
            return
        mounted = None if guard is None else guard.route(scope)
        if mounted is not None:
            await call_route(*mounted, scope, receive, send)
        else:
            root = str(scope.get("root_path", "")).rstrip("/")
            # Below a mount point the endpoint is the mount's path and ours.
            await send_refusal(send, _not_found(root + self._local) if root else self._not_found)


def _not_found(endpoint: str) -> Refusal:
    """The 404 of a path this app does not serve, naming the one it does: a client pointed at
    the server's root learns where to go."""
    return refuse(404, f"no MCP endpoint at this path: this server's MCP endpoint is {endpoint}")
