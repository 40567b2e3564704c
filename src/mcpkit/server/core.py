"""`ServerCore`: what a server is, and what a handler reaches through `ctx.server`.

Its settings, what it declares (`capabilities()`), its catalog (the registries, and
registering and removing features), its stores and broker, the changes it announces
(`notify_resource_updated`), its lifespan (`running`, `lifespan_state`) and the servers
mounted in it. `mcpkit.server.handlers.dispatch.ServerDispatch` adds the way into each request and
`mcpkit.server.server.Server` the decorators and serving; `Context` and the modules that
route a request name this class, so it names none of them (`handle_mounted` and
`read_resource` take the Context untyped: naming it here is an import cycle).
"""

from __future__ import annotations

import abc
import contextlib
import functools
import logging
import os
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine, Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Self

from mcpkit._delegation import served_by
from mcpkit._version import __version__
from mcpkit.protocol.limits import DEFAULT_MAX_MESSAGE_SIZE, MAX_JSON_DEPTH
from mcpkit.protocol.modern import CachePolicy
from mcpkit.protocol.session import DEFAULT_MAX_INFLIGHT
from mcpkit.runtime.background import BackgroundTasks
from mcpkit.runtime.layers import tell_session_ended
from mcpkit.runtime.outbound import DEFAULT_SEND_HIGH_WATER
from mcpkit.server.asking.asks import (
    DEFAULT_MAX_PENDING_CLIENT_REQUESTS,
    DEFAULT_MAX_PENDING_CLIENT_REQUESTS_PER_SESSION,
    AskBudget,
)
from mcpkit.server.asking.request_state import DEFAULT_STATE_TTL, StateKeys, StateSeal
from mcpkit.server.asking.round_trip import RoundTrip
from mcpkit.server.catalog.callers import principal_of
from mcpkit.server.catalog.calling.result_budget import ResultBudget, budget_of
from mcpkit.server.catalog.calling.tool_calls import tool_error_prefix_format
from mcpkit.server.catalog.calling.tool_limits import check_timeout
from mcpkit.server.catalog.catalog import Catalog, Completer
from mcpkit.server.catalog.declared_capabilities import Feature
from mcpkit.server.catalog.extension_methods import ExtensionMethod
from mcpkit.server.catalog.listeners import Listeners
from mcpkit.server.catalog.mounts import Mount
from mcpkit.server.catalog.search.finder import ToolSearch
from mcpkit.server.catalog.visibility.access import param_headers_by_name, scopes_for
from mcpkit.server.catalog.visibility.rules import Visibility
from mcpkit.server.serving.broadcasts import Broadcasts
from mcpkit.server.serving.broker_link import BrokerLink
from mcpkit.server.serving.declaring import DeclaredCapabilities
from mcpkit.server.serving.http_routes import HttpRoutes
from mcpkit.server.serving.lifespan import ServerLifespan
from mcpkit.server.session import HeldSessions, ServerSessionHandle
from mcpkit.server.state.server_kv import KeyValue
from mcpkit.server.tasks.status import announce, tool_failed
from mcpkit.stores.broker import Broker
from mcpkit.stores.task_runner import TaskRunner
from mcpkit.stores.url import Stores, as_stores
from mcpkit.types import Icon, Implementation, ReadResourceResult

if TYPE_CHECKING:
    from mcpkit.auth.server.resource import ProtectedResource
    from mcpkit.auth.server.verifier import AccessToken
    from mcpkit.protocol.terms import Terms
    from mcpkit.runtime.layers import CallNext
    from mcpkit.stores.component_rules import ComponentRule
    from mcpkit.stores.tasks import TaskStore
    from mcpkit.transports.deployment.custom_routes import CustomRoute

__all__ = [
    "MASK_ERRORS_VARIABLE",
    "Layer",
    "Lifespan",
    "RootsChanged",
    "ServerCore",
]

#: The environment variable that turns error masking off ("0") where `mask_error_details`
#: is not given: `mcpkit dev` sets it for the server it runs.
MASK_ERRORS_VARIABLE = "MCPKIT_MASK_ERROR_DETAILS"
logger = logging.getLogger("mcpkit.server")
#: The lifespan hook, called with the server (`mcpkit.server.server.Lifespan` names it so).
Lifespan = Callable[[Any], contextlib.AbstractAsyncContextManager[Any]]
#: A middleware layer (`mcpkit.server.middleware.Middleware`, whose first argument is the
#: request's Context).
Layer = Callable[[Any, Any, "CallNext"], Awaitable[Any]]
#: What `on_roots_changed` is: called, as a task, with the session whose client said its
#: roots changed (notifications/roots/list_changed).
RootsChanged = Callable[[ServerSessionHandle], Coroutine[Any, Any, None]]
#: The settings its protocol sessions and `capabilities()` are worked out from: replaced,
#: never changed in place, and each replacement counted as a change (`__setattr__`).
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


def _masking(mask_error_details: bool | None) -> bool:
    """`mask_error_details`, or where it is not given, what `MASK_ERRORS_VARIABLE` says."""
    if mask_error_details is None:
        return os.environ.get(MASK_ERRORS_VARIABLE, "1").strip() != "0"
    return mask_error_details


class ServerCore:
    """What a server is and declares, without the way into its requests or its serving: the
    type of `ctx.server` (`mcpkit.Server` is the class to build; its docstring lists the
    settings)."""

    _broker_link: BrokerLink  # its broker, as the lifespan reads it (set in `__init__`)

    #: Whether this server may mount others (`mount`): its tools, resources and prompts are
    #: its registries'. A proxy (`mcpkit.proxy.ProxyServer`) answers every request of its own
    #: sessions from its upstream server instead, so it may not (it may be mounted).
    composable: ClassVar[bool] = True

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
        middleware: Iterable[Layer] = (),
        broker: Broker | None = None,
        request_state_key: StateKeys | None = None,
        request_state_ttl: float = DEFAULT_STATE_TTL,
        request_state_single_use: bool = True,
        cache: CachePolicy | None = None,
        store: str | Stores | None = None,
    ) -> None:
        self.name = name
        self.version = version = __version__ if version is None else version
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
        self.mask_error_details = _masking(mask_error_details)
        self.tool_error_prefix = tool_error_prefix_format(tool_error_prefix)
        self.json_string_arguments = json_string_arguments
        self.auth = auth
        self.middleware: tuple[Layer, ...] = tuple(middleware)
        #: Seals the requestState of 2026-07-28 requests that ask the client something; its
        #: key must be the same on every replica (basic/patterns/mrtr; docs/server.md).
        self.state_seal = StateSeal(request_state_key, ttl=request_state_ttl)
        #: Whether a requestState is accepted once only (through `store.replay`), so that a
        #: replayed retry does not run the tool's last step again (docs/server.md).
        self.request_state_single_use = request_state_single_use
        #: The freshness hints of 2026-07-28 list and read results (server/utilities/caching).
        self.cache = cache or CachePolicy()
        self._hold_parts(store, task_store)
        self._hold_catalog(lenient_arguments, tool_timeout, max_result)
        self._hold_broker(broker)

    def _hold_parts(self, store: str | Stores | None, task_store: TaskStore | None) -> None:
        """The collaborators a server holds, made once its settings are in place: what runs
        outside requests, the sessions and listens it serves, its stores and tasks, and what
        it announces."""
        self._task_store = task_store
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
        #: The routes served beside its HTTP endpoint (`custom_route`).
        self._routes = HttpRoutes()
        #: Changes announced to the sessions (`_listen_to` hands it the broker's).
        self._broadcasts = Broadcasts(
            self,
            span=self._span,
            sessions=self.sessions,
            listeners=self.listeners,
            tasks=self._tasks,
        )
        #: The servers mounted in this one (`mount`), in order.
        self.mounts: tuple[Mount[ServerCore], ...] = ()
        #: Where this server is mounted, if it is.
        self.mounted_in: Mount[ServerCore] | None = None

    def _hold_catalog(
        self,
        lenient_arguments: bool,
        tool_timeout: float | None,
        max_result: int | ResultBudget | None,
    ) -> None:
        """What it offers: the registries, and the registering its decorators hand over
        to (the catalog, with the settings of its tools); and what it declares of them."""
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
        #: What `capabilities()` depends on that counts its changes: the catalog's (where
        #: `__setattr__` counts the settings' too).
        self._changes = catalog.changes
        self._declaring = DeclaredCapabilities(self, catalog)
        #: `param_headers` of every tool, for the count of the tools' changes it was made at.
        self._param_headers: tuple[int, dict[str, Mapping[str, tuple[str, ...]]]] = (-1, {})

    def _hold_broker(self, broker: Broker | None) -> None:
        """Its broker: the one given, else its store's; and the link that hands it what
        the broker hears."""
        self._own_broker = broker is None
        self.broker: Broker = broker if broker is not None else self.store.broker
        #: Its broker's changes, and responses and cancellations other processes forward.
        self._broker_link = self._link(self.broker)

    def __setattr__(self, name: str, value: Any) -> None:
        # A setting replaced counts as a change of what the server declares, as a tool
        # registered does: what is worked out from them (`capabilities()`, the session that
        # reads 2026-07-28 requests) then compares one count on every request, not each
        # setting. (None counted before the catalog exists: nothing was worked out yet.)
        object.__setattr__(self, name, value)
        if name in _COUNTED_SETTINGS and "_changes" in self.__dict__:
            self._changes.count += 1

    # ------------------------------------------------------------- registering
    # Handed to the catalog (`catalog.catalog.Catalog`), where each is written and told.

    add_tool = served_by("_catalog", Catalog.add_tool)
    remove_tool = served_by("_catalog", Catalog.remove_tool)
    add_resource = served_by("_catalog", Catalog.add_resource)
    remove_resource = served_by("_catalog", Catalog.remove_resource)

    add_prompt = served_by("_catalog", Catalog.add_prompt)
    remove_prompt = served_by("_catalog", Catalog.remove_prompt)
    add_view = served_by("_catalog", Catalog.add_view)
    add_skill = served_by("_catalog", Catalog.add_skill)
    remove_skill = served_by("_catalog", Catalog.remove_skill)
    declare_extension = served_by("_catalog", Catalog.declare_extension)
    add_tool_search = served_by("_catalog", Catalog.add_tool_search)

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

    # Which of them it shows (`catalog.visibility.rules`; docs/compose.md, "Tags and visibility").
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

    capabilities = served_by("_declaring", DeclaredCapabilities.capabilities)

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
        (`mcpkit.transports.http.own_calls.OwnCalls.let_in`); whether it did."""
        return self.listeners.end(request)

    def add_middleware(self, middleware: Layer) -> None:
        """Add a layer inside those already added (the first added stays outermost)."""
        self.middleware = (*self.middleware, middleware)

    @property
    def custom_routes(self) -> tuple[CustomRoute, ...]:
        """The routes of `custom_route`, in the order they were registered."""
        return tuple(self._routes.routes)

    def round_trip(
        self, terms: Terms[Any] | None, method: str, params: Any, auth: AccessToken | None
    ) -> RoundTrip:
        """The multi round-trip state of a 2026-07-28 `method` request (basic/patterns/mrtr),
        sealed with this server's key for the caller `auth` names."""
        assert terms is not None  # (only modern requests ask this way)
        return RoundTrip(self.state_seal, terms, method, params, principal_of(auth))

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
        tell_session_ended(self.middleware, handle)  # (`ServerMetrics` times sessions)
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

    # --------------------------------------------------------- requests routed here
    # `mcpkit.server.handlers.dispatch.ServerDispatch` serves them; `ctx` is that request's Context.

    @abc.abstractmethod
    async def handle_mounted(self, ctx: Any, params: Any) -> Any:
        """Serve a request its parent routed here (`ctx.server` is this server): inside the
        parent's middleware, through this server's own."""

    @abc.abstractmethod
    async def read_resource(self, ctx: Any, uri: str) -> ReadResourceResult:
        """Read `uri`, one of this server's resources or a match of its templates (its
        mounted servers' too), for the request of `ctx`, as resources/read answers it but
        outside the middleware: what `ctx.read_resource(uri)` does. McpError -32002 for an
        unknown URI."""
