"""`Client`: connect to an MCP server (in-process, a command over stdio, or a URL over
Streamable HTTP) and use it.

async with Client(["python", "server.py"]) as client:
    tools = await client.list_tools()
    result = await client.call_tool("add", {"a": 1, "b": 2})
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from mcpkit.client.callbacks import (
    ElicitationHandler,
    LogHandler,
    NotificationHandler,
    RootsProvider,
    SamplingHandler,
    ServerRequestRouter,
)
from mcpkit.client.calls import ProgressHandler, request_timeout
from mcpkit.client.era import StatelessEra, era
from mcpkit.client.http_headers import ToolHeaders
from mcpkit.client.listen import Listener
from mcpkit.client.middleware import ClientMiddleware, OutgoingRequest, call_through
from mcpkit.client.results import RESULT_TYPES
from mcpkit.client.skills import SkillCalls
from mcpkit.client.stateless import (
    DEFAULT_MAX_INPUT_ROUNDS,
    Discovered,
    StatelessCalls,
    stateless_wanted,
)
from mcpkit.client.tap import MessageTap, TappedChannel
from mcpkit.errors import LocalProtocolError, McpError, RequestTimeout
from mcpkit.protocol.capabilities import RELATED_TASK
from mcpkit.protocol.client_session import ClientSession
from mcpkit.protocol.events import Event, NotificationReceived, RequestReceived
from mcpkit.protocol.extensions import own_requests
from mcpkit.protocol.limits import DEFAULT_MAX_MESSAGE_SIZE, MAX_JSON_DEPTH
from mcpkit.runtime.background import BackgroundTasks
from mcpkit.runtime.connection import Connection
from mcpkit.runtime.outbound import DEFAULT_SEND_HIGH_WATER
from mcpkit.runtime.workers import call_handler
from mcpkit.transports.connect import Target, close_opened, open_target
from mcpkit.transports.endpoint_url import check_endpoint_url, looks_like_url
from mcpkit.types import (
    ClientCapabilities,
    ClientCapabilitiesTasks,
    Implementation,
    InitializeResult,
    ServerCapabilities,
)
from mcpkit.types.methods import MethodInfo
from mcpkit.types.skills import SKILLS_METHODS

if TYPE_CHECKING:
    import httpx

    from mcpkit.client.task_receiver import ClientTaskReceiver
    from mcpkit.stores.tasks import TaskStore

__all__ = ["Client"]

logger = logging.getLogger("mcpkit.client")


class Client(SkillCalls, StatelessEra):
    """An MCP client session. Use as `async with Client(target) as client:`.

    Args:
        target: a `Server` (served in-process over the in-memory pair), a command as a list
            of strings (`["python", "server.py"]`, run over stdio; a bare `python` or
            `python3` means `sys.executable`), a path to a `.py` file, `StdioParameters`
            for full control of the subprocess, the URL of a Streamable HTTP endpoint
            (`"http://127.0.0.1:8000/mcp"`; a server that refuses it is spoken to over the
            older HTTP+SSE, as is a URL ending in `/sse`), or a `StreamableHttpTransport`.
        name, version, client_info: the `clientInfo` sent at initialize (in the stateless
            revision: in every request's `_meta`).
        sampling_handler: answers `sampling/createMessage`; declares `sampling`.
        sampling_tools: also declare `sampling.tools` (SEP-1577).
        elicitation_handler: answers form-mode `elicitation/create`.
        url_elicitation_handler: answers URL-mode `elicitation/create` (SEP-1036).
        roots: a list of `Root`, or a function returning one; declares `roots`.
        tasks: let the server ask for sampling and elicitation as tasks (SEP-1686;
            docs/tasks.md): such a request is answered at once with a task, the handler runs
            in the background, and the server fetches the result with `tasks/result`.
            Declares `tasks` for the handlers given. Handlers stay the same functions.
        task_store: where those tasks are kept (a `mcpkit.stores.tasks.TaskStore`; implies
            `tasks=True`); by default a `MemoryTaskStore` of this client.
        extensions: the extensions this client declares (SEP-2133), identifier to settings
            (`{}` for none), in both eras: `mcpkit.apps.HOST_EXTENSIONS` for a host that
            renders MCP Apps views (docs/apps.md). `server_extension(id)` says what the
            server declared.
        extension_methods: requests those extensions add, sent with `request(method,
            params)` (their params and results are JSON objects).
        on_log: called with each `notifications/message`.
        on_notification: called with `(method, params)` for every server notification.
        timeout: default seconds for each request (None waits forever).
        init_timeout: seconds the initialize handshake (or the `server/discover` probe) may
            take; with protocol "auto" over stdio the probe waits at most 10 s of it
            (`mcpkit.client.era.PROBE_TIMEOUT`), then falls back to `initialize`.
        protocol: which era to speak (docs/client.md "Protocol revisions"): "auto" (the
            default) probes with `server/discover` and speaks the stateless 2026-07-28
            revision if the server lists it, else opens a session with `initialize`;
            "2026-07-28" never sends initialize (a server that does not speak it fails the
            connect); "2025-11-25" (or an older revision, asked for at initialize) never
            sends server/discover.
        protocol_version: the revision initialize asks for (the server may answer an older
            one); giving it pins the session era, as `protocol` does.
        max_input_rounds: how many times one request answers the server's input requests
            (2026-07-28 multi round-trip requests) before it fails.
        stderr: for commands, where the server's stderr is forwarded: "inherit" (our
            stderr), a file or descriptor, or nowhere ("devnull", "capture"). Its last
            lines are kept whatever the setting and quoted when the server dies.
        max_message_size: bytes; larger messages from the server are refused.
        max_json_depth: levels of nested arrays and objects a message from the server may
            have; deeper ones are refused before they are decoded.
        send_high_water: bytes of answers queued for a server that is not reading them,
            above which the client stops reading until it catches up.
        headers: for a URL, HTTP headers sent with every request (an API key, say).
        auth: for a URL, an `httpx.Auth` applied to every request.
        middleware: layers around every request this client sends (`ClientMiddleware`,
            `mcpkit.client.middleware`; docs/client.md "Middleware"), the first outermost.
        on_message: called with `("sent" | "received", bytes)` for every JSON-RPC message
            (a debugger's log, such as the inspector's); quick and never raising.

    Handlers may be sync or async and may return result structs or dicts of their shape.
    """

    def __init__(
        self,
        target: Target,
        *,
        name: str = "mcpkit-client",
        version: str = "0.1.0",
        client_info: Implementation | None = None,
        sampling_handler: SamplingHandler | None = None,
        sampling_tools: bool = False,
        elicitation_handler: ElicitationHandler | None = None,
        url_elicitation_handler: ElicitationHandler | None = None,
        roots: RootsProvider | None = None,
        tasks: bool = False,
        task_store: TaskStore | None = None,
        extensions: Mapping[str, Mapping[str, Any]] | None = None,
        extension_methods: Iterable[str] = (),
        on_log: LogHandler | None = None,
        on_notification: NotificationHandler | None = None,
        timeout: float | None = 60.0,
        init_timeout: float | None = 30.0,
        protocol: str = "auto",
        protocol_version: str | None = None,
        max_input_rounds: int = DEFAULT_MAX_INPUT_ROUNDS,
        stderr: Any = "inherit",
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        max_json_depth: int = MAX_JSON_DEPTH,
        send_high_water: int = DEFAULT_SEND_HIGH_WATER,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
        middleware: Sequence[ClientMiddleware] = (),
        on_message: MessageTap | None = None,
    ) -> None:
        if isinstance(target, str) and looks_like_url(target):
            check_endpoint_url(target)  # a typo is refused here, not after a connect attempt
        self.target = target
        self.client_info = client_info or Implementation(name=name, version=version)
        self.timeout = timeout
        self.init_timeout = init_timeout
        self.requested_version, self.protocol = era(protocol, protocol_version)
        self.max_input_rounds = max_input_rounds
        self._stderr = stderr
        self._max_message_size = max_message_size
        self._max_json_depth = max_json_depth
        self._send_high_water = send_high_water
        self._headers = headers
        self._auth = auth
        self._on_message = on_message
        self._router = ServerRequestRouter(
            sampling=sampling_handler,
            elicitation=elicitation_handler,
            url_elicitation=url_elicitation_handler,
            roots=roots,
        )
        self.capabilities = _capabilities(
            sampling_handler,
            sampling_tools,
            elicitation_handler,
            url_elicitation_handler,
            roots,
            extensions,
        )
        # The methods of the extensions it speaks beside each revision's: skills, and those
        # named here (SEP-2133).
        self._extension_methods: Mapping[str, MethodInfo] = (
            {**SKILLS_METHODS, **own_requests(extension_methods)}
            if extension_methods
            else SKILLS_METHODS
        )
        self._task_receiver: ClientTaskReceiver | None = None
        if tasks or task_store is not None:
            self._task_receiver = _task_receiver(self._router, task_store, self.capabilities)
        self.on_log = on_log
        self.on_notification = on_notification
        self._connection: Connection | None = None
        self._release: Callable[[], Awaitable[None]] | None = None
        self._tasks = BackgroundTasks()
        self.middleware: tuple[ClientMiddleware, ...] = tuple(middleware)
        self._stateless: StatelessCalls | None = None
        self._discovered: Discovered | None = None
        self._tool_headers = ToolHeaders()
        self._listen = Listener()

    # --------------------------------------------------------------- lifecycle

    async def __aenter__(self) -> Client:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def connect(self) -> None:
        """Open the transport and run the initialize handshake."""
        if self._connection is not None:
            raise LocalProtocolError("this client is already connected")
        channel, self._release = await open_target(
            self.target,
            stderr=self._stderr,
            max_message_size=self._max_message_size,
            headers=self._headers,
            auth=self._auth,
        )
        if self._on_message is not None:
            channel = TappedChannel(channel, self._on_message)
        session = ClientSession(
            self.client_info,
            self.capabilities,
            max_message_size=self._max_message_size,
            max_json_depth=self._max_json_depth,
            result_types=RESULT_TYPES,
            extension_methods=self._extension_methods,
        )
        conn = Connection(
            session,
            channel,
            on_request=self._on_request,
            on_event=self._on_event,
            hold_timeouts_while_serving=True,
            send_high_water=self._send_high_water,
        )
        self._connection = conn
        conn.start()
        try:
            if self.protocol != "sessions" and await self._start_stateless(conn):
                return
            rid = session.start(self.requested_version)
            try:
                await self._await_initialize(conn, rid)
            except McpError as exc:
                # A modern server that answered the probe too late (a slow start) refuses
                # initialize with the stateless revisions it speaks: probe once more.
                if self.protocol != "auto" or stateless_wanted(exc) is None:
                    raise
                session.forget_refused_initialize()
                if not await self._start_stateless(conn):
                    raise
        except BaseException:
            await self.aclose()
            raise

    async def _await_initialize(self, conn: Connection, rid: Any) -> None:
        try:
            async with asyncio.timeout(self.init_timeout):
                await conn.wait_response(rid)
        except TimeoutError:
            raise RequestTimeout(
                f"the server did not answer initialize within {self.init_timeout} s"
            ) from None
        await conn.flush()  # notifications/initialized
        await conn.wait_sent(self.init_timeout if self.init_timeout is not None else 30.0)

    async def aclose(self) -> None:
        """End the session: close the transport (stdio: stdin, then SIGTERM, then SIGKILL)."""
        await self._listen.stop()
        self._stateless = None
        conn, self._connection = self._connection, None
        release, self._release = self._release, None
        await close_opened(conn, release)
        self._tasks.cancel_all()
        if self._task_receiver is not None:  # nobody can fetch their results any more
            await self._task_receiver.aclose()

    # ---------------------------------------------------------------- requests

    async def request(
        self,
        method: str,
        params: Any = None,
        *,
        timeout: float | None = None,
        progress: ProgressHandler | None = None,
        result_type: Any = None,
    ) -> Any:
        """Send any request through the middleware, if any, and return its decoded result
        (as `result_type` if given)."""
        timeout = request_timeout(timeout, self.timeout)
        if self._stateless is not None:
            return await self._stateless_request(method, params, timeout, progress, result_type)
        if self.middleware:
            return await self._request_through_middleware(
                method, params, timeout, progress, result_type
            )
        # No middleware: the same single call FeatureCalls.request makes, no frame more.
        return await self.connection.request(
            method, params, timeout=timeout, on_progress=progress, result_type=result_type
        )

    def add_middleware(self, layer: ClientMiddleware) -> None:
        """Add a layer inside those already there (it sees requests after them)."""
        self.middleware = (*self.middleware, layer)

    async def _request_through_middleware(
        self,
        method: str,
        params: Any,
        timeout: float | None,
        progress: ProgressHandler | None,
        result_type: Any,
    ) -> Any:
        conn = self.connection

        def send(params: Any) -> Awaitable[Any]:
            return conn.request(
                method, params, timeout=timeout, on_progress=progress, result_type=result_type
            )

        return await call_through(self.middleware, OutgoingRequest(method, self), params, send)

    # ------------------------------------------------------------------- facts

    @property
    def connection(self) -> Connection:
        if self._connection is None:
            raise LocalProtocolError("the client is not connected; use `async with Client(...)`")
        return self._connection

    @property
    def session(self) -> ClientSession:
        session = self.connection.session
        assert isinstance(session, ClientSession)
        return session

    @property
    def initialize_result(self) -> InitializeResult:
        result = self.session.initialize_result
        if result is None:
            raise LocalProtocolError("the session is not initialized")
        return result

    @property
    def server_info(self) -> Implementation:
        found = self.discovered
        if found is not None:  # self-reported and optional in discover: "unknown" if absent
            return found.server_info or Implementation(name="unknown", version="unknown")
        return self.initialize_result.server_info

    @property
    def server_capabilities(self) -> ServerCapabilities:
        found = self.discovered
        return found.capabilities if found is not None else self.initialize_result.capabilities

    def server_extension(self, extension_id: str) -> dict[str, Any] | None:
        """The settings the server declared for an extension (SEP-2133: its
        `capabilities.extensions` entry, `{}` when it has none), or None when it did not:
        `client.server_extension("io.modelcontextprotocol/ui")`."""
        return (self.server_capabilities.extensions or {}).get(extension_id)

    @property
    def instructions(self) -> str | None:
        found = self.discovered
        return found.instructions if found is not None else self.initialize_result.instructions

    @property
    def protocol_version(self) -> str:
        """The revision spoken: the stateless one chosen at connect, or initialize's."""
        if self._stateless is not None:
            return self._stateless.revision
        return self.initialize_result.protocol_version

    @property
    def session_id(self) -> str | None:
        """The `Mcp-Session-Id` a Streamable HTTP server gave this session; None over other
        transports, for a stateless server, or before connecting."""
        if self._connection is None:
            return None
        session_id = self._connection.extras.session_id
        return None if session_id is None else session_id()

    # ----------------------------------------------------------- server → us

    async def _on_request(self, ev: RequestReceived) -> Any:
        receiver = self._task_receiver
        if receiver is not None and receiver.takes(ev):
            return await receiver.handle(ev, self.connection)
        result = await self._router.handle(ev.method, ev.params)
        meta = getattr(ev.params, "meta", None)
        if meta and RELATED_TASK in meta:  # a request of the server's task: so is the answer
            result = _with_meta(result, RELATED_TASK, meta[RELATED_TASK])
        return result

    def _on_event(self, ev: Event) -> None:
        if not isinstance(ev, NotificationReceived):
            return
        if self._stateless is not None:
            self._stateless_notification(ev)
            if ev.method == "notifications/subscriptions/acknowledged":
                return  # the listen's own business, not the application's
        if ev.method == "notifications/message" and self.on_log is not None:
            self._run_callback(self.on_log, ev.params)
        elif ev.method == "notifications/tasks/status":
            self._task_status_received(ev.params)  # updates the task's live handle
        if self.on_notification is not None:
            self._run_callback(self.on_notification, ev.method, ev.params)

    def _run_callback(self, fn: Callable[..., Any], *args: Any) -> None:
        async def run() -> None:
            try:  # notification callbacks run on the loop (sync ones too: they should be quick)
                await call_handler(fn, args, in_thread=False)
            except Exception:
                logger.exception("client notification callback failed")

        self._tasks.spawn(run())


def _task_receiver(
    router: ServerRequestRouter, store: TaskStore | None, caps: ClientCapabilities
) -> ClientTaskReceiver:
    """The receiver of the server's task-augmented requests; declares `tasks` in `caps`."""
    sampling = router.sampling is not None
    elicitation = router.elicitation is not None or router.url_elicitation is not None
    if not (sampling or elicitation):
        raise ValueError(
            "tasks=True (or a task_store) lets the server ask for sampling or elicitation as "
            "tasks, so it needs a sampling_handler, elicitation_handler or "
            "url_elicitation_handler; give one, or leave tasks off"
        )
    # Imported here: a client that receives no tasks loads no task machinery.
    from mcpkit.client.task_receiver import ClientTaskReceiver, task_capability
    from mcpkit.stores.tasks import MemoryTaskStore

    if store is None:
        store = MemoryTaskStore()
    caps.tasks = msgspec.convert(task_capability(sampling, elicitation), ClientCapabilitiesTasks)
    return ClientTaskReceiver(store, router)


def _capabilities(
    sampling: Any,
    sampling_tools: bool,
    elicitation: Any,
    url_elicitation: Any,
    roots: Any,
    extensions: Mapping[str, Mapping[str, Any]] | None = None,
) -> ClientCapabilities:
    modes: dict[str, Any] = {}
    if elicitation is not None:
        modes["form"] = {}
    if url_elicitation is not None:
        modes["url"] = {}
    sampling_caps: dict[str, Any] | None = None
    if sampling is not None:
        sampling_caps = {"tools": {}} if sampling_tools else {}
    caps: dict[str, Any] = {}
    if sampling_caps is not None:
        caps["sampling"] = sampling_caps
    if modes:
        caps["elicitation"] = modes
    if roots is not None:
        caps["roots"] = {"listChanged": True}
    if extensions:
        # SEP-2133: identifier -> settings, each a JSON object (`{}` for none).
        for extension_id, settings in extensions.items():
            if "/" not in extension_id or not isinstance(settings, Mapping):  # pyright: ignore[reportUnnecessaryIsInstance]
                raise ValueError(
                    f"extensions maps 'vendor-prefix/name' to a settings mapping ({{}} for "
                    f"none), not {extension_id!r}: {settings!r}"
                )
        caps["extensions"] = {k: dict(v) for k, v in extensions.items()}
    return msgspec.convert(caps, ClientCapabilities)


def _with_meta(result: Any, key: str, value: Any) -> Any:
    """`result` (a struct or dict) as a dict with `_meta[key] = value` ("Associating
    Task-Related Messages": responses related to a task carry its id too)."""
    raw: dict[str, Any] = dict(msgspec.to_builtins(result))
    raw["_meta"] = {**(raw.get("_meta") or {}), key: value}
    return raw
