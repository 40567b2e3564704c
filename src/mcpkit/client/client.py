"""`Client`: connect to an MCP server (in-process, a command over stdio, or a URL over
Streamable HTTP) and use it.

async with Client(["python", "server.py"]) as client:
    tools = await client.list_tools()
    result = await client.call_tool("add", {"a": 1, "b": 2})

A `Client` holds its parts: one request path (`RequestPath`: the middleware, then the era
chosen at connect, `mcpkit.client.era`), the call groups that send through it
(`FeatureCalls`, `TaskRequests`, `SkillCalls`), and the `Connector` that opens its
connection from its settings (`mcpkit.client.client_settings`) and knows what the server
said; their methods and facts it serves as its own (`mcpkit._delegation`).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast, overload

from mcpkit._delegation import served_by, served_property
from mcpkit.client.callbacks import (
    ElicitationHandler,
    LogHandler,
    NotificationHandler,
    RootsProvider,
    SamplingHandler,
)
from mcpkit.client.calls import FeatureCalls
from mcpkit.client.client_settings import ClientOffers, ConnectionSettings, EraSettings, options
from mcpkit.client.connector import Connector
from mcpkit.client.era import choose_era, era
from mcpkit.client.request_path import ProgressHandler, RequestPath
from mcpkit.client.request_terms import DEFAULT_MAX_INPUT_ROUNDS
from mcpkit.client.results import ToolResult
from mcpkit.client.skill_calls import SkillCalls
from mcpkit.client.tap import MessageTap
from mcpkit.client.task_requestor import ClientTask, TaskRequests
from mcpkit.errors import LocalProtocolError
from mcpkit.protocol.limits import DEFAULT_MAX_MESSAGE_SIZE, MAX_JSON_DEPTH
from mcpkit.runtime.layers import CallNext, tell_session_began, tell_session_ended
from mcpkit.runtime.outbound import DEFAULT_SEND_HIGH_WATER
from mcpkit.transports.connect import Target
from mcpkit.transports.endpoint_url import check_endpoint_url, looks_like_url
from mcpkit.types import Implementation, ServerCapabilities

if TYPE_CHECKING:
    import httpx

    from mcpkit.client.group import ServerGroup
    from mcpkit.stores.tasks import TaskStore

__all__ = ["Client", "ClientMiddleware", "OutgoingRequest"]

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class OutgoingRequest:
    """What a client layer knows of the request it wraps: `method` and the `client` sending
    it (its `target`, `protocol_version`, `server_info`...)."""

    method: str
    client: Client


#: A layer: `async (request, params, call_next) -> result`. `request.method` names the
#: request; the layer may change `params` before `call_next(params)` (a dict, None or a
#: params struct, as the caller gave it), change or replace the decoded result, or raise.
ClientMiddleware = Callable[[OutgoingRequest, Any, CallNext], Awaitable[Any]]


class Client:
    """An MCP client session. Use as `async with Client(target) as client:`.

    Args:
        target: a `Server` (served in-process over the in-memory pair), a command as a list
            of strings (`["python", "server.py"]`, run over stdio; a bare `python` or
            `python3` means `sys.executable`), a path to a `.py` file, `StdioParameters`
            for full control of the subprocess, the URL of a Streamable HTTP endpoint
            (`"http://127.0.0.1:8000/mcp"`; a server that refuses it is spoken to over the
            older HTTP+SSE, as is a URL ending in `/sse`), a `StreamableHttpTransport`, or an
            `mcpServers` config (a dict): one connection per server, spoken to as one, names
            prefixed by server (docs/client.md "Many servers from one config"; the other
            options apply to each server, `servers` is the `ServerGroup`).
        name, version, client_info: the `clientInfo` sent at initialize (in the modern
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
            (`mcpkit.client.era.PROBE_TIMEOUT`), then falls back to `initialize`. Time
            `auth` spends getting a token (a person logging in) does not count.
        protocol: which era to speak (docs/client.md "Protocol revisions"): "auto" (the
            default) probes with `server/discover` and speaks the modern 2026-07-28
            revision if the server lists it, else opens a session with `initialize`;
            "2026-07-28" never sends initialize (a server that does not speak it fails the
            connect); "2025-11-25" (or an older revision, asked for at initialize) never
            sends server/discover.
        protocol_version: the revision initialize asks for (the server may answer an older
            one); giving it pins the legacy era, as `protocol` does.
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
        target: Target | Mapping[str, Any],
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
        self.requested_version, self.protocol = era(protocol, protocol_version)
        self.init_timeout, self.max_input_rounds = init_timeout, max_input_rounds
        self.on_log, self.on_notification = on_log, on_notification
        era_settings = EraSettings(protocol, protocol_version, init_timeout, max_input_rounds)
        settings = ConnectionSettings(
            stderr, max_message_size, max_json_depth, send_high_water, headers, auth, on_message
        )
        offers = ClientOffers(
            self.client_info,
            sampling_handler,
            sampling_tools,
            elicitation_handler,
            url_elicitation_handler,
            roots,
            tasks,
            task_store,
            extensions,
            extension_methods,
        )
        # What the middleware is told of each request this client sends.
        outgoing = functools.partial(OutgoingRequest, client=self)
        self._path: RequestPath[OutgoingRequest] = RequestPath(outgoing, middleware, timeout)
        self._tasks = TaskRequests(self._path)
        self._features = FeatureCalls(self._path, self._tasks)
        self._skills = SkillCalls(self._path, self._features)
        self._connector = Connector(self, settings, offers, era_settings, self._path, self._tasks)
        self.capabilities = self._connector.capabilities
        self._group: ServerGroup[Client] | None = None
        if isinstance(target, Mapping):
            from mcpkit.client.group import clients_of

            # Every option but the middleware (this client's own) is each server's.
            each = options(settings, offers, era_settings)
            each.update(on_log=on_log, on_notification=on_notification, timeout=timeout)
            self._group = clients_of(cast("Mapping[str, Any]", target), Client, each)

    @property
    def timeout(self) -> float | None:
        """Default seconds for each request (None waits forever)."""
        return self._path.timeout

    @timeout.setter
    def timeout(self, value: float | None) -> None:
        self._path.timeout = value

    @property
    def middleware(self) -> tuple[ClientMiddleware, ...]:
        """The layers around every request, the first outermost."""
        return self._path.middleware

    @middleware.setter
    def middleware(self, layers: Sequence[ClientMiddleware]) -> None:
        self._path.middleware = tuple(layers)

    # --------------------------------------------------------------- lifecycle

    async def __aenter__(self) -> Client:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def connect(self) -> None:
        """Open the transport and run the initialize handshake (for an `mcpServers` config:
        start every server, leaving out with a warning those that fail)."""
        if self._connector.conn is not None or self._path.current is not None:
            raise LocalProtocolError("this client is already connected")
        if self._group is not None:
            from mcpkit.client.group_calls import GroupCalls

            await self._group.connect()
            self._path.current = GroupCalls(self._group)
            return
        conn, session = await self._connector.open()
        try:
            self._path.current = await choose_era(
                self._connector.opening(), conn, session, self._path
            )
            await self._path.current.listen(self.on_notification is not None)
        except BaseException:
            await self.aclose()
            raise
        tell_session_began(self.middleware, self)  # (`ClientMetrics` times sessions)

    async def aclose(self) -> None:
        """End the session: close the transport (stdio: stdin, then SIGTERM, then SIGKILL)."""
        current, self._path.current = self._path.current, None
        if current is not None:
            tell_session_ended(self.middleware, self)
            await current.aclose()
        try:
            await self._connector.close()
        finally:
            if self._group is not None:
                await self._group.aclose()

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
        (as `result_type` if given). `timeout`: seconds; None for the client's default;
        `math.inf` for no bound. A task-augmented request (params with `task`, 2025-11-25)
        that times out or is cancelled cancels its task with `tasks/cancel` once its answer
        names it (docs/client.md, on timeouts)."""
        return await self._path.request(
            method, params, timeout=timeout, progress=progress, result_type=result_type
        )

    def add_middleware(self, layer: ClientMiddleware) -> None:
        """Add a layer inside those already there (it sees requests after them)."""
        self.middleware = (*self.middleware, layer)

    notify = served_by("_connector", Connector.notify)
    modern_params = served_by("_connector", Connector.modern_params)

    ping = served_by("_features", FeatureCalls.ping)
    list_tools = served_by("_features", FeatureCalls.list_tools)
    list_tools_page = served_by("_features", FeatureCalls.list_tools_page)
    call_tool = served_by("_features", FeatureCalls.call_tool)
    call_tool_as_task = served_by("_features", FeatureCalls.call_tool_as_task)
    list_resources = served_by("_features", FeatureCalls.list_resources)
    list_resources_page = served_by("_features", FeatureCalls.list_resources_page)
    list_resource_templates = served_by("_features", FeatureCalls.list_resource_templates)
    list_resource_templates_page = served_by("_features", FeatureCalls.list_resource_templates_page)
    read_resource = served_by("_features", FeatureCalls.read_resource)
    subscribe = served_by("_features", FeatureCalls.subscribe)
    unsubscribe = served_by("_features", FeatureCalls.unsubscribe)
    list_prompts = served_by("_features", FeatureCalls.list_prompts)
    list_prompts_page = served_by("_features", FeatureCalls.list_prompts_page)
    get_prompt = served_by("_features", FeatureCalls.get_prompt)
    complete = served_by("_features", FeatureCalls.complete)
    set_logging_level = served_by("_features", FeatureCalls.set_logging_level)
    send_roots_list_changed = served_by("_features", FeatureCalls.send_roots_list_changed)

    # ------------------------------------------------------------------- tasks

    get_task = served_by("_tasks", TaskRequests.get_task)
    list_tasks = served_by("_tasks", TaskRequests.list_tasks)
    list_tasks_page = served_by("_tasks", TaskRequests.list_tasks_page)
    cancel_task = served_by("_tasks", TaskRequests.cancel_task)
    forget_task = served_by("_tasks", TaskRequests.forget_task)

    @overload
    async def task_result(self, task_id: str, *, timeout: float | None = None) -> ToolResult: ...

    @overload
    async def task_result(
        self, task_id: str, *, result_type: type[R], timeout: float | None = None
    ) -> R: ...

    async def task_result(
        self, task_id: str, *, result_type: Any = ToolResult, timeout: float | None = None
    ) -> Any:
        """The outcome of a task (`tasks/result`, which blocks until it ends), decoded as
        `result_type` (a tool call's by default); a stored JSON-RPC error raises McpError.
        `timeout` seconds bound the wait (None: until the task ends)."""
        return await self._tasks.task_result(task_id, result_type=result_type, timeout=timeout)

    @overload
    async def task_handle(self, task_id: str) -> ClientTask[ToolResult]: ...

    @overload
    async def task_handle(self, task_id: str, *, result_type: type[R]) -> ClientTask[R]: ...

    async def task_handle(self, task_id: str, *, result_type: Any = ToolResult) -> Any:
        """A handle for a task made earlier, perhaps on another connection (its state is
        fetched first); `result_type` is what its request returns (a tool call's by default)."""
        return await self._tasks.task_handle(task_id, result_type=result_type)

    track_task = served_by("_tasks", TaskRequests.track_task)

    # ------------------------------------------------------------------ skills

    list_skills = served_by("_skills", SkillCalls.list_skills)
    list_skills_page = served_by("_skills", SkillCalls.list_skills_page)
    get_skill = served_by("_skills", SkillCalls.get_skill)
    read_directory = served_by("_skills", SkillCalls.read_directory)
    load_skill = served_by("_skills", SkillCalls.load_skill)

    fetch_card = served_by("_connector", Connector.fetch_card)

    # ------------------------------------------------------------------- facts

    @property
    def servers(self) -> ServerGroup[Client]:
        """The servers of the `mcpServers` config this client was made from, each its own
        client (`client.servers["github"]`); which failed to start, and why (`.failed`)."""
        if self._group is None:
            raise LocalProtocolError("this client was not made from an mcpServers config")
        return self._group

    connection = served_property("_connector", Connector.connection)
    session = served_property("_connector", Connector.session)
    initialize_result = served_property("_connector", Connector.initialize_result)
    server_info = served_property("_connector", Connector.server_info)
    server_extension = served_by("_connector", Connector.server_extension)
    discovered = served_property("_connector", Connector.discovered)
    session_id = served_property("_connector", Connector.session_id)

    # (Properties of their own: type checkers match them to `group.ServerClient`'s.)
    @property
    def server_capabilities(self) -> ServerCapabilities:
        return self._path.era.server_capabilities

    @property
    def instructions(self) -> str | None:
        return self._path.era.instructions

    @property
    def protocol_version(self) -> str:
        """The revision spoken: the modern one chosen at connect, or initialize's."""
        return self._path.era.protocol_version

    _modern = served_property("_connector", Connector.modern)
