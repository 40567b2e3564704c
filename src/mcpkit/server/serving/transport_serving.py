"""`TransportServing`: serving a `Server` over a channel, stdio or Streamable HTTP, an object
the `Server` holds (its `serve`, `run_stdio`, `http_app` and `run` hand over to it):
`serve(channel)` runs one session, `run_stdio()` one over the process's stdio, `http_app()`
builds the ASGI app, and `run()` does one or the other in the foreground.

Each is a way into the server, not part of it: what they need of it is `Servable` (its
sessions, its lifespan, building a session), so this module never names `Server`. What
`run(workers=N)` does in the supervisor is `supervising`; what every `run()` sets up around
serving (the loop, logging, a store that answers) is `_run`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any, Literal, Protocol

from mcpkit.protocol.events import RequestReceived
from mcpkit.runtime.channel import MessageChannel
from mcpkit.runtime.response import Response
from mcpkit.server.serving._run import (
    check_run_allowed,
    checked,
    log_to_stderr,
    loop_factory,
    until_terminated,
)

if TYPE_CHECKING:
    from typing import Unpack

    from mcpkit.auth.server.resource import ProtectedResource
    from mcpkit.server.catalog.mounts import Mount
    from mcpkit.server.catalog.registry import Registry
    from mcpkit.server.catalog.tools import ToolSpec
    from mcpkit.server.request_peer import RequestPeer
    from mcpkit.server.serving._http_run import HttpImplementation
    from mcpkit.server.serving.card_publishing import PublishedCard
    from mcpkit.server.serving.http_routes import Routed
    from mcpkit.server.session import Peer, ServerSessionHandle
    from mcpkit.serverless.aws_lambda import LambdaHandler
    from mcpkit.stores.broker import Broker
    from mcpkit.stores.component_rules import ComponentRule
    from mcpkit.stores.sessions import SessionRecord
    from mcpkit.stores.url import Stores
    from mcpkit.transports.deployment.app import HttpSettings, McpHttpApp
    from mcpkit.transports.deployment.custom_routes import CustomRoute
    from mcpkit.transports.deployment.mirror_memos import MirrorMemos
    from mcpkit.transports.stdio_server import StdStream
    from mcpkit.types import Implementation

__all__ = ["Servable", "TransportServing"]

logger = logging.getLogger("mcpkit.server")


class Servable(Protocol):
    """What serving over a transport needs of a server (`mcpkit.Server`): the HTTP app's
    `HostedServer` (the binding's `HostServer`, and what hosting it adds), `_http_run`'s
    `HttpServable`, and `TransportServing`, which the server holds and hands its own
    `serve`, `run_stdio`, `http_app` and `run` to.

    A Protocol rather than `Server` itself: the transports below must not import the
    server (imports flow one way, STYLE.md habit 8). Each member is documented where
    `Server` defines it."""

    # For the log lines, the stdio refusal of out-of-band tools and the HTTP app's checks.
    @property
    def name(self) -> str: ...

    @property
    def tools(self) -> Registry[ToolSpec]: ...

    @property
    def auth(self) -> ProtectedResource | None: ...

    @property
    def lifespan(self) -> object | None: ...

    @property
    def max_message_size(self) -> int: ...

    # The sessions served and where they are kept: the HTTP app saves and restores
    # 2025-11-25 sessions through the store, so another process can go on serving them.
    @property
    def sessions(self) -> set[ServerSessionHandle]: ...

    @property
    def store(self) -> Stores: ...

    @property
    def mounts(self) -> tuple[Mount[Routed], ...]: ...

    @property
    def custom_routes(self) -> tuple[CustomRoute, ...]: ...

    @property
    def info(self) -> Implementation: ...

    @property
    def published_card(self) -> PublishedCard | None: ...

    @property
    def broker(self) -> Broker: ...

    def use_store(self, store: str | Stores) -> Stores: ...

    def new_connection(
        self, channel: MessageChannel, record: SessionRecord | None = None
    ) -> ServerSessionHandle: ...

    def restore(self, record: SessionRecord, channel: MessageChannel) -> ServerSessionHandle: ...

    # 2026-07-28 requests have no session: each is served through a peer of its own, over
    # the HTTP response it answers on.
    @property
    def request_peer(self) -> Callable[[Response], RequestPeer]: ...

    def handle_request(self, handle: Peer, ev: RequestReceived) -> Awaitable[Any]: ...

    def running(self) -> contextlib.AbstractAsyncContextManager[object]: ...

    # Listens never end on their own: the app ends them at shutdown, or one at a time for a
    # client at its cap of requests (`transports.http.own_calls`).
    def close_listens(self) -> None: ...

    def end_listen(self, request: object) -> bool: ...

    # Asked by the HTTP app before a request reaches the server: the token's scopes are
    # checked at the door (a 403 with the scope to ask for, basic/authorization), and a
    # 2026-07-28 tools/call's mirrored headers checked against its arguments.
    def scopes_for(
        self, method: str, target: str, session_rules: tuple[ComponentRule, ...] = ()
    ) -> frozenset[str]: ...

    def param_headers(self, tool_name: str) -> Mapping[str, tuple[str, ...]] | None: ...

    async def serve(self, channel: MessageChannel) -> None: ...

    async def run_stdio(
        self, *, stdin: StdStream | None = None, stdout: StdStream | None = None
    ) -> None: ...

    def http_app(
        self,
        path: str = ...,
        *,
        store: str | Stores | None = None,
        **settings: Unpack[HttpSettings],
    ) -> McpHttpApp: ...


class TransportServing:
    """The ways to serve `host`: one channel, stdio, an ASGI app, or `run()` (`mcpkit.Server`
    serves each as its own method of the same name, with the signature and docstring written
    here). Each reaches the others through `host`, so a subclass of `Server` that overrides
    one is heard."""

    def __init__(self, host: Servable) -> None:
        self._host = host
        #: What the checks of the server's 2026-07-28 POSTs consult and remember, shared by
        #: every app built here (the server's, not the process's: `MirrorMemos`), made with
        #: the first.
        self._mirror_memos: MirrorMemos | None = None

    async def serve(self, channel: MessageChannel) -> None:
        """Serve one client session over `channel` until it closes."""
        host = self._host
        # `running()` enters the server's lifespan (once, however many sessions share it)
        # before the session exists, so no request is handled before its resources are set up.
        async with host.running():
            handle = host.new_connection(channel)
            # In `sessions` while it runs, and only then: broadcasts (list_changed,
            # resources/updated) reach the sessions found there, never one that has ended.
            host.sessions.add(handle)
            try:
                await handle.run()
            finally:
                # Whichever way the session ended (the client left, an error, a
                # cancellation), its connection is closed here, once, with the lifespan
                # still entered for whatever the session's end still needs.
                host.sessions.discard(handle)
                await handle.connection.aclose()

    async def run_stdio(
        self, *, stdin: StdStream | None = None, stdout: StdStream | None = None
    ) -> None:
        """Serve one session over this process's stdin and stdout (logs go to stderr), or
        over the given streams, which stay the caller's to close.

        basic/transports, stdio: the server must write nothing but MCP messages to stdout,
        so the channel keeps stdout for itself and points `print()` at stderr
        (`mcpkit.transports.stdio_server`), and `run()` logs to stderr."""
        # Imported here: a server served over HTTP never loads the stdio transport.
        from mcpkit.server.catalog.calling.ask_fallback import refuse_out_of_band
        from mcpkit.transports.stdio_server import open_stdio_server_channel

        # Refused at start: a tool whose fallback is a web page could never get its answer
        # over stdio, where no HTTP app serves that page.
        refuse_out_of_band(self._host.tools, "over stdio")  # (no approval page to show)
        channel = await open_stdio_server_channel(
            max_message_size=self._host.max_message_size, stdin=stdin, stdout=stdout
        )
        await self._host.serve(channel)

    def http_app(
        self,
        path: str = "/mcp",
        *,
        store: str | Stores | None = None,
        **settings: Unpack[HttpSettings],
    ) -> McpHttpApp:
        """A plain ASGI app serving this server over Streamable HTTP at `path`, for uvicorn or
        any ASGI framework (its lifespan events run this server's lifespan). The settings are
        `mcpkit.transports.deployment.app.McpHttpApp`'s; docs/http.md shows them in use. `auth`
        defaults to the server's own (`Server(auth=...)`); `auth=None` serves unprotected.
        `store` replaces the server's (`Server.use_store`); the app keeps its session
        records and event logs in the server's store unless `session_store` or
        `event_store` say otherwise."""
        # Imported here: `import mcpkit` must not load the HTTP stack (STYLE.md, habit 8).
        from mcpkit.server.serving.http_routes import routes_of, with_card
        from mcpkit.transports.deployment.app import McpHttpApp
        from mcpkit.transports.deployment.mirror_memos import MirrorMemos

        host = self._host
        stores = host.use_store(store) if store is not None else host.store
        # `in`, not `.get()`: an explicit `auth=None` means "serve unprotected" and must not
        # be replaced by the server's default.
        if "auth" not in settings:
            settings["auth"] = host.auth
        # Sessions and event logs go to the server's store unless the caller chose others,
        # so that `Server(store="redis://...")` alone makes every app of it resumable
        # across processes (basic/transports, "Resumability and Redelivery").
        if stores.sessions is not None and "session_store" not in settings:
            settings["session_store"] = stores.sessions
        if stores.events is not None and "event_store" not in settings:
            settings["event_store"] = stores.events
        # One for every app of this server: what a tool's mirrored headers are is the
        # server's to know, and two apps of one server must check them alike.
        if self._mirror_memos is None:
            self._mirror_memos = MirrorMemos(host.param_headers, tools=host.tools)
        return McpHttpApp(
            host,
            path=path,
            mirror_memos=self._mirror_memos,
            custom_routes=with_card(routes_of(host), host, path, settings),
            **settings,
        )

    def lambda_handler(
        self,
        path: str = "/mcp",
        *,
        store: str | Stores | None = None,
        **settings: Unpack[HttpSettings],
    ) -> LambdaHandler:
        """An AWS Lambda handler serving this server's 2026-07-28 requests from API Gateway
        and function URL events, through `http_app(path, store=store, **settings)`
        (`mcpkit.serverless.lambda_handler`; docs/deploy.md, "AWS Lambda")."""
        # Imported here: only a Lambda deployment loads the adapter.
        from mcpkit.serverless.aws_lambda import LambdaHandler

        return LambdaHandler(self._host, path, store=store, **settings)

    def run(
        self,
        transport: Literal["stdio", "http"] = "stdio",
        *,
        stdin: StdStream | None = None,
        stdout: StdStream | None = None,
        host: str = "127.0.0.1",
        port: int = 8000,
        path: str = "/mcp",
        http: HttpImplementation | None = None,
        store: str | Stores | None = None,
        workers: int = 1,
        **settings: Unpack[HttpSettings],
    ) -> None:
        """Serve until the client goes away, or over HTTP until SIGINT or SIGTERM (blocking):
        the usual `if __name__ == "__main__"`.

        stdio: `stdin` and `stdout` (file descriptors or file objects) replace the process's
        own. http: `server.http_app(path, **settings)` on `host`:`port` (0: a free port, named
        in the log) with uvicorn, its HTTP parser chosen by `http` ("h11", "httptools", or
        "auto": httptools when installed; None: mcpkit's default); docs/http.md, "Serving".
        `store` replaces the server's (`Server.use_store`); it is closed when serving ends.
        `workers` > 1 serves the port with that many processes, each running this program
        again (docs/deploy.md); they share what `store` shares, and given no store, a SQLite
        file in a private folder, removed when they stop (`memory://` given is refused).
        """
        # Every argument is checked before a loop, a socket or a store is opened: a mistake is
        # one ValueError at the call, not a half-started server to tear down.
        server = self._host
        check_run_allowed()
        if store is not None:
            server.use_store(store)
        if workers < 1:
            raise ValueError(f"workers must be at least 1, not {workers}")
        factory = loop_factory()  # uvloop asked for but missing: refused before anything runs
        # Arguments of the other transport are refused, not ignored: someone who passed a
        # port expects the server to listen on it, and would otherwise wonder why not.
        if transport == "stdio":
            if settings or (host, port, path, http) != ("127.0.0.1", 8000, "/mcp", None):
                raise ValueError("host, port, path, http and HTTP settings need transport='http'")
            if workers != 1:
                raise ValueError("workers need transport='http': a stdio server has one client")
            main: Coroutine[Any, Any, None] = until_terminated(
                server.run_stdio(stdin=stdin, stdout=stdout)
            )
        elif transport == "http":
            if stdin is not None or stdout is not None:
                raise ValueError("stdin and stdout are for transport='stdio'")
            from mcpkit.server.serving._http_run import serve_http
            from mcpkit.server.serving._workers import is_worker

            # The same `run()` call runs in the supervisor and, again, in each worker (the
            # program is started anew): `is_worker` tells which one this process is.
            if workers > 1 and not is_worker():
                from mcpkit.server.serving.supervising import supervise_run

                stateless = settings.get("stateless", False)
                supervise_run(server, workers, host=host, port=port, path=path, stateless=stateless)
                return
            if workers > 1:  # a worker: the supervisor's private store, if it made one
                from mcpkit.server.serving._private_store import take_private_store

                take_private_store(server)
            main = serve_http(server, host=host, port=port, path=path, http=http, **settings)
        else:
            raise ValueError(f"unknown transport {transport!r}: use 'stdio' or 'http'")
        log_to_stderr()
        # Ctrl+C ends a foreground server as the user meant it to, without a traceback; the
        # store is closed in the same loop whatever ended the serving, so Redis or SQLite
        # connections are released rather than left to the interpreter's exit.
        with (
            contextlib.suppress(KeyboardInterrupt),
            asyncio.Runner(loop_factory=factory) as runner,
        ):
            try:
                runner.run(checked(server.store, main))
            finally:
                runner.run(server.store.aclose())
