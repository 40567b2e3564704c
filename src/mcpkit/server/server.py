"""`Server`: the public server framework. Decorators register tools, resources and prompts;
`serve(channel)` runs one client session; `run()` serves stdio or HTTP.

This module holds what a server is (its settings, what it declares, the servers mounted in
it) and the way into each request (`handle_request`: the era's handler from the one table,
the Context, the call). The rest are objects it holds and hands its public methods over to:
`catalog.catalog.Catalog` (its registries, and registering features),
`serving.protocol_sessions.ProtocolSessions` (the protocol sessions it builds),
`serving.transport_serving.TransportServing` (`serve`, `run_stdio`, `http_app`, `run`),
`serving.broadcasts.SessionBroadcasts` (changes announced to the sessions),
`serving.broker_link.BrokerLink` (what its broker carries) and `serving.lifespan.ServerLifespan`
(the lifespan hook the sessions share); and `handlers.routing`, a request's way through the
middleware and the mounts, errors masked on the way back.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from collections.abc import AsyncGenerator, Callable, Collection, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self, TypeVar, Unpack, overload

from mcpkit._delegation import served_by
from mcpkit._version import __version__
from mcpkit.errors import LocalProtocolError, McpError, ToolError
from mcpkit.protocol import codes
from mcpkit.protocol.events import (
    Event,
    NotificationReceived,
    RequestReceived,
    StrayCancel,
    StrayResponse,
)
from mcpkit.protocol.limits import DEFAULT_MAX_MESSAGE_SIZE, MAX_JSON_DEPTH
from mcpkit.protocol.own_terms import ROUND_TRIP_METHODS, CachePolicy
from mcpkit.protocol.server_session import ServerSession
from mcpkit.protocol.session import DEFAULT_MAX_INFLIGHT
from mcpkit.protocol.unread_meta import UNREAD_TYPES
from mcpkit.runtime.background import BackgroundTasks
from mcpkit.runtime.channel import MessageChannel
from mcpkit.runtime.connection import Connection
from mcpkit.runtime.outbound import DEFAULT_SEND_HIGH_WATER
from mcpkit.runtime.response import Response
from mcpkit.server.asking.asks import (
    DEFAULT_MAX_PENDING_CLIENT_REQUESTS,
    DEFAULT_MAX_PENDING_CLIENT_REQUESTS_PER_SESSION,
    AskBudget,
)
from mcpkit.server.asking.request_state import DEFAULT_STATE_TTL, StateKeys, StateSeal
from mcpkit.server.asking.round_trip import InputRequired, RoundTrip
from mcpkit.server.catalog.access import param_headers_by_name, scopes_for
from mcpkit.server.catalog.callers import principal_of
from mcpkit.server.catalog.catalog import Catalog, Completer
from mcpkit.server.catalog.declared_capabilities import Feature, declared_capabilities
from mcpkit.server.catalog.extension_methods import ExtensionMethod
from mcpkit.server.catalog.listeners import Listeners
from mcpkit.server.catalog.mounted_tools import transform_tool
from mcpkit.server.catalog.prompts import PromptOptions
from mcpkit.server.catalog.registration_checks import check_options
from mcpkit.server.catalog.result_budget import ResultBudget, budget_of
from mcpkit.server.catalog.search import ToolSearch
from mcpkit.server.catalog.tool_limits import check_timeout
from mcpkit.server.catalog.tools import (
    ToolOptions,
    ToolSpec,
    tool_error_prefix_format,
)
from mcpkit.server.catalog.transforms import ToolTransformOptions, ToolTransforms
from mcpkit.server.catalog.visibility import Visibility
from mcpkit.server.context import Context
from mcpkit.server.handlers import OWN_TERMS_HANDLERS, SESSION_HANDLERS, Handler
from mcpkit.server.handlers.as_tools import add_prompts_as_tools, add_resources_as_tools
from mcpkit.server.handlers.features import read_resource
from mcpkit.server.handlers.routing import (
    era_handler,
    extension_handler,
    masked,
    resume,
    through_layers,
)
from mcpkit.server.hooks.chains import watched_event
from mcpkit.server.middleware import Middleware
from mcpkit.server.mount import (
    Mount,
    context_for,
    mount_server,
    owner_of,
    shown_contents,
    with_mounted,
)
from mcpkit.server.request_peer import RequestPeer
from mcpkit.server.serving.broadcasts import SessionBroadcasts
from mcpkit.server.serving.broker_link import BrokerLink
from mcpkit.server.serving.http_routes import HttpRoutes
from mcpkit.server.serving.lifespan import ServerLifespan
from mcpkit.server.serving.protocol_sessions import FeatureSession, ProtocolSessions
from mcpkit.server.serving.transport_serving import TransportServing
from mcpkit.server.session import HeldSessions, Peer, ServerSessionHandle
from mcpkit.server.state.server_kv import KeyValue
from mcpkit.stores.broker import Broker
from mcpkit.stores.sessions import SessionRecord
from mcpkit.stores.url import Stores, as_stores
from mcpkit.types import (
    Icon,
    Implementation,
    ReadResourceRequestParams,
    ReadResourceResult,
    ServerCapabilities,
)
from mcpkit.types.methods import STATELESS_REVISIONS

if TYPE_CHECKING:
    import httpx

    from mcpkit.auth.server.resource import ProtectedResource
    from mcpkit.auth.server.verifier import AccessToken
    from mcpkit.openapi import ComponentFn, RouteMap, RouteMapFn
    from mcpkit.protocol.terms import Terms
    from mcpkit.server.surface import RootsChanged, ServerApi
    from mcpkit.stores.component_rules import ComponentRule
    from mcpkit.stores.task_runner import TaskRunner
    from mcpkit.stores.tasks import TaskStore
    from mcpkit.transports.http.custom_routes import CustomRoute

__all__ = ["Lifespan", "Server"]

#: The environment variable that turns error masking off ("0") where `mask_error_details`
#: is not given: `mcpkit dev` sets it for the server it runs.
MASK_ERRORS_VARIABLE = "MCPKIT_MASK_ERROR_DETAILS"
logger = logging.getLogger("mcpkit.server")
F = TypeVar("F", bound=Callable[..., Any])
Lifespan = Callable[["Server"], contextlib.AbstractAsyncContextManager[Any]]
#: The settings its protocol sessions and `capabilities()` are worked out from: replaced,
#: never changed in place, and each replacement counted as a change (`Server.__setattr__`).
_COUNTED_SETTINGS = frozenset(
    {
        "info",
        "instructions",
        "features",
        "auth",
        "cache",
        "max_message_size",
        "max_json_depth",
        "max_inflight",
        "middleware",
        "mounts",
    }
)


class Server:
    """An MCP server: name it, register features with decorators, then `run()` it.

    Args:
        name, version, title, description, website_url, icons: the `serverInfo` sent at
            initialize (and in `server/discover`); without a `version`, mcpkit's own, as the
            official SDK and FastMCP send theirs.
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
            than on the event loop; a tool, resource or prompt's own `sync_in_thread=`
            decides for that one.
        lenient_arguments: the default of every tool's `lenient_arguments`: accept numbers
            and booleans sent as strings (`"36"` for an integer), as some models send them,
            and advertise that in the input schemas. By default arguments must fit the
            schema as JSON Schema reads it.
        json_string_arguments: take a tool's object or array argument sent as a JSON string
            (`"{\"a\": 1}"`, as many clients send them) when the string parses to a value
            that fits (the default); False refuses it as the input schema reads it
            (docs/server.md, "Arguments sent as JSON strings").
        mask_error_details: send the client a generic message instead of the text of an
            unexpected exception from a tool, resource, prompt or any handler (the traceback
            is logged on the server either way); `ToolError` and `McpError` pass as they are.
            None (the default): on, unless the environment variable
            MCPKIT_MASK_ERROR_DETAILS is "0" (`mcpkit dev` sets it for the server it runs).
            An exception's text can hold paths, queries, secrets: keep it on in production.
        tool_error_prefix: put a prefix before the text of a `ToolError`, so a model that
            is handed the text without `isError` (as some agent frameworks do) can tell it
            failed: True for the official SDK's `Error executing tool {name}: `, or a format
            string of your own with `{name}`, the tool's name. False (the default): the text
            alone.
        tool_timeout: the default of every tool's `timeout=`: seconds after which a call's
            work is cancelled and it ends with a tool error (docs/server.md, "Timeouts and
            result budgets"). None (the default): no timeout.
        max_result: the default of every tool's `max_result=`: the bytes (an int) or
            `mcpkit.server.ResultBudget` its results' content is cut to, the overflow cut or
            kept as a resource for the caller. None (the default): any size.
        auth: protect the HTTP endpoint (`http_app()`, `run(transport="http")`, `mcpkit
            run`): a `mcpkit.auth.server.resource.ProtectedResource` (docs/auth.md). stdio
            and in-memory sessions are not protected by it (the spec: credentials for stdio
            come from the environment).
        task_store: where the tasks of tools called as tasks (`@server.tool(task=True)`)
            are kept: a `mcpkit.stores.tasks.TaskStore`; by default the `store`'s
            (docs/tasks.md).
        middleware: layers around every request this server handles (docs/server.md,
            "Middleware"); the first is outermost. `add_middleware` adds more.
        broker: how changes (list_changed, resources/updated) reach every session, and
            where responses that no request awaits go: a `mcpkit.stores.broker.Broker`; by
            default the `store`'s.
        store: where sessions, their event logs and tasks are kept, and how changes reach
            other processes, as one URL: "memory://" (the default: this process only),
            "sqlite:///path.db" (durable on one host), "redis://host:port/db" (many
            processes and hosts), or a `mcpkit.stores.url.Stores` (docs/deploy.md).
    """

    _broker_link: BrokerLink  # its broker, as the lifespan reads it (set in `__init__`)

    def __init__(
        self,
        name: str,
        version: str | None = None,
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
        json_string_arguments: bool = True,
        mask_error_details: bool | None = None,
        tool_error_prefix: bool | str = False,
        tool_timeout: float | None = None,
        max_result: int | ResultBudget | None = None,
        auth: ProtectedResource | None = None,
        task_store: TaskStore | None = None,
        middleware: Iterable[Middleware] = (),
        broker: Broker | None = None,
        request_state_key: StateKeys | None = None,
        request_state_ttl: float = DEFAULT_STATE_TTL,
        request_state_single_use: bool = True,
        cache: CachePolicy | None = None,
        store: str | Stores | None = None,
    ) -> None:
        if version is None:
            version = __version__
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
        self.tool_error_prefix = tool_error_prefix_format(tool_error_prefix)
        self.json_string_arguments = json_string_arguments
        self.auth = auth
        self._task_store = task_store
        self.middleware: tuple[Middleware, ...] = tuple(middleware)
        self._task_runner: TaskRunner | None = None
        #: Work started outside any request (a list change announced, roots changed).
        self._tasks = BackgroundTasks()
        #: Called (as a task) when a client says its roots changed.
        self.on_roots_changed: RootsChanged | None = None
        #: The sessions this process serves: where the broker's changes are delivered.
        self.sessions = HeldSessions(on_left=self._session_left)
        #: The open 2026-07-28 `subscriptions/listen` requests of this process.
        self.listeners = Listeners()
        #: The stores named by `store` (`use_store` replaces them before serving).
        self.store: Stores = as_stores(store)
        self._kv = KeyValue(self)
        #: The `lifespan` hook as its sessions share it (`running`).
        self._span = ServerLifespan(
            self, shared_broker=lambda: self._broker_link.shared, end_tasks=self._end_tasks
        )
        #: Serving over a channel, stdio or HTTP (`serve`, `run_stdio`, `http_app`, `run`).
        self._serving = TransportServing(self)
        #: The routes served beside its HTTP endpoint (`custom_route`).
        self._routes = HttpRoutes()
        #: Changes announced to the sessions (`_listen_to` hands it the broker's).
        self._broadcasts = SessionBroadcasts(
            self,
            span=self._span,
            sessions=self.sessions,
            listeners=self.listeners,
            tasks=self._tasks,
        )
        #: What it offers: the registries, and the registering its decorators hand over to.
        self._catalog = catalog = Catalog(
            announce=self._broadcasts.announce,
            lenient_arguments=lenient_arguments,
            tool_timeout=check_timeout("Server(tool_timeout=)", tool_timeout),
            max_result=budget_of("Server(max_result=)", max_result),
        )
        # The catalog's registries, as the server's own (`server.tools.items()`): the same
        # objects, never replaced, and read on every request without a call in between.
        self.tools = catalog.tools
        self.resources = catalog.resources
        self.templates = catalog.templates
        self.prompts = catalog.prompts
        self.skills = catalog.skills
        #: What it shows of them (`enable`, `disable`, `add_visibility_rule`).
        self.visibility = catalog.visibility
        #: The protocol sessions it builds, each of `_session_type` (`new_connection`,
        #: `request_peer`).
        self._protocols = ProtocolSessions(self, catalog, self._session_type)
        self._own_broker = broker is None
        self.broker: Broker = broker if broker is not None else self.store.broker
        #: Its broker's changes, and responses and cancellations other processes forward.
        self._broker_link = self._link(self.broker)
        #: Seals the requestState of 2026-07-28 requests that ask the client something; its
        #: key must be the same on every replica (basic/patterns/mrtr; docs/server.md).
        self.state_seal = StateSeal(request_state_key, ttl=request_state_ttl)
        #: Whether a requestState is accepted once only (through `store.replay`), so that a
        #: replayed retry does not run the tool's last step again (docs/server.md).
        self.request_state_single_use = request_state_single_use
        #: The freshness hints of 2026-07-28 list and read results (server/utilities/caching).
        self.cache = cache or CachePolicy()
        #: The servers mounted in this one (`mount`), in order.
        self.mounts: tuple[Mount, ...] = ()
        #: Where this server is mounted, if it is.
        self.mounted_in: Mount | None = None
        #: What `capabilities()` depends on that counts its changes: the catalog's.
        self._changes = catalog.changes
        #: `capabilities()`, after the catalog's count of changes it was worked out at (the
        #: settings' and the completers' included; -1: not yet).
        self._capabilities: tuple[int, ServerCapabilities] = (-1, ServerCapabilities())
        #: `param_headers` of every tool, for the count of the tools' changes it was made at.
        self._param_headers: tuple[int, dict[str, Mapping[str, tuple[str, ...]]]] = (-1, {})

    def __setattr__(self, name: str, value: Any) -> None:
        # A setting replaced counts as a change of what the server declares, as a tool
        # registered does: what is worked out from them (`capabilities()`, the session that
        # reads 2026-07-28 requests) then compares one count on every request, not each
        # setting. (None counted before the catalog exists: nothing was worked out yet.)
        object.__setattr__(self, name, value)
        if name in _COUNTED_SETTINGS and "_changes" in self.__dict__:
            self._changes.count += 1

    # ----------------------------------------------------- from an OpenAPI document

    @classmethod
    def from_openapi(
        cls,
        spec: Mapping[str, Any] | str | os.PathLike[str],
        *,
        client: httpx.AsyncClient,
        name: str | None = None,
        names: Mapping[str, str] | None = None,
        route_maps: Collection[RouteMap] = (),
        route_map_fn: RouteMapFn | None = None,
        mcp_component_fn: ComponentFn | None = None,
        uri_prefix: str | None = None,
        forward_headers: Collection[str] = (),
        document_url: str | None = None,
        max_response_bytes: int | None = None,
        max_schema_nodes: int | None = None,
        **server_options: Any,
    ) -> Self:
        """A server whose tools, resources and templates are the operations of an OpenAPI
        3.0/3.1 document (a dict, or a JSON or YAML file), called through `client`
        (`httpx.AsyncClient(base_url=...)`; docs/compose.md). `names`, `route_maps`,
        `route_map_fn`, `mcp_component_fn` (FastMCP's hooks), `uri_prefix`,
        `max_response_bytes` and `max_schema_nodes` are `mcpkit.openapi.build_routes`'s;
        `forward_headers` names headers of the MCP request passed on by every call, besides
        those a route map names. The name and version are the document's unless given;
        other keywords go to `Server(...)`. A URL needs a fetch: `from_openapi_url`."""
        from mcpkit.openapi import read_spec
        from mcpkit.server.catalog.openapi import build_server, is_url

        if is_url(spec):
            raise ValueError(
                f"{spec!r} is a URL, which must be fetched: "
                "`await Server.from_openapi_url(url, client=...)`"
            )
        return build_server(
            cls,
            read_spec(spec if isinstance(spec, Mapping | str) else os.fspath(spec)),
            client=client,
            name=name,
            forward_headers=forward_headers,
            server_options=server_options,
            names=names,
            route_maps=route_maps,
            route_map_fn=route_map_fn,
            mcp_component_fn=mcp_component_fn,
            uri_prefix=uri_prefix,
            document_url=document_url,
            max_response_bytes=max_response_bytes,
            max_schema_nodes=max_schema_nodes,
        )

    @classmethod
    async def from_openapi_url(
        cls,
        url: str,
        *,
        client: httpx.AsyncClient,
        name: str | None = None,
        names: Mapping[str, str] | None = None,
        route_maps: Collection[RouteMap] = (),
        route_map_fn: RouteMapFn | None = None,
        mcp_component_fn: ComponentFn | None = None,
        uri_prefix: str | None = None,
        forward_headers: Collection[str] = (),
        max_response_bytes: int | None = None,
        max_schema_nodes: int | None = None,
        **server_options: Any,
    ) -> Self:
        """`from_openapi` over the document at `url`, fetched with `client`; a relative
        server URL in it is relative to `url`."""
        from mcpkit.openapi import load_spec
        from mcpkit.server.catalog.openapi import build_server

        return build_server(
            cls,
            await load_spec(url, client=client),
            client=client,
            name=name,
            forward_headers=forward_headers,
            server_options=server_options,
            names=names,
            route_maps=route_maps,
            route_map_fn=route_map_fn,
            mcp_component_fn=mcp_component_fn,
            uri_prefix=uri_prefix,
            document_url=url,
            max_response_bytes=max_response_bytes,
            max_schema_nodes=max_schema_nodes,
        )

    @classmethod
    def from_fastapi(
        cls,
        app: Any,
        *,
        name: str | None = None,
        names: Mapping[str, str] | None = None,
        route_maps: Collection[RouteMap] = (),
        route_map_fn: RouteMapFn | None = None,
        mcp_component_fn: ComponentFn | None = None,
        uri_prefix: str | None = None,
        forward_headers: Collection[str] = (),
        base_url: str = "http://fastapi",
        max_response_bytes: int | None = None,
        max_schema_nodes: int | None = None,
        lifespan: Lifespan | None = None,
        **server_options: Any,
    ) -> Self:
        """`from_openapi` over a FastAPI app's own document (`app.openapi()`), called in
        process (no network; `base_url` is what its requests see). The app's lifespan runs
        inside the server's, around `lifespan`'s, whose value is `ctx.lifespan_state`."""
        from mcpkit.openapi import check_spec
        from mcpkit.server.catalog.openapi import app_lifespan, build_server, in_process_client

        state: dict[str, Any] = {}
        return build_server(
            cls,
            check_spec(app.openapi()),
            client=in_process_client(app, state, base_url),
            name=name,
            forward_headers=forward_headers,
            server_options={**server_options, "lifespan": app_lifespan(app, state, lifespan)},
            names=names,
            route_maps=route_maps,
            route_map_fn=route_map_fn,
            mcp_component_fn=mcp_component_fn,
            uri_prefix=uri_prefix,
            max_response_bytes=max_response_bytes,
            max_schema_nodes=max_schema_nodes,
        )

    # ------------------------------------------------------------- registering
    # Handed to the catalog (`catalog.catalog.Catalog`), where each is written and told.

    @overload
    def tool(self, name: F) -> F: ...

    @overload
    def tool(self, name: str | None = None, **options: Unpack[ToolOptions]) -> Callable[[F], F]: ...

    def tool(self, name: Any = None, **options: Any) -> Any:
        """Register a function as a tool: its hints give the schemas, its docstring the
        description. Works as `@server.tool` and `@server.tool(...)`. With `scopes=[...]`,
        a caller on a protected HTTP endpoint whose token lacks them neither sees the tool
        nor may call it (docs/auth.md); over stdio and in memory they are not enforced.
        With `task=True` ("optional") or `task="required"`, clients may (must) call it as
        a task: answered at once, run in the background, its result fetched later
        (docs/tasks.md). With `sync_in_thread=False`, a plain `def` that never blocks runs
        on the event loop instead of a worker thread (docs/server.md)."""
        return self._catalog.tool(name, **options)

    add_tool = served_by("_catalog", Catalog.add_tool)
    remove_tool = served_by("_catalog", Catalog.remove_tool)
    resource = served_by("_catalog", Catalog.resource)
    add_resource = served_by("_catalog", Catalog.add_resource)
    remove_resource = served_by("_catalog", Catalog.remove_resource)

    @overload
    def prompt(self, name: F) -> F: ...

    @overload
    def prompt(
        self, name: str | None = None, **options: Unpack[PromptOptions]
    ) -> Callable[[F], F]: ...

    def prompt(self, name: Any = None, **options: Any) -> Any:
        """Register a function as a prompt; its parameters are the prompt's arguments. Works
        as `@server.prompt` and `@server.prompt(...)`."""
        return self._catalog.prompt(name, **options)

    add_prompt = served_by("_catalog", Catalog.add_prompt)
    remove_prompt = served_by("_catalog", Catalog.remove_prompt)
    view = served_by("_catalog", Catalog.view)
    add_view = served_by("_catalog", Catalog.add_view)
    skill = served_by("_catalog", Catalog.skill)
    add_skill = served_by("_catalog", Catalog.add_skill)
    remove_skill = served_by("_catalog", Catalog.remove_skill)
    completion = served_by("_catalog", Catalog.completion)
    declare_extension = served_by("_catalog", Catalog.declare_extension)
    add_tool_search = served_by("_catalog", Catalog.add_tool_search)
    add_prompts_as_tools = served_by("_catalog", add_prompts_as_tools)
    add_resources_as_tools = served_by("_catalog", add_resources_as_tools)

    @property
    def kv(self) -> KeyValue:
        """This server's own keys and values, in `store` (docs/server.md, "State")."""
        return self._kv

    @property
    def completers(self) -> dict[tuple[str, str, str], Completer]:
        """The completers (`completion`): (reference type, prompt or template, argument) ->
        completer. A dict to change in place as well (each change is counted, and declared
        to the next request); one assigned here replaces what it holds."""
        return self._catalog.completers

    @completers.setter
    def completers(self, completers: dict[tuple[str, str, str], Completer]) -> None:
        mine = self._catalog.completers
        if completers is not mine:
            mine.clear()
            mine.update(completers)

    @property
    def tool_search(self) -> ToolSearch | None:
        """What `add_tool_search` set, or None (docs/compose.md, "Large catalogs")."""
        return self._catalog.tool_search

    # Which of them it shows (`catalog.visibility`; docs/compose.md, "Tags and visibility").
    enable = served_by("visibility", Visibility.enable)
    disable = served_by("visibility", Visibility.disable)
    add_visibility_rule = served_by("visibility", Visibility.add_rule)
    tombstone = served_by("visibility", Visibility.tombstone)

    def completable(self) -> bool:
        """Whether anything can be completed (completers, or Literal/Enum arguments), here or
        in a mounted server."""
        return self._catalog.completable() or any(m.server.completable() for m in self.mounts)

    @property
    def lenient_arguments(self) -> bool:
        """The default of every tool's `lenient_arguments` (see `Server`)."""
        return self._catalog.lenient_arguments

    @lenient_arguments.setter
    def lenient_arguments(self, lenient: bool) -> None:
        self._catalog.lenient_arguments = lenient

    @property
    def extension_settings(self) -> dict[str, dict[str, Any]]:
        """The extensions this server declares beyond those its features imply (SEP-2133;
        `declare_extension`): identifier -> settings, in `capabilities.extensions`."""
        return self._catalog.extension_settings

    @property
    def extension_handlers(self) -> dict[str, ExtensionMethod]:
        """The requests its declared extensions add: method -> (extension, handler)."""
        return self._catalog.extension_handlers

    @property
    def extension_method_names(self) -> frozenset[str]:
        """The names of the requests its declared extensions add."""
        return self._catalog.extension_method_names

    # ------------------------------------------------------------ capabilities

    def capabilities(self) -> ServerCapabilities:
        """What this server declares at initialize (inferred from registrations by default)."""
        # Asked for every session: worked out again only when what it depends on changed.
        # The catalog counts every such change: of its registries (a mounted server's count
        # as its parent's), extensions, skills and completers (a dict that counts its
        # changes in place), and the settings replaced (`__setattr__`).
        known = self._capabilities
        if known[0] == self._changes.count:
            return known[1]
        count = self._changes.count
        capabilities = self._declared_capabilities()
        self._capabilities = (count, capabilities)
        return capabilities

    def _extension_sets(self) -> tuple[dict[str, dict[str, Any]], ...]:
        """The declared extensions of this server and of those mounted in it (each dict is
        replaced, never changed, by `declare_extension`)."""
        found: tuple[dict[str, dict[str, Any]], ...] = (self._catalog.extension_settings,)
        for mount in self.mounts:
            found += tuple(server.extension_settings for server in with_mounted(mount.server))
        return found

    def _declared_capabilities(self) -> ServerCapabilities:
        tasks: Literal["", "tools", "tools+list"] = ""
        if self.serves_tasks:
            # tasks/list only where requestors are told apart ("Task Isolation and Access
            # Control").
            tasks = "tools+list" if self.auth is not None else "tools"
        return declared_capabilities(
            self.features,
            self._catalog,
            completable=self.completable,
            tasks=tasks,
            extension_sets=self._extension_sets(),
        )

    @property
    def serves_tasks(self) -> bool:
        """Whether some tool, here or mounted, may be called as a task (so `tasks` is
        declared)."""
        return self._catalog.serves_tasks

    def _link(self, broker: Broker) -> BrokerLink:
        return BrokerLink(broker, deliver=self._broadcasts.deliver, sessions=self.sessions)

    def use_store(self, store: str | Stores) -> Stores:
        """Keep this server's state in `store` (a URL, as `Server(store=...)` takes, or a
        `Stores`) from now on: what `mcpkit run --store` and `http_app(store=...)` do. Only
        before the server serves anything: RuntimeError once it has. A `task_store` or
        `broker` given to the constructor stays in use."""
        if self._task_runner is not None or self.sessions or self._span.users:
            raise RuntimeError(f"{self.name} already serves: give its store before it starts")
        stores = as_stores(store)
        if self._own_broker:
            self._broker_link.close()
            self._broker_link = self._link(stores.broker)
            self.broker = stores.broker
        self.store = stores
        return stores

    @property
    def task_runner(self) -> TaskRunner:
        """Runs this server's tasks; its `store` is `task_store` (the `store`'s unless one
        was given). A mounted server's tasks are its parent's: tasks/get reaches them."""
        if self.mounted_in is not None:
            return self.mounted_in.parent.task_runner
        if self._task_runner is None:
            from mcpkit.server.tasks.augmented import tool_failed
            from mcpkit.server.tasks.extension import announce
            from mcpkit.stores.task_runner import TaskRunner

            store = self._task_store if self._task_store is not None else self.store.tasks
            self._task_runner = TaskRunner(
                store, failed=tool_failed, on_polled_status=functools.partial(announce, self)
            )
        return self._task_runner

    async def _end_tasks(self) -> None:
        """End the tasks of this server's tools called as tasks (as its lifespan ends)."""
        if self._task_runner is not None:
            await self._task_runner.aclose()

    # ------------------------------------------------------------- broadcasts

    async def notify_resource_updated(self, uri: str) -> None:
        """Tell every session subscribed to `uri` that it changed (server/resources). Never
        waits for a client: each session's notification is queued in a task, and one still
        waiting for a slow client to read makes further ones for the same URI redundant
        (`ServerSessionHandle.announce`)."""
        await self._broadcasts.resource_updated(uri)

    # ---------------------------------------------------------------- lifespan

    @property
    def lifespan_state(self) -> Any:
        """What the lifespan hook yielded (`ctx.lifespan_state`), while it is entered."""
        return self._span.state

    @property
    def is_running(self) -> bool:
        """Whether the lifespan has been entered (some session is being served)."""
        return self._span.is_running

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncGenerator[Self, None]:
        """Enter the lifespan hook once for however many sessions are being served, and
        bring the tool search's index (`add_tool_search`) up to date with the tools."""
        async with self._span.running():
            search = self._catalog.tool_search
            if search is not None:
                # The search index is built as serving starts (after the lifespan hook and
                # the mounted servers', which may register tools), not by a client's first
                # search: docs/performance.md, "Tool search".
                search.prepare(self.tools.items())
            yield self

    def close_listens(self) -> None:
        """Answer every open `subscriptions/listen` now, their graceful end: a listen never
        ends on its own, so a server that begins to shut down ends them at once (the HTTP
        app does, before uvicorn waits for its open responses), and each client learns
        straight away that this server went away."""
        self.listeners.close_all()

    def end_listen(self, request: object) -> bool:
        """Answer the `subscriptions/listen` that `request` (a `request_peer`) serves, if it
        serves one: its graceful end, as at shutdown, for a client at its cap of requests
        (`mcpkit.transports.http.own_calls.OwnCalls.make_room`); whether it did."""
        return self.listeners.end(request)

    def add_middleware(self, middleware: Middleware) -> None:
        """Add a layer inside those already added (the first added stays outermost)."""
        self.middleware = (*self.middleware, middleware)

    #: Whether this server may mount others (`mount`): its tools, resources and prompts are
    #: its registries'. A proxy (`mcpkit.proxy.ProxyServer`) answers every request of its own
    #: sessions from its upstream server instead, so it may not (it may be mounted).
    composable: ClassVar[bool] = True

    def mount(
        self,
        other: ServerApi,
        namespace: str | None = None,
        *,
        separator: str = "_",
        tool_names: Mapping[str, str] | None = None,
        transforms: ToolTransforms | None = None,
    ) -> None:
        """Serve `other`'s tools, resources, resource templates and prompts as this server's,
        live, under `namespace`: tool and prompt `name` as `{namespace}_name`, a URI
        `scheme://rest` as `scheme://{namespace}/rest` (docs/server.md, "Composing servers").
        `namespace=None` keeps names and URIs; a name both servers have is refused here, and
        one that appears later is this server's. Mount before serving: `other`'s lifespan
        runs inside this one's. `tool_names` shows some of `other`'s tools (by their names
        there) under names of their own, as given; `transforms` derives tools from them,
        a `ToolTransform` per name or a function of each wire `Tool` (docs/compose.md,
        "Tool transforms")."""
        mount_server(self, other, namespace, separator, tool_names, transforms)

    def transform_tool(
        self, tool: str, /, *, keep_original: bool = False, **options: Unpack[ToolTransformOptions]
    ) -> ToolSpec:
        """Derive a tool from the tool `tool` (this server's own, or a mounted one), shown
        instead of it, or beside it with `keep_original=True`; the options are
        `mcpkit.server.ToolTransform`'s (docs/compose.md, "Tool transforms"). Returns
        the derived tool's spec."""
        check_options("server.transform_tool()", options, ToolTransformOptions)
        return transform_tool(self, tool, keep_original, options)

    # ---------------------------------------------------------------- serving
    # Handed to the serving it holds (`serving.transport_serving.TransportServing`).

    serve = served_by("_serving", TransportServing.serve)
    run_stdio = served_by("_serving", TransportServing.run_stdio)
    http_app = served_by("_serving", TransportServing.http_app)
    lambda_handler = served_by("_serving", TransportServing.lambda_handler)
    run = served_by("_serving", TransportServing.run)
    custom_route = served_by("_routes", HttpRoutes.custom_route)

    @property
    def custom_routes(self) -> tuple[CustomRoute, ...]:
        """The routes of `custom_route`, in the order they were registered."""
        return tuple(self._routes.routes)

    # ---------------------------------------------------------------- sessions

    def new_connection(
        self, channel: MessageChannel, record: SessionRecord | None = None
    ) -> ServerSessionHandle:
        """Build (but do not run) the session for one client over `channel`; `record` is the
        session's (a fresh one by default; `restore` passes a saved one)."""
        protocol = self._protocols.new()
        return ServerSessionHandle(
            self, functools.partial(self._connect, protocol=protocol, channel=channel), record
        )

    def request_peer(self, response: Response) -> RequestPeer:
        """The client of one request that carries its own terms (2026-07-28 over
        Streamable HTTP), as its handler sees it: `peer.serve(body, info)` reads the body with
        this server's reading session, runs the request in the caller's task and writes
        what it sends and its answer to `response`. Nothing of it outlives the request."""
        return RequestPeer(self, self._protocols.reader(), response)

    #: The protocol session each client gets (the proxy's answers `initialize` itself).
    _session_type: type[ServerSession] = FeatureSession

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

    # ---------------------------------------------------------------- requests

    async def handle_request(self, handle: Peer, ev: RequestReceived) -> Any:
        """Serve one request of `handle`'s client: its handler's result (raises McpError)."""
        terms = ev.terms
        # (`is_stateless_revision`, inlined: once per request)
        stateless = terms is not None and terms.stateless and terms.revision in STATELESS_REVISIONS
        method = ev.method
        # (`handler_for`, inlined: once per request; `in` and `[]`, not a `get` call)
        table = OWN_TERMS_HANDLERS if stateless else SESSION_HANDLERS
        handler = table[method] if method in table else None
        if handler is None:
            handler = self._handler_beyond_table(method)
        params = ev.params
        # (Attributes, read with no `getattr` call: ~300 instructions less a request each.
        # `_meta` undecoded, where it still is: `RequestFacts.meta` decodes it if asked; only
        # a request that carries its terms is read so.)
        try:
            meta = params if stateless and type(params) in UNREAD_TYPES else params.meta
        except AttributeError:  # (no params, or params of another shape)
            meta = None
        ctx = Context(  # (`Context.of`, inlined: once per request)
            self,
            handle,
            ev.request_id,
            method,
            ev.progress_token,
            meta,
            ev.request_info,
            None,
            terms,
        )
        if stateless and method in ROUND_TRIP_METHODS:
            # (The same: every 2026-07-28 params of these methods has both.)
            try:
                retry = params.request_state or params.input_responses
            except AttributeError:  # (params of another shape, or none)
                retry = None
            if retry:
                await resume(self, ctx, terms, method, params)
            else:
                ctx.round_trip_params = params  # a round trip is made at the first ask, if any
        try:
            if not self.middleware and not self.mounts:
                return await handler(self, ctx, params)
            return await through_layers(self, ctx, params, handler)
        except InputRequired:
            # basic/patterns/mrtr: the handler asked what the client has not answered yet.
            assert ctx.round_trip is not None
            return ctx.round_trip.result()
        except Exception as exc:
            # An McpError or a ToolError goes as it is; anything else masked, or as it is.
            error = None if isinstance(exc, (McpError, ToolError)) else masked(self, method, exc)
            if error is None:
                raise
            raise error from None

    def _handler_beyond_table(self, method: str) -> Handler:
        """The handler of a `method` request the handler table has none for: an extension's
        (`extension_handlers`), else McpError -32601."""
        extensions = self._catalog.extension_handlers
        if method in extensions:
            return extension_handler(extensions[method])
        # A method of the protocol this server does not implement (tasks/*, say): JSON-RPC
        # 2.0 section 5.1 names -32601 for it, not an internal error.
        raise McpError(
            codes.METHOD_NOT_FOUND,
            f"Method not found: {method} (this server does not implement it)",
        )

    def round_trip(
        self, terms: Terms[Any] | None, method: str, params: Any, auth: AccessToken | None
    ) -> RoundTrip:
        """The multi round-trip state of a 2026-07-28 `method` request (basic/patterns/mrtr),
        sealed with this server's key for the caller `auth` names."""
        assert terms is not None  # (only requests that carry their own terms ask this way)
        return RoundTrip(self.state_seal, terms, method, params, principal_of(auth))

    async def handle_mounted(self, ctx: Context, params: Any) -> Any:
        """Serve a request its parent routed here (`ctx.server` is this server): inside the
        parent's middleware, through this server's own."""
        try:
            return await through_layers(self, ctx, params, self._mounted_handler(ctx))
        except (McpError, ToolError):
            raise
        except Exception as exc:
            error = masked(self, ctx.method, exc)
            if error is None:
                raise
            raise error from None

    def _mounted_handler(self, ctx: Context) -> Handler:
        """What serves the request of `ctx` routed here by the parent (a mounted proxy
        serves some itself)."""
        return era_handler(ctx)

    async def read_resource(self, ctx: Context, uri: str) -> ReadResourceResult:
        """Read `uri`, one of this server's resources or a match of its templates (its
        mounted servers' too), for the request of `ctx`, as resources/read answers it but
        outside the middleware: what `ctx.read_resource(uri)` does. McpError -32002 for an
        unknown URI."""
        found = owner_of(self, uri) if self.mounts else None
        if found is None:
            return await read_resource(self, ctx, ReadResourceRequestParams(uri=uri))
        # The mounted server reads its own URI, as a client's resources/read routed to it
        # does (a mounted proxy reads a template's match upstream by that URI).
        mount, inner = found
        result = await mount.server.read_resource(context_for(mount.server, ctx), inner)
        return shown_contents(mount, result)

    async def sync_subscriptions(self) -> None:
        """What this server's clients follow changed (a subscription, a listen, a session
        that ended): the servers mounted in it that learn of their resources' changes from
        elsewhere follow what is now followed there (a mounted proxy subscribes upstream).
        Nothing for a server that announces its own changes."""
        for mount in self.mounts:
            await mount.server.sync_subscriptions()

    def sync_subscriptions_later(self) -> None:
        """`sync_subscriptions`, from a task of its own (a listen ends as it is cancelled;
        a session ends outside any request)."""
        if self.mounts:
            self._tasks.spawn(self._sync_quietly())

    async def _sync_quietly(self) -> None:
        try:
            await self.sync_subscriptions()
        except Exception:  # (from a task: nobody else would hear of it)
            logger.warning("could not follow the resources followed here", exc_info=True)

    def _session_left(self, handle: ServerSessionHandle) -> None:
        if handle.subscriptions:
            self.sync_subscriptions_later()
        self.session_ended(handle)

    def session_roots_changed(self, handle: ServerSessionHandle) -> None:
        """The client of session `handle` (of this server, or of the one it is mounted in)
        said its roots changed: the servers mounted here are told (a mounted proxy tells the
        session's upstream session)."""
        for mount in self.mounts:
            mount.server.session_roots_changed(handle)

    def session_ended(self, handle: ServerSessionHandle) -> None:
        """A client session of this server (or of the one it is mounted in) ended: the
        servers mounted in it let go of what they held for it (a mounted proxy, the
        session's upstream session)."""
        for mount in self.mounts:
            mount.server.session_ended(handle)

    def scopes_for(
        self, method: str, target: str, session_rules: tuple[ComponentRule, ...] = ()
    ) -> frozenset[str]:
        """The scopes a `method` request (tools/call, resources/read, prompts/get...) on the
        item `target` (a name or a URI) needs: those it was registered with, when the request
        (of a session with `session_rules`) can see it (`access.scopes_for`)."""
        return scopes_for(self._catalog, method, target, session_rules)

    def param_headers(self, tool_name: str) -> Mapping[str, tuple[str, ...]] | None:
        """The arguments tool `tool_name` mirrors into HTTP headers (`x-mcp-header`); None
        for an unknown tool."""
        # Asked on every 2026-07-28 tools/call over HTTP: one lookup while the tools are
        # those the answers were worked out for (the registry counts its changes).
        known = self._param_headers
        if known[0] != self.tools.changes:
            known = self._param_headers = (self.tools.changes, param_headers_by_name(self._catalog))
        return known[1].get(tool_name)

    def handle_event(self, handle: Peer, ev: Event) -> None:
        if self.middleware and (watched := watched_event(self.middleware, handle, ev)):
            self._tasks.spawn(watched)  # typed middleware's on_initialize, on_notification
        if isinstance(ev, NotificationReceived):
            roots_changed = self.on_roots_changed
            if (
                ev.method == "notifications/roots/list_changed"
                and isinstance(handle, ServerSessionHandle)  # (roots are a session's client's)
            ):
                if roots_changed is not None:
                    self._tasks.spawn(roots_changed(handle))
                self.session_roots_changed(handle)
        elif isinstance(ev, StrayResponse):
            self.broker.forward_response(handle.id, ev)
        elif isinstance(ev, StrayCancel):
            shared = self._broker_link.shared
            if shared is not None:  # only a shared broker has other processes to tell
                shared.forward_cancel(handle.id, ev.request_id, ev.reason)
