"""`Server`: the public server framework. Decorators register tools, resources and prompts;
`serve(channel)` runs one client session; `run()` serves stdio or HTTP.

A `Server` is a `core.ServerCore` (its settings, catalog, stores, broadcasts and lifespan:
what `ctx.server` is typed as) with `dispatch.ServerDispatch`'s way into each request; this
module adds what a server's author writes: the decorators, `from_openapi`/`from_fastapi`,
`mount` and `transform_tool`, and serving, handed to the objects it holds
(`serving.transport_serving.TransportServing`: `serve`, `run_stdio`, `http_app`, `run`;
`serving.protocol_sessions.ProtocolSessions`: the protocol sessions it builds).
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Collection, Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar, Unpack, overload

from mcpkit._delegation import served_by
from mcpkit.errors import LocalProtocolError
from mcpkit.protocol.server_session import ServerSession
from mcpkit.runtime.channel import MessageChannel
from mcpkit.runtime.connection import Connection
from mcpkit.runtime.response import Response
from mcpkit.server.catalog.catalog import Catalog
from mcpkit.server.catalog.mounted_tools import transform_tool
from mcpkit.server.catalog.prompts import PromptOptions
from mcpkit.server.catalog.registration_checks import check_options
from mcpkit.server.catalog.tools import ToolOptions, ToolSpec
from mcpkit.server.catalog.transforms import ToolTransformOptions, ToolTransforms
from mcpkit.server.core import ServerCore
from mcpkit.server.handlers.as_tools import add_prompts_as_tools, add_resources_as_tools
from mcpkit.server.handlers.dispatch import ServerDispatch, session_request
from mcpkit.server.mount import mount_server
from mcpkit.server.request_peer import RequestPeer, RequestPeers
from mcpkit.server.serving.card_publishing import CardPublisher, PublishedCard
from mcpkit.server.serving.http_routes import HttpRoutes
from mcpkit.server.serving.protocol_sessions import FeatureSession, ProtocolSessions
from mcpkit.server.serving.transport_serving import TransportServing
from mcpkit.server.session import ServerSessionHandle
from mcpkit.stores.sessions import SessionRecord

if TYPE_CHECKING:
    import httpx

    from mcpkit.openapi import ComponentFn, RouteMap, RouteMapFn

__all__ = ["Lifespan", "Server"]

F = TypeVar("F", bound=Callable[..., Any])
Lifespan = Callable[["Server"], contextlib.AbstractAsyncContextManager[Any]]


class Server(ServerDispatch):
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

    resource = served_by("_catalog", Catalog.resource)
    view = served_by("_catalog", Catalog.view)
    skill = served_by("_catalog", Catalog.skill)
    completion = served_by("_catalog", Catalog.completion)
    add_prompts_as_tools = served_by("_catalog", add_prompts_as_tools)
    add_resources_as_tools = served_by("_catalog", add_resources_as_tools)

    def mount(
        self,
        other: ServerCore,
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
    # Handed to the serving it holds, made when first asked for
    # (`serving.transport_serving.TransportServing`).

    @functools.cached_property
    def _serving(self) -> TransportServing:
        return TransportServing(self)

    serve = served_by("_serving", TransportServing.serve)
    run_stdio = served_by("_serving", TransportServing.run_stdio)
    http_app = served_by("_serving", TransportServing.http_app)
    lambda_handler = served_by("_serving", TransportServing.lambda_handler)
    run = served_by("_serving", TransportServing.run)
    custom_route = served_by("_routes", HttpRoutes.custom_route)

    @functools.cached_property
    def _cards(self) -> CardPublisher:
        return CardPublisher(self.info)

    publish_card = served_by("_cards", CardPublisher.publish_card)

    @property
    def published_card(self) -> PublishedCard | None:
        """What `publish_card` was given, or None (no Server Card is served)."""
        return self._cards.published

    # ---------------------------------------------------------------- sessions

    @functools.cached_property
    def _protocols(self) -> ProtocolSessions:
        """The protocol sessions it builds, each of `_session_type`."""
        return ProtocolSessions(self, self._catalog, self._session_type)

    def new_connection(
        self, channel: MessageChannel, record: SessionRecord | None = None
    ) -> ServerSessionHandle:
        """Build (but do not run) the session for one client over `channel`; `record` is the
        session's (a fresh one by default; `restore` passes a saved one)."""
        protocol = self._protocols.new()
        return ServerSessionHandle(
            self, functools.partial(self._connect, protocol=protocol, channel=channel), record
        )

    @functools.cached_property
    def _request_peers(self) -> RequestPeers:
        """What makes the peers of modern requests, and the session
        that reads them."""
        return RequestPeers(self, self._protocols.new, self._catalog.changes)

    @property
    def request_peer(self) -> Callable[[Response], RequestPeer]:
        """`request_peer(response)`: the client of one modern request (2026-07-28 over
        Streamable HTTP), as its handler sees it: `peer.reader.read_sessionless(body, info)`
        reads the body with this server's reading session, and `runtime.connection.serve(peer,
        server.handle_request, peer, read.request)` runs the request in the caller's task,
        the peer its reply, writing what it sends and its answer to `response`
        (`peer.answer_read(read)` answers a body that holds no request). Nothing of it
        outlives the request."""
        return self._request_peers.new_peer

    #: The protocol session each client gets (the proxy's answers `initialize` itself).
    _session_type: type[ServerSession] = FeatureSession

    def _connect(
        self, handle: ServerSessionHandle, *, protocol: ServerSession, channel: MessageChannel
    ) -> Connection:
        """The runtime connection of `handle`'s session (the proxy's also ends its upstream)."""
        return Connection(
            protocol,
            channel,
            on_request=session_request,
            peer=handle,
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
