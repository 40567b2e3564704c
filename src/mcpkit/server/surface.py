"""`ServerApi`: everything public a `Server` offers, as a Protocol: the type of `ctx.server`,
and of the servers a `Mount` joins.

A handler's Context names the server that built it, and that server names the Context (it
builds one per request): typed `Server`, the Context would close an import cycle through
every module between them. `ServerApi` sits below them all and lists every public name of
`Server` with its signature, so a user's type checker sees the whole class through
`ctx.server` (`await ctx.server.notify_resource_updated(uri)`). Type checkers hold `Server`
to it wherever a server is handed on as one (`Server.handle_request` builds the Context
with itself); tests/server/test_server_surface.py checks it lists every public name. Where
`Server` takes a Context (middleware, `read_resource`, `handle_mounted`), the Protocol takes
Any: naming the Context here is the cycle this module exists to avoid.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
from collections.abc import (
    Awaitable,
    Callable,
    Collection,
    Coroutine,
    Iterable,
    Mapping,
    Sequence,
)
from typing import (
    TYPE_CHECKING,
    Any,
    ClassVar,
    Final,
    Literal,
    Never,
    Protocol,
    Self,
    TypeVar,
    overload,
)

if TYPE_CHECKING:
    from typing import Unpack

    import httpx

    from mcpkit.auth.server.resource import ProtectedResource
    from mcpkit.auth.server.verifier import AccessToken
    from mcpkit.openapi import ComponentFn, RouteMap, RouteMapFn
    from mcpkit.protocol.events import Event, RequestReceived
    from mcpkit.protocol.own_terms import CachePolicy
    from mcpkit.protocol.terms import Terms
    from mcpkit.runtime.channel import MessageChannel
    from mcpkit.runtime.layers import CallNext
    from mcpkit.runtime.response import Response
    from mcpkit.server.asking.asks import AskBudget
    from mcpkit.server.asking.request_state import StateSeal
    from mcpkit.server.asking.round_trip import RoundTrip
    from mcpkit.server.catalog.catalog import Completer
    from mcpkit.server.catalog.declared_capabilities import Feature
    from mcpkit.server.catalog.extension_methods import ExtensionHandler, ExtensionMethod
    from mcpkit.server.catalog.listeners import Listeners
    from mcpkit.server.catalog.prompts import PromptOptions, PromptSpec
    from mcpkit.server.catalog.registry import Registry
    from mcpkit.server.catalog.resources import ResourceOptions, ResourceSpec, TemplateSpec
    from mcpkit.server.catalog.search import SearchMode, ToolSearch
    from mcpkit.server.catalog.skills import FileSource, Skills, SkillSource, SkillSpec
    from mcpkit.server.catalog.tools import ToolOptions, ToolSpec
    from mcpkit.server.catalog.transforms import ToolTransformOptions, ToolTransforms
    from mcpkit.server.catalog.views import ViewOptions, ViewSource
    from mcpkit.server.catalog.visibility import Kind, Visibility, VisibilityRule
    from mcpkit.server.request_peer import RequestPeer
    from mcpkit.server.serving._http_run import HttpImplementation
    from mcpkit.server.session import HeldSessions, Peer, ServerSessionHandle
    from mcpkit.server.state.server_kv import KeyValue
    from mcpkit.serverless.aws_lambda import LambdaHandler
    from mcpkit.stores.broker import Broker
    from mcpkit.stores.component_rules import ComponentRule
    from mcpkit.stores.sessions import SessionRecord
    from mcpkit.stores.task_runner import TaskRunner
    from mcpkit.stores.url import Stores
    from mcpkit.transports.http.app import HttpSettings, McpHttpApp
    from mcpkit.transports.http.custom_routes import CustomRoute
    from mcpkit.transports.http.starlette_routes import RouteHandler
    from mcpkit.transports.stdio_server import StdStream
    from mcpkit.types import Implementation, ReadResourceResult, ServerCapabilities

__all__ = ["Mount", "RootsChanged", "ServerApi"]

F = TypeVar("F", bound=Callable[..., Any])
#: What `Server.on_roots_changed` is: called, as a task, with the session whose client said
#: its roots changed (notifications/roots/list_changed).
RootsChanged = Callable[["ServerSessionHandle"], Coroutine[Any, Any, None]]

#: A middleware layer as `ServerApi` takes it (`mcpkit.server.middleware.Middleware`, whose
#: first argument is the request's Context).
_Layer = Callable[[Any, Any, "CallNext"], Awaitable[Any]]


class ServerApi(Protocol):
    """Every public attribute and method of `mcpkit.Server`, with its signature (see there
    for what each does)."""

    # ----------------------------------------------------------- settings
    name: str
    version: str
    info: Implementation
    instructions: str | None
    features: frozenset[Feature] | None
    page_size: int
    request_timeout: float | None
    max_message_size: int
    max_json_depth: int
    max_inflight: int
    send_high_water: int
    sync_in_thread: bool
    mask_error_details: bool
    tool_error_prefix: str | None
    json_string_arguments: bool
    auth: ProtectedResource | None
    request_state_single_use: bool
    cache: CachePolicy
    on_roots_changed: RootsChanged | None
    composable: ClassVar[bool]

    # ------------------------------------------------------ held parts
    asks: AskBudget
    sessions: HeldSessions
    listeners: Listeners
    store: Stores
    broker: Broker
    visibility: Visibility
    state_seal: StateSeal
    mounts: tuple[Mount, ...]
    mounted_in: Mount | None

    @property
    def kv(self) -> KeyValue: ...

    tools: Registry[ToolSpec]
    resources: Registry[ResourceSpec]
    templates: Registry[TemplateSpec]
    prompts: Registry[PromptSpec]
    skills: Skills

    @property
    def completers(self) -> dict[tuple[str, str, str], Completer]: ...

    @property
    def tool_search(self) -> ToolSearch | None: ...

    @property
    def lenient_arguments(self) -> bool: ...

    @lenient_arguments.setter
    def lenient_arguments(self, lenient: bool) -> None: ...

    @property
    def extension_settings(self) -> dict[str, dict[str, Any]]: ...

    @property
    def extension_handlers(self) -> dict[str, ExtensionMethod]: ...

    @property
    def extension_method_names(self) -> frozenset[str]: ...

    @property
    def lifespan(self) -> Callable[[Any], contextlib.AbstractAsyncContextManager[Any]] | None: ...

    @property
    def middleware(self) -> tuple[_Layer, ...]: ...

    @property
    def lifespan_state(self) -> Any: ...

    @property
    def is_running(self) -> bool: ...

    @property
    def serves_tasks(self) -> bool: ...

    @property
    def task_runner(self) -> TaskRunner: ...

    # ------------------------------------------ from an OpenAPI document
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
    ) -> Self: ...

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
    ) -> Self: ...

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
        lifespan: Callable[[Any], contextlib.AbstractAsyncContextManager[Any]] | None = None,
        **server_options: Any,
    ) -> Self: ...

    # ------------------------------------------------------ registering
    @overload
    def tool(self, name: F) -> F: ...

    @overload
    def tool(self, name: str | None = None, **options: Unpack[ToolOptions]) -> Callable[[F], F]: ...

    def add_tool(
        self, fn: Callable[..., Any], *, name: str | None = None, **options: Unpack[ToolOptions]
    ) -> ToolSpec: ...

    def remove_tool(self, name: str) -> None: ...

    def resource(self, uri: str, **options: Unpack[ResourceOptions]) -> Callable[[F], F]: ...

    def add_resource(
        self, fn: Callable[..., Any], uri: str, **options: Unpack[ResourceOptions]
    ) -> ResourceSpec | TemplateSpec: ...

    def remove_resource(self, uri: str) -> None: ...

    @overload
    def prompt(self, name: F) -> F: ...

    @overload
    def prompt(
        self, name: str | None = None, **options: Unpack[PromptOptions]
    ) -> Callable[[F], F]: ...

    def add_prompt(
        self, fn: Callable[..., Any], *, name: str | None = None, **options: Unpack[PromptOptions]
    ) -> PromptSpec: ...

    def remove_prompt(self, name: str) -> None: ...

    def view(self, uri: str, **options: Unpack[ViewOptions]) -> Callable[[F], F]: ...

    def add_view(self, uri: str, source: ViewSource, **options: Unpack[ViewOptions]) -> None: ...

    def skill(
        self,
        *,
        prefix: str | None = None,
        files: Mapping[str, FileSource] | None = None,
        scheme: str = "skill",
    ) -> Callable[[F], F]: ...

    def add_skill(
        self,
        source: SkillSource,
        *,
        prefix: str | None = None,
        files: Mapping[str, FileSource] | None = None,
        scheme: str = "skill",
    ) -> SkillSpec: ...

    def remove_skill(self, uri: str) -> None: ...

    def add_tool_search(
        self,
        mode: SearchMode = "bm25",
        *,
        pinned: Iterable[str] = (),
        max_results: int = 5,
        search_tool_name: str = "search_tools",
        call_tool_name: str = "call_tool",
    ) -> None: ...

    def add_prompts_as_tools(
        self, *, list_name: str = "list_prompts", get_name: str = "get_prompt"
    ) -> None: ...

    def add_resources_as_tools(
        self, *, list_name: str = "list_resources", read_name: str = "read_resource"
    ) -> None: ...

    def completion(
        self,
        *,
        argument: str,
        prompt: str | None = None,
        template: str | None = None,
        **misspelt: Never,
    ) -> Callable[[F], F]: ...

    def completable(self) -> bool: ...

    def declare_extension(
        self,
        extension_id: str,
        settings: Mapping[str, Any] | None = None,
        *,
        methods: Mapping[str, ExtensionHandler] | None = None,
    ) -> None: ...

    def enable(
        self,
        /,
        *names: str,
        tags: Collection[str] | None = None,
        version: str | None = None,
        kinds: Collection[Kind] | None = None,
        only: bool = False,
        **misspelt: Never,
    ) -> None: ...

    def disable(
        self,
        /,
        *names: str,
        tags: Collection[str] | None = None,
        version: str | None = None,
        kinds: Collection[Kind] | None = None,
        **misspelt: Never,
    ) -> None: ...

    def add_visibility_rule(self, rule: VisibilityRule) -> VisibilityRule: ...

    def tombstone(
        self,
        name: str,
        /,
        *,
        replacement: str | None = None,
        kind: Literal["tool", "prompt", "resource"] = "tool",
        **misspelt: Never,
    ) -> None: ...

    def add_middleware(self, middleware: _Layer) -> None: ...

    def mount(
        self,
        other: ServerApi,
        namespace: str | None = None,
        *,
        separator: str = "_",
        tool_names: Mapping[str, str] | None = None,
        transforms: ToolTransforms | None = None,
    ) -> None: ...

    def transform_tool(
        self, tool: str, /, *, keep_original: bool = False, **options: Unpack[ToolTransformOptions]
    ) -> ToolSpec: ...

    def use_store(self, store: str | Stores) -> Stores: ...

    # ------------------------------------------------------ what it declares and sends
    def capabilities(self) -> ServerCapabilities: ...

    async def notify_resource_updated(self, uri: str) -> None: ...

    async def sync_subscriptions(self) -> None: ...

    def sync_subscriptions_later(self) -> None: ...

    def session_ended(self, handle: ServerSessionHandle) -> None: ...

    def session_roots_changed(self, handle: ServerSessionHandle) -> None: ...

    def scopes_for(
        self, method: str, target: str, session_rules: tuple[ComponentRule, ...] = ()
    ) -> frozenset[str]: ...

    def param_headers(self, tool_name: str) -> Mapping[str, tuple[str, ...]] | None: ...

    # ------------------------------------------------------ serving
    def running(self) -> contextlib.AbstractAsyncContextManager[ServerApi]: ...

    async def serve(self, channel: MessageChannel) -> None: ...

    async def run_stdio(
        self, *, stdin: StdStream | None = None, stdout: StdStream | None = None
    ) -> None: ...

    def http_app(
        self,
        path: str = "/mcp",
        *,
        store: str | Stores | None = None,
        **settings: Unpack[HttpSettings],
    ) -> McpHttpApp: ...

    def lambda_handler(
        self,
        path: str = "/mcp",
        *,
        store: str | Stores | None = None,
        **settings: Unpack[HttpSettings],
    ) -> LambdaHandler: ...

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
    ) -> None: ...

    def custom_route(
        self,
        path: str,
        methods: Sequence[str],
        name: str | None = None,
        include_in_schema: bool = True,
        *,
        auth: bool = False,
    ) -> Callable[[RouteHandler], RouteHandler]: ...

    @property
    def custom_routes(self) -> tuple[CustomRoute, ...]: ...

    def new_connection(
        self, channel: MessageChannel, record: SessionRecord | None = None
    ) -> ServerSessionHandle: ...

    def restore(self, record: SessionRecord, channel: MessageChannel) -> ServerSessionHandle: ...

    def request_peer(self, response: Response) -> RequestPeer: ...

    async def handle_request(self, handle: Peer, ev: RequestReceived) -> Any: ...

    def handle_event(self, handle: Peer, ev: Event) -> None: ...

    async def handle_mounted(self, ctx: Any, params: Any) -> Any: ...

    async def read_resource(self, ctx: Any, uri: str) -> ReadResourceResult: ...

    def round_trip(
        self, terms: Terms[Any] | None, method: str, params: Any, auth: AccessToken | None
    ) -> RoundTrip: ...

    def close_listens(self) -> None: ...

    def end_listen(self, request: object) -> bool: ...


# Kept as they are under a namespace (server/resources, "Common URI Schemes").
_WEB_SCHEMES: Final = frozenset({"http", "https"})


@dataclasses.dataclass(frozen=True, slots=True)
class Mount:
    """`server` mounted in `parent` under `namespace` (None: names and URIs unchanged);
    what `Server.mounts` and `Server.mounted_in` hold (`mcpkit.server.mount` does the
    mounting)."""

    parent: ServerApi
    server: ServerApi
    namespace: str | None
    separator: str = "_"

    def name(self, name: str) -> str:
        """A tool or prompt name of `server` as `parent` shows it."""
        return name if self.namespace is None else f"{self.namespace}{self.separator}{name}"

    def uri(self, uri: str) -> str | None:
        """A URI (or URI template) of `server` as `parent` shows it; None if it has no
        scheme to keep (a template that starts with a variable)."""
        if self.namespace is None:
            return uri
        scheme, colon, rest = uri.partition(":")
        if not colon or not _is_scheme(scheme):
            return None
        if scheme.lower() in _WEB_SCHEMES:
            return uri
        if rest.startswith("//"):
            return f"{scheme}://{self.namespace}/{rest[2:]}"
        return f"{scheme}:{self.namespace}/{rest}"

    def original_uri(self, uri: str) -> str | None:
        """The URI of `server` that `parent` shows as `uri`; None if it shows none such."""
        if self.namespace is None:
            return uri
        scheme, colon, rest = uri.partition(":")
        if not colon or not _is_scheme(scheme):
            return None
        if scheme.lower() in _WEB_SCHEMES:
            return uri
        for lead, back in ((f"//{self.namespace}/", "//"), (f"{self.namespace}/", "")):
            if rest.startswith(lead):
                return f"{scheme}:{back}{rest[len(lead) :]}"
        return None


def _is_scheme(text: str) -> bool:
    # RFC 3986 section 3.1: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )
    return re.fullmatch(r"[A-Za-z][A-Za-z0-9+.\-]*", text) is not None
