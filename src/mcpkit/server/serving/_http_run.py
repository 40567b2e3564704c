"""Serving a Server's Streamable HTTP app with uvicorn until SIGINT or SIGTERM: what
`Server.run(transport="http")` and `mcpkit run --transport http` do. The sockets it serves
are bound by `listening_sockets`; several workers are started by `supervising`."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import importlib.util
import logging
import signal
import socket
import threading
from collections.abc import Generator
from types import FrameType
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol

from mcpkit._extras import needs_extra
from mcpkit.errors import MissingExtra
from mcpkit.server.serving._workers import inherited_sockets, until_orphaned
from mcpkit.server.serving.listening_sockets import bind_sockets, url_of
from mcpkit.transports.guards.origin import is_loopback_bind

if TYPE_CHECKING:
    from typing import Unpack

    import uvicorn

    from mcpkit.stores.url import Stores
    from mcpkit.transports.deployment.app import HttpSettings, McpHttpApp

__all__ = [
    "DEFAULT_HTTP_IMPLEMENTATION",
    "HTTP_IMPLEMENTATIONS",
    "HttpImplementation",
    "HttpServable",
    "http_implementation",
    "serve_http",
]

logger = logging.getLogger("mcpkit.server")

#: uvicorn's HTTP/1.1 parsers by name: h11 is pure Python and always there with the extra;
#: httptools is the faster C parser, optional.
HttpImplementation = Literal["auto", "h11", "httptools"]
HTTP_IMPLEMENTATIONS: Final[tuple[HttpImplementation, ...]] = ("auto", "h11", "httptools")
#: What `run()` and `mcpkit run` use unless told (both pass None for it): the benchmarks in
#: bench/ decide, and this is the one place to change.
DEFAULT_HTTP_IMPLEMENTATION: Final[HttpImplementation] = "auto"
#: Seconds the calls in progress at shutdown get to answer (GET streams, which never end on
#: their own, end at once); then their streams end, so each client learns at once that the
#: server went away (its resumption finds nobody listening) instead of waiting for an answer.
SHUTDOWN_GRACE: Final = 5
#: uvicorn's own bound, past the grace: what is still open then is cut (with a traceback).
SHUTDOWN_TIMEOUT: Final = SHUTDOWN_GRACE + 3


class HttpServable(Protocol):
    """What serving over HTTP needs of a server (`mcpkit.Server`, whose `run` calls this
    module): its name for the log, and its ASGI app."""

    @property
    def name(self) -> str: ...

    def http_app(
        self,
        path: str = ...,
        *,
        store: str | Stores | None = None,
        **settings: Unpack[HttpSettings],
    ) -> McpHttpApp: ...


def http_implementation(name: HttpImplementation | None = None) -> Literal["httptools", "h11"]:
    """The uvicorn HTTP protocol `name` means: "auto" is httptools when installed, else h11;
    None is DEFAULT_HTTP_IMPLEMENTATION.

    A name asked for explicitly and not installed is a ValueError saying what to install,
    checked before serving rather than left to fail inside uvicorn at startup."""
    if name is None:
        name = DEFAULT_HTTP_IMPLEMENTATION
    if name not in HTTP_IMPLEMENTATIONS:
        raise ValueError(
            f"unknown HTTP implementation {name!r}: use one of {', '.join(HTTP_IMPLEMENTATIONS)}"
        )
    # `find_spec`, not an import: only whether it is installed matters here, and uvicorn
    # imports the parser itself when it starts.
    if name != "auto":
        if importlib.util.find_spec(name) is None:
            raise ValueError(
                f"the HTTP implementation {name!r} is not installed: pip install {name}"
            )
        return "h11" if name == "h11" else "httptools"
    return "httptools" if importlib.util.find_spec("httptools") is not None else "h11"


async def serve_http(
    server: HttpServable,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    path: str = "/mcp",
    http: HttpImplementation | None = None,
    **settings: Unpack[HttpSettings],
) -> None:
    """Serve `server.http_app(path, ...)` on host:port (0: a free port, which the log names)
    until SIGINT or SIGTERM, then leave cleanly: streams end, the lifespan hook is left.

    A worker started by `supervising.supervise_workers` serves the sockets it inherited
    instead of binding its own. Mistakes a user makes on the command line (the extra
    missing, a port in use, a setting that cannot serve on this host) end the program with a
    one-line SystemExit rather than a traceback, since `mcpkit run` is this function's main
    caller."""
    # Settings the app reads to protect against DNS rebinding: here they must describe the
    # sockets actually bound, so they are derived from host and port, never given.
    for taken in ("bind_host", "bind_port"):
        if taken in settings:
            raise ValueError(f"{taken} follows host and port here: give host= and port= instead")
    # uvicorn is the `http` extra's: imported here so that a stdio server never needs it.
    try:
        with needs_extra("http", "serving over HTTP"):
            import uvicorn
    except MissingExtra as exc:
        raise SystemExit(str(exc)) from None
    protocol = http_implementation(http)
    # Bound here rather than by uvicorn: port 0 must be known (for the app's Host check and
    # the log line) before the app is built, and a worker's sockets come from its supervisor.
    inherited = inherited_sockets()
    sockets = inherited[0] if inherited is not None else bind_sockets(host, port)
    try:
        bound = sockets[0].getsockname()[1]
        # DNS rebinding protection follows the address and port actually bound.
        bind: HttpSettings = {**settings, "bind_host": host, "bind_port": bound}
        try:
            app = server.http_app(path, **bind)
        except ValueError as exc:  # a setting that cannot serve here: said in one line
            raise SystemExit(f"cannot serve {server.name} on {host}: {exc}") from None
        config = uvicorn.Config(
            app,
            # A quick answer in one write; header_timeout and max_connections.
            http=app.uvicorn_protocol(protocol),
            # No WebSocket upgrade: MCP has no WebSocket transport, so none is parsed.
            ws="none",
            # "on", not uvicorn's "auto": the app's lifespan runs the server's lifespan hook,
            # and a hook that fails must stop the start, not be logged and skipped.
            lifespan="on",
            log_config=None,  # uvicorn's records go to the root logger, like ours
            access_log=False,
            # uvicorn takes X-Forwarded-Proto and -For from nobody (it trusts them from
            # 127.0.0.1 by default: any local process could name the scheme and address);
            # the app takes -For from the proxies of `forwarded_allow_ips` alone.
            proxy_headers=False,
            # No `Server: uvicorn` on each response: it tells a scanner what runs here, and
            # every answer would carry it.
            server_header=False,
            timeout_graceful_shutdown=SHUTDOWN_TIMEOUT,
            # The app's, which its protocol's idle deadline follows (`keep_alive`).
            timeout_keep_alive=app.keep_alive,
        )
        web = _graceful_server(app)(config)
        with _stopped_by_signals(web) as stopped_by:  # before the log line tells anyone
            _warn_exposed(host, bound, app)
            _say_exposure(host, app)
            logger.info(
                "serving %s over Streamable HTTP at %s (uvicorn, %s, %s); stop with Ctrl+C or "
                "SIGTERM",
                server.name,
                url_of(sockets[0], path),
                protocol,
                _loop_name(),
            )
            if inherited is None:
                await web.serve(sockets=sockets)
            else:
                await _serve_as_worker(web, sockets, inherited[1])
        if stopped_by:
            logger.info("stopped by %s", signal.Signals(stopped_by[0]).name)
    finally:
        # Closed whatever happened: a refusal before uvicorn started (a setting the app
        # cannot serve) would otherwise leave the port bound until the process exits.
        for sock in sockets:
            sock.close()


def _graceful_server(app: McpHttpApp) -> type[uvicorn.Server]:
    """uvicorn's Server, ending `app`'s GET streams as it starts to shut down.

    uvicorn waits for every response to finish (up to its graceful timeout) before the
    lifespan ends the sessions; a GET stream never finishes on its own, so each connected
    client would hold a Ctrl+C for the whole timeout and then be cut mid-stream. Calls
    (POSTs) in flight are left their time to answer.
    """

    # A class made in a function: a subclass at module level would import uvicorn with this
    # module, which a server that never serves HTTP must not need.
    with needs_extra("http", "serving over HTTP"):
        import uvicorn

    class GracefulServer(uvicorn.Server):
        """uvicorn's Server, whose shutdown first ends `app`'s GET streams."""

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            """uvicorn's shutdown, GET streams ended first and calls cut after the grace."""
            # No await before uvicorn closes its listeners and ends keep-alive: the streams'
            # writers run after that, so no client can open another stream meanwhile.
            app.close_streams()
            # Calls still running after the grace have their streams ended, before uvicorn
            # would cancel their responses mid-write; the lifespan shutdown then ends them.
            loop = asyncio.get_running_loop()
            cut = loop.call_later(SHUTDOWN_GRACE, functools.partial(app.close_streams, calls=True))
            try:
                await super().shutdown(sockets)
            finally:
                cut.cancel()

    return GracefulServer


async def _serve_as_worker(
    web: uvicorn.Server, sockets: list[socket.socket], supervisor: int
) -> None:
    """`web.serve(sockets)`, stopped gracefully if the supervisor dies.

    `should_exit` is uvicorn's own flag, the one its signal handlers set: the worker then
    shuts down as on SIGTERM (streams ended, lifespan left), not cut off."""

    async def stop_when_orphaned() -> None:
        await until_orphaned(supervisor)
        web.should_exit = True

    watcher = asyncio.get_running_loop().create_task(stop_when_orphaned())
    try:
        await web.serve(sockets=sockets)
    finally:
        watcher.cancel()


def _loop_name() -> str:
    """ "uvloop" or "asyncio": which event loop serves (run() picks uvloop when installed)."""
    loop_type = type(asyncio.get_running_loop())
    return "uvloop" if loop_type.__module__.startswith("uvloop") else "asyncio"


def _warn_exposed(host: str, port: int, app: McpHttpApp) -> None:
    """Warn when other machines can reach a server that does not check who they are.

    A warning, not a refusal: a proxy in front may authenticate the clients, which this
    process cannot see, so the message names that way out too."""
    # Only a bind other machines can reach: on loopback, only this machine's processes can
    # call, which is what a local development server expects.
    if is_loopback_bind(host):
        return
    guard = app.guard
    # basic/security_best_practices and basic/transports ("Security Warning"): a server
    # reachable from other machines must authenticate its clients.
    if guard is None:
        logger.warning(
            "serving on %s, which other machines can reach, with no authorization (a token "
            "verifier is not configured): anyone who reaches port %d can call every tool and "
            "read every resource. Bind 127.0.0.1 (the default) to serve this machine only, "
            "protect it with Server(auth=ProtectedResource(verifier=...)) (docs/auth.md), or "
            "put a proxy that authenticates clients in front of it.",
            host,
            port,
        )


def _say_exposure(host: str, app: McpHttpApp) -> None:
    """Say what DNS rebinding protection does on this bind, naming the settings: never
    switched off, nor the Host check left out, without a word."""
    origin = app.policy.origin
    if not origin.enabled:
        logger.warning(
            "DNS rebinding protection is off (dns_rebinding_protection=False): any web page "
            "a browser on a machine that reaches %s opens can call this server",
            host,
        )
        return
    # On loopback the defaults already allow the local names only: nothing worth saying.
    if is_loopback_bind(host):
        return
    listed = sorted(origin.origins | origin.any_port_origins)
    logger.info(
        "browser pages may call this server from allowed_origins only (%s); requests "
        "without an Origin header (not from a browser) go on. The Host header is %s",
        ", ".join(listed) if listed else "none set: every request with an Origin is refused",
        "checked against allowed_hosts"
        if origin.check_host
        else "not checked: set allowed_hosts to the names clients use",
    )


@contextlib.contextmanager
def _stopped_by_signals(web: uvicorn.Server) -> Generator[list[int], None, None]:
    """While serving, SIGINT and SIGTERM stop `web` gracefully; yields the signals received.

    uvicorn catches both itself while serving and raises them again once it has shut down,
    under the handlers it found: ours, which only note them, so the process ends normally
    (exit 0, lifespan left) instead of dying by SIGTERM's default action afterwards.
    """
    received: list[int] = []
    # `signal.signal` raises ValueError off the main thread: a server run from a thread
    # (a test, an embedding application) is stopped by whoever started it instead.
    if threading.current_thread() is not threading.main_thread():
        yield received  # signals reach the main thread only: its owner stops the server
        return

    # Notes the signal (each kind once, however often it comes) and asks uvicorn to shut
    # down, by the flag its own handlers set.
    def stop(signum: int, frame: FrameType | None) -> None:
        if signum not in received:
            received.append(signum)
        web.should_exit = True

    previous: dict[signal.Signals, Any] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, stop)
    try:
        yield received
    finally:
        # The handlers restored: a program that serves and then goes on (tests, an
        # application embedding the server) gets its own Ctrl+C behaviour back.
        for sig, handler in previous.items():
            signal.signal(sig, handler)
