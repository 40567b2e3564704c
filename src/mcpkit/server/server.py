"""`Server`: the public server framework. Decorators register tools, resources and prompts;
`serve(channel)` runs one client session; `run()` serves stdio or HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine, Iterable
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeVar, cast

import msgspec

from mcpkit.errors import LocalProtocolError, McpError, ToolError, shown_when_masked
from mcpkit.protocol import codes
from mcpkit.protocol.events import Event, NotificationReceived, RequestReceived, StrayResponse
from mcpkit.protocol.limits import DEFAULT_MAX_MESSAGE_SIZE, MAX_JSON_DEPTH
from mcpkit.protocol.server_session import ServerSession
from mcpkit.protocol.session import DEFAULT_MAX_INFLIGHT
from mcpkit.runtime.channel import MessageChannel
from mcpkit.runtime.connection import Connection
from mcpkit.runtime.outbound import DEFAULT_SEND_HIGH_WATER
from mcpkit.server._run import check_run_allowed, loop_factory, until_terminated
from mcpkit.server.access import scopes_for
from mcpkit.server.asks import (
    DEFAULT_MAX_PENDING_CLIENT_REQUESTS,
    DEFAULT_MAX_PENDING_CLIENT_REQUESTS_PER_SESSION,
    AskBudget,
)
from mcpkit.server.context import Context
from mcpkit.server.decorators import FeatureRegistrations
from mcpkit.server.handlers import HANDLERS, Handler
from mcpkit.server.handlers.features import read_resource
from mcpkit.server.middleware import Middleware, call_through
from mcpkit.server.mount import Mount, forward_update, mount_server, route
from mcpkit.server.session import ServerSessionHandle
from mcpkit.server.tools import PARAM_TYPES
from mcpkit.stores.broker import Broker, Change, MemoryBroker
from mcpkit.stores.sessions import SessionRecord
from mcpkit.types import (
    Icon,
    Implementation,
    ReadResourceRequestParams,
    ReadResourceResult,
    ServerCapabilities,
)

if TYPE_CHECKING:
    from typing import Unpack

    from mcpkit.auth.server.resource import ProtectedResource
    from mcpkit.server._http_run import HttpImplementation
    from mcpkit.stores.task_runner import TaskRunner
    from mcpkit.stores.tasks import TaskStore
    from mcpkit.transports.http.app import HttpSettings, McpHttpApp
    from mcpkit.transports.stdio_server import StdStream

__all__ = ["Lifespan", "Server"]

#: The environment variable that turns error masking off ("0") where `mask_error_details`
#: is not given: `mcpkit dev` sets it for the server it runs.
MASK_ERRORS_VARIABLE = "MCPKIT_MASK_ERROR_DETAILS"

logger = logging.getLogger("mcpkit.server")
F = TypeVar("F", bound=Callable[..., Any])
Lifespan = Callable[["Server"], contextlib.AbstractAsyncContextManager[Any]]
Feature = Literal["tools", "resources", "prompts", "completions", "logging"]


_CAPABILITY_FLAGS: dict[str, dict[str, bool]] = {
    "tools": {"listChanged": True},
    "resources": {"subscribe": True, "listChanged": True},
    "prompts": {"listChanged": True},
    "logging": {},
    "completions": {},
}


@functools.cache
def _capabilities_for(
    features: frozenset[Feature], tasks: Literal["", "tools", "tools+list"] = ""
) -> ServerCapabilities:
    """One ServerCapabilities per set of features (a few at most), shared by the sessions
    that declare it (read only: thousands of HTTP sessions would each hold a copy)."""
    caps: dict[str, Any] = {
        name: dict(_CAPABILITY_FLAGS[name]) for name in features if name in _CAPABILITY_FLAGS
    }
    if tasks:  # basic/utilities/tasks, Server Capabilities
        caps["tasks"] = {"cancel": {}, "requests": {"tools": {"call": {}}}}
        if tasks == "tools+list":
            caps["tasks"]["list"] = {}
    return msgspec.convert(caps, ServerCapabilities)


class Server(FeatureRegistrations):
    """An MCP server: name it, register features with decorators, then `run()` it.

    Args:
        name, version, title, description, website_url, icons: the `serverInfo` sent at
            initialize.
        instructions: how to use this server, for the client's model.
        lifespan: an async context manager factory `lifespan(server)` entered before the
            first session and left after the last; what it yields is `ctx.lifespan_state`.
        features: the capabilities to declare ("tools", "resources", "prompts",
            "completions", "logging"); by default, inferred from what is registered.
        page_size: items per page of list results.
        request_timeout: seconds a request to the client (sampling, elicitation, roots)
            may take unless the call gives its own `timeout`; None waits forever.
        max_message_size: bytes; larger messages are refused with -32600.
        max_json_depth: levels of nested arrays and objects a message may have; deeper ones
            are refused with -32600 before they are decoded.
        send_high_water: bytes of answers queued for a client that is not reading them, above
            which the session stops reading its requests until it catches up.
        max_inflight: requests a client may have in flight at once.
        max_pending_client_requests: requests to clients (sampling, elicitation, roots)
            awaiting an answer at once, all sessions together; past it an ask fails at once
            (McpError -32603 naming the setting).
        max_pending_client_requests_per_session: the same for one session.
        sync_in_thread: run plain `def` handlers in worker threads (the default) rather
            than on the event loop.
        lenient_arguments: the default of every tool's `lenient_arguments`: accept numbers
            and booleans sent as strings (`"36"` for an integer), as some models send them,
            and advertise that in the input schemas. By default arguments must fit the
            schema as JSON Schema reads it.
        mask_error_details: send the client a generic message instead of the text of an
            unexpected exception from a tool, resource, prompt or any handler (the traceback
            is logged on the server either way); `ToolError` and `McpError` pass as they are.
            None (the default): on, unless the environment variable
            MCPKIT_MASK_ERROR_DETAILS is "0" (`mcpkit dev` sets it for the server it runs).
            An exception's text can hold paths, queries, secrets: keep it on in production.
        auth: protect the HTTP endpoint (`http_app()`, `run(transport="http")`, `mcpkit
            run`): a `mcpkit.auth.server.resource.ProtectedResource` (docs/auth.md). stdio
            and in-memory sessions are not protected by it (the spec: credentials for stdio
            come from the environment).
        task_store: where the tasks of tools called as tasks (`@server.tool(task=True)`)
            are kept: a `mcpkit.stores.tasks.TaskStore`; by default a `MemoryTaskStore`
            (docs/tasks.md).
        middleware: layers around every request this server handles (docs/server.md,
            "Middleware"); the first is outermost. `add_middleware` adds more.
        broker: how changes (list_changed, resources/updated) reach every session, and
            where responses that no request awaits go: a `mcpkit.stores.broker.Broker`; by
            default a `MemoryBroker` (one process).
    """

    def __init__(
        self,
        name: str,
        version: str = "0.0.0",
        *,
        title: str | None = None,
        description: str | None = None,
        instructions: str | None = None,
        website_url: str | None = None,
        icons: list[Icon] | None = None,
        lifespan: Lifespan | None = None,
        features: Iterable[Feature] | None = None,
        page_size: int = 100,
        request_timeout: float | None = 300.0,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        max_json_depth: int = MAX_JSON_DEPTH,
        max_inflight: int = DEFAULT_MAX_INFLIGHT,
        max_pending_client_requests: int = DEFAULT_MAX_PENDING_CLIENT_REQUESTS,
        max_pending_client_requests_per_session: int = (
            DEFAULT_MAX_PENDING_CLIENT_REQUESTS_PER_SESSION
        ),
        send_high_water: int = DEFAULT_SEND_HIGH_WATER,
        sync_in_thread: bool = True,
        lenient_arguments: bool = False,
        mask_error_details: bool | None = None,
        auth: ProtectedResource | None = None,
        task_store: TaskStore | None = None,
        middleware: Iterable[Middleware] = (),
        broker: Broker | None = None,
    ) -> None:
        super().__init__()
        self.name = name
        self.version = version
        self.info = Implementation(
            name=name,
            version=version,
            title=title,
            description=description,
            website_url=website_url,
            icons=icons,
        )
        self.instructions = instructions
        self.lifespan = lifespan
        self.features = frozenset(features) if features is not None else None
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.page_size = page_size
        self.request_timeout = request_timeout
        self.max_message_size = max_message_size
        self.max_json_depth = max_json_depth
        self.max_inflight = max_inflight
        #: Requests to clients awaiting their answers (`max_pending_client_requests`).
        self.asks = AskBudget(max_pending_client_requests, max_pending_client_requests_per_session)
        self.send_high_water = send_high_water
        self.sync_in_thread = sync_in_thread
        if mask_error_details is None:
            mask_error_details = os.environ.get(MASK_ERRORS_VARIABLE, "1").strip() != "0"
        self.mask_error_details = mask_error_details
        self.lenient_arguments = lenient_arguments
        self.auth = auth
        self._task_store = task_store
        self.middleware: tuple[Middleware, ...] = tuple(middleware)
        self._task_runner: TaskRunner | None = None
        #: The sessions this process serves: where `_deliver` takes the broker's changes.
        self.sessions: set[ServerSessionHandle] = set()
        self.broker: Broker = broker if broker is not None else MemoryBroker()
        self.broker.subscribe(self._deliver)
        self.lifespan_state: Any = None
        self._lifespan_users = 0
        self._lifespan_stack: contextlib.AsyncExitStack | None = None
        self._lifespan_lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # where sessions are served
        #: The servers mounted in this one (`mount`), in order.
        self.mounts: tuple[Mount, ...] = ()
        #: Where this server is mounted, if it is.
        self.mounted_in: Mount | None = None

    # ------------------------------------------------------------ capabilities

    def capabilities(self) -> ServerCapabilities:
        """What this server declares at initialize (inferred from registrations by default)."""
        features = self.features
        if features is None:
            present = {
                "logging": True,
                "tools": len(self.tools) > 0,
                "resources": len(self.resources) + len(self.templates) > 0,
                "prompts": len(self.prompts) > 0,
                "completions": self.completable(),
            }
            features = frozenset(cast(Feature, name) for name, has in present.items() if has)
        if not self.serves_tasks:
            return _capabilities_for(features)
        # tasks/list only where requestors are told apart ("Task Isolation and Access Control").
        return _capabilities_for(features, "tools+list" if self.auth is not None else "tools")

    def completable(self) -> bool:
        """Whether anything can be completed, here or in a mounted server."""
        return super().completable() or any(m.server.completable() for m in self.mounts)

    @property
    def serves_tasks(self) -> bool:
        """Whether some tool may be called as a task (so `tasks` is declared)."""
        return any(spec.task_support != "forbidden" for spec in self.tools.items())

    @property
    def task_runner(self) -> TaskRunner:
        """Runs this server's tasks; its `store` is `task_store` (a MemoryTaskStore unless
        one was given). A mounted server's tasks are its parent's: tasks/get reaches them."""
        if self.mounted_in is not None:
            return self.mounted_in.parent.task_runner
        if self._task_runner is None:
            from mcpkit.server.tasks import tool_failed
            from mcpkit.stores.task_runner import TaskRunner
            from mcpkit.stores.tasks import MemoryTaskStore

            store = self._task_store if self._task_store is not None else MemoryTaskStore()
            self._task_runner = TaskRunner(store, failed=tool_failed)
        return self._task_runner

    def add_middleware(self, middleware: Middleware) -> None:
        """Add a layer inside those already added (the first added stays outermost)."""
        self.middleware = (*self.middleware, middleware)

    #: Whether this server may mount others and be mounted (`mount`): its tools, resources
    #: and prompts are its registries'. A proxy (`mcpkit.proxy.ProxyServer`) answers every
    #: request from its upstream server instead, so it is not.
    composable: ClassVar[bool] = True

    def mount(self, other: Server, namespace: str | None = None, *, separator: str = "_") -> None:
        """Serve `other`'s tools, resources, resource templates and prompts as this server's,
        live, under `namespace`: tool and prompt `name` as `{namespace}_name`, a URI
        `scheme://rest` as `scheme://{namespace}/rest` (docs/server.md, "Composing servers").
        `namespace=None` keeps names and URIs; a name both servers have is refused here, and
        one that appears later is this server's. Mount before serving: `other`'s lifespan
        runs inside this one's."""
        mount_server(self, other, namespace, separator)

    # ----------------------------------------------------------------- serving

    @property
    def is_running(self) -> bool:
        """Whether the lifespan has been entered (some session is being served)."""
        return self._lifespan_users > 0

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncGenerator[Server, None]:
        """Enter the lifespan hook once for however many sessions are being served."""
        if self._lifespan_lock is None:
            self._lifespan_lock = asyncio.Lock()
        self._loop = asyncio.get_running_loop()
        async with self._lifespan_lock:
            if self._lifespan_users == 0 and (self.lifespan is not None or self.mounts):
                self._lifespan_stack = await self._enter_lifespans()
            self._lifespan_users += 1
        try:
            yield self
        finally:
            async with self._lifespan_lock:
                self._lifespan_users -= 1
                if self._lifespan_users == 0 and self._task_runner is not None:
                    await self._task_runner.aclose()  # tasks end with the last session's server
                if self._lifespan_users == 0 and self._lifespan_stack is not None:
                    stack, self._lifespan_stack = self._lifespan_stack, None
                    await stack.aclose()  # mounted servers' first, in reverse order
                    self.lifespan_state = None

    async def _enter_lifespans(self) -> contextlib.AsyncExitStack:
        """This server's lifespan, then those of the servers mounted in it, in order."""
        stack = contextlib.AsyncExitStack()
        try:
            if self.lifespan is not None:
                self.lifespan_state = await stack.enter_async_context(self.lifespan(self))
            for mount in self.mounts:
                await stack.enter_async_context(mount.server.running())
        except BaseException:
            await stack.aclose()
            self.lifespan_state = None
            raise
        return stack

    def new_connection(
        self, channel: MessageChannel, record: SessionRecord | None = None
    ) -> ServerSessionHandle:
        """Build (but do not run) the session for one client over `channel`; `record` is the
        session's (a fresh one by default; `restore` passes a saved one)."""
        protocol = self._session_type(
            self.info,
            self.capabilities(),
            instructions=self.instructions,
            max_message_size=self.max_message_size,
            max_json_depth=self.max_json_depth,
            max_inflight=self.max_inflight,
            param_types=PARAM_TYPES,
        )
        return ServerSessionHandle(
            self, functools.partial(self._connect, protocol=protocol, channel=channel), record
        )

    #: The protocol session each client gets (the proxy's answers `initialize` itself).
    _session_type: type[ServerSession] = ServerSession

    def _connect(
        self, handle: ServerSessionHandle, *, protocol: ServerSession, channel: MessageChannel
    ) -> Connection:
        """The runtime connection of `handle`'s session (the proxy's also ends its upstream)."""
        return Connection(
            protocol,
            channel,
            on_request=handle.on_request,
            on_event=handle.on_event,
            send_high_water=self.send_high_water,
        )

    def restore(self, record: SessionRecord, channel: MessageChannel) -> ServerSessionHandle:
        """Rebuild a session from its saved `record`, over `channel` (built, not run, like
        `new_connection`): the client goes on where it was, with the revision and
        capabilities it negotiated, its log level and its subscriptions. What lived only in
        the process that ended (requests in flight, their streams) is gone; the client
        resumes those streams, or asks again. Raises LocalProtocolError when the record
        holds no handshake, or one on a revision this server does not speak."""
        if record.revision is None:
            raise LocalProtocolError(f"session {record.id[:8]}... never finished initialize")
        handle = self.new_connection(channel, record)
        handle.protocol.resume(
            record.revision,
            record.client_info,
            record.client_capabilities,
            initialized=record.initialized,
        )
        return handle

    async def handle_request(self, handle: ServerSessionHandle, ev: RequestReceived) -> Any:
        """Serve one request of `handle`'s client: its handler's result (raises McpError)."""
        handler = HANDLERS.get(ev.method)
        if handler is None:
            # A method of the protocol this server does not implement (tasks/*, say):
            # JSON-RPC 2.0 section 5.1 names -32601 for it, not an internal error.
            raise McpError(
                codes.METHOD_NOT_FOUND,
                f"Method not found: {ev.method} (this server does not implement it)",
            )
        ctx = Context.of(self, handle, ev)
        try:
            if not self.middleware and not self.mounts:
                return await handler(self, ctx, ev.params)
            return await self._through_layers(ctx, ev.params, handler)
        except (McpError, ToolError):
            raise
        except Exception as exc:
            if not self.mask_error_details or shown_when_masked(exc):
                raise  # the runtime logs it and sends its text as -32603
            raise self._masked(ev.method) from None

    async def handle_mounted(self, ctx: Context, params: Any) -> Any:
        """Serve a request its parent routed here (`ctx.server` is this server): inside the
        parent's middleware, through this server's own."""
        try:
            return await self._through_layers(ctx, params, HANDLERS[ctx.method])
        except (McpError, ToolError):
            raise
        except Exception as exc:
            if not self.mask_error_details or shown_when_masked(exc):
                raise
            raise self._masked(ctx.method) from None

    def _through_layers(self, ctx: Context, params: Any, handler: Handler) -> Awaitable[Any]:
        inner: Callable[[Any], Awaitable[Any]] = (
            functools.partial(route, self, ctx, handler)
            if self.mounts
            else functools.partial(handler, self, ctx)
        )
        if not self.middleware:
            return inner(params)
        return call_through(self.middleware, ctx, params, inner)

    def _masked(self, method: str) -> McpError:
        """With `mask_error_details`, what an unexpected exception of a handler becomes: a
        generic -32603 (its traceback logged here, from the `except` clause calling this)."""
        logger.exception("handler for %s failed", method)
        return McpError(codes.INTERNAL_ERROR, "Internal error")

    async def read_resource(self, ctx: Context, uri: str) -> ReadResourceResult:
        """Read `uri`, one of this server's resources or a match of its templates (its
        mounted servers' too), for the request of `ctx`, as resources/read answers it but
        outside the middleware: what `ctx.read_resource(uri)` does. McpError -32002 for an
        unknown URI."""
        return await read_resource(self, ctx, ReadResourceRequestParams(uri=uri))

    def scopes_for(self, method: str, target: str) -> frozenset[str]:
        """The scopes a `method` request (tools/call, resources/read, prompts/get...) on the
        item `target` (a name or a URI) needs: those it was registered with."""
        return scopes_for(self, method, target)

    def handle_event(self, handle: ServerSessionHandle, ev: Event) -> None:
        if isinstance(ev, NotificationReceived):
            self._on_notification(handle, ev)
        elif isinstance(ev, StrayResponse):
            self.broker.forward_response(handle.id, ev)

    async def serve(self, channel: MessageChannel) -> None:
        """Serve one client session over `channel` until it closes."""
        async with self.running():
            handle = self.new_connection(channel)
            self.sessions.add(handle)
            try:
                await handle.connection.run()
            finally:
                self.sessions.discard(handle)
                await handle.connection.aclose()

    async def run_stdio(
        self, *, stdin: StdStream | None = None, stdout: StdStream | None = None
    ) -> None:
        """Serve one session over this process's stdin and stdout (logs go to stderr), or
        over the given streams, which stay the caller's to close."""
        from mcpkit.transports.stdio_server import open_stdio_server_channel

        channel = await open_stdio_server_channel(
            max_message_size=self.max_message_size, stdin=stdin, stdout=stdout
        )
        await self.serve(channel)

    def http_app(self, path: str = "/mcp", **settings: Unpack[HttpSettings]) -> McpHttpApp:
        """A plain ASGI app serving this server over Streamable HTTP at `path`, for uvicorn or
        any ASGI framework (its lifespan events run this server's lifespan). The settings are
        `mcpkit.transports.http.app.McpHttpApp`'s; docs/http.md shows them in use. `auth`
        defaults to the server's own (`Server(auth=...)`); `auth=None` serves unprotected."""
        from mcpkit.transports.http.app import McpHttpApp

        if "auth" not in settings:
            settings["auth"] = self.auth
        return McpHttpApp(self, path=path, **settings)

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
        **settings: Unpack[HttpSettings],
    ) -> None:
        """Serve until the client goes away, or over HTTP until SIGINT or SIGTERM (blocking):
        the usual `if __name__ == "__main__"`.

        stdio: `stdin` and `stdout` (file descriptors or file objects) replace the process's
        own. http: `self.http_app(path, **settings)` on `host`:`port` (0: a free port, named
        in the log) with uvicorn, its HTTP parser chosen by `http` ("h11", "httptools", or
        "auto": httptools when installed; None: mcpkit's default); docs/http.md, "Serving".
        """
        check_run_allowed()
        if transport == "stdio":
            if settings or (host, port, path, http) != ("127.0.0.1", 8000, "/mcp", None):
                raise ValueError("host, port, path, http and HTTP settings need transport='http'")
            main: Coroutine[Any, Any, None] = until_terminated(
                self.run_stdio(stdin=stdin, stdout=stdout)
            )
        elif transport == "http":
            if stdin is not None or stdout is not None:
                raise ValueError("stdin and stdout are for transport='stdio'")
            from mcpkit.server._http_run import serve_http

            main = serve_http(self, host=host, port=port, path=path, http=http, **settings)
        else:
            raise ValueError(f"unknown transport {transport!r}: use 'stdio' or 'http'")
        if not logging.getLogger().handlers:
            logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
        with (
            contextlib.suppress(KeyboardInterrupt),
            asyncio.Runner(loop_factory=loop_factory()) as runner,
        ):
            runner.run(main)

    # ----------------------------------------------------------- notifications

    def _on_notification(self, handle: ServerSessionHandle, ev: NotificationReceived) -> None:
        if ev.method == "notifications/roots/list_changed" and self.on_roots_changed is not None:
            self._tasks.spawn(self.on_roots_changed(handle))

    def _broadcast(self, method: str) -> None:
        """Announce that a list changed (from sync code too: a registration in a `def`
        handler's worker thread hops to the loop first). Only while serving: registrations
        made before (at import, in every process of a deployment) change nothing a client
        has seen, and must not tell every other process's clients that they did."""
        if not self.is_running:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            # Called from a sync handler's worker thread, or when not serving at all.
            if self._loop is not None and not self._loop.is_closed():
                self._loop.call_soon_threadsafe(self._broadcast, method)
            return
        self.broker.publish(Change(method))

    async def notify_resource_updated(self, uri: str) -> None:
        """Tell every session subscribed to `uri` that it changed (server/resources). Never
        waits for a client: each session's notification is queued in a task, and one still
        waiting for a slow client to read makes further ones for the same URI redundant
        (`ServerSessionHandle.announce`)."""
        self.broker.publish(Change("notifications/resources/updated", uri))
        if self.mounted_in is not None:  # the parent's subscribers know it by another URI
            forwarded = forward_update(self.mounted_in, uri)
            if forwarded is not None:
                await forwarded

    def _deliver(self, change: Change) -> None:
        """The broker's change, to each of this process's sessions that may be told: those
        past `initialize`, and for a resource, those subscribed to it. Sent from tasks, so a
        slow client holds up nobody; repeated changes before a session's announcement
        leaves make one."""
        uri = change.uri
        for handle in list(self.sessions):
            if not handle.notifiable or (uri is not None and uri not in handle.subscriptions):
                continue
            announcement = handle.announce(change.method, uri)
            if announcement is not None:
                self._tasks.spawn(_quietly(announcement, change.method))


async def _quietly(sending: Awaitable[None], method: str) -> None:
    try:
        await sending
    except Exception:  # the session may have ended meanwhile
        logger.debug("could not send %s", method, exc_info=True)
