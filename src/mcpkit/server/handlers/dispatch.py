"""`ServerDispatch`: the way into each request of a server. The era's handler from the one
table (`handlers.HANDLERS_BY_ERA`; an extension's beyond it), the request's Context, the call
through the middleware and the mounts (`handlers.routing`), errors masked on the way back;
and what a client says outside any request (`handle_event`).

A `ServerCore` with the requests added: `mcpkit.Server` is one, with its decorators and its
serving beside.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from mcpkit.errors import McpError, ToolError
from mcpkit.protocol import codes
from mcpkit.protocol.events import (
    Event,
    NotificationReceived,
    RequestReceived,
    StrayCancel,
    StrayResponse,
)
from mcpkit.protocol.modern import ROUND_TRIP_METHODS
from mcpkit.server.asking.round_trip import InputRequired
from mcpkit.server.context import Context
from mcpkit.server.core import ServerCore
from mcpkit.server.handlers import HANDLERS_BY_ERA, Handler
from mcpkit.server.handlers.features import read_resource
from mcpkit.server.handlers.mounted_items import shown_contents
from mcpkit.server.handlers.routing import (
    extension_handler,
    masked,
    resume,
    through_layers,
)
from mcpkit.server.middleware.chains import watched_event
from mcpkit.server.mount import context_for, owner_of
from mcpkit.server.session import Peer, ServerSessionHandle
from mcpkit.types import ReadResourceRequestParams, ReadResourceResult

__all__ = ["ServerDispatch", "session_request"]


def session_request(handle: ServerSessionHandle, ev: RequestReceived) -> Awaitable[Any]:
    """A session's request served by its server, `handle` its peer: the handler a session's
    connection serves each request with (`runtime.connection.serve`, the handle passed as the
    peer, so no object per session binds them). The server is read from the handle at each
    request, not once, so a restored session serves with the server that holds it now.
    Defined here, beside `handle_request`: a 2025 session's call passes no module more."""
    return handle.server.handle_request(handle, ev)


class ServerDispatch(ServerCore):
    """A server's core with the way into its requests (`mcpkit.Server` is the class to build)."""

    async def handle_request(self, handle: Peer, ev: RequestReceived) -> Any:
        """Serve one request of `handle`'s client: its handler's result (raises McpError).

        An McpError or ToolError carries text written for the client and goes as it is; any
        other exception may hold the server's internals (paths, queries, secrets), so with
        `mask_error_details` it becomes a generic -32603 (`masked`) and is logged here."""
        terms = ev.terms
        modern = terms is not None and terms.modern
        method = ev.method
        handler = HANDLERS_BY_ERA[modern].get(method)
        if handler is None:  # raises -32601 before a Context is made for nothing
            handler = self._handler_beyond_table(method)
        params = ev.params
        ctx = Context(self, handle, ev)
        if modern and method in ROUND_TRIP_METHODS:
            # (The same: every 2026-07-28 params of these methods has both.)
            try:
                retry = params.request_state or params.input_responses
            except AttributeError:  # (params of another shape, or none)
                retry = None
            # A retry carries the state of the round trip it continues (basic/patterns/mrtr),
            # checked before the handler runs again: a forged or replayed state must not
            # reach it. A first request defers making its round trip to the first ask,
            # since most requests never ask anything.
            if retry:
                await resume(self, ctx, terms, method, params)
            else:
                ctx.round_trip_params = params  # a round trip is made at the first ask, if any
        try:
            # With no layer and no mount, the handler is the whole way; `through_layers`
            # would give the same answer through more steps.
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

    async def handle_mounted(self, ctx: Context, params: Any) -> Any:
        """Serve a request its parent routed here (`ctx.server` is this server): inside the
        parent's middleware, through this server's own.

        Also the way for a request the server did not receive from a client at all: tool
        search's call tool, the prompts- and resources-as-tools, a mounted list. Errors are
        masked by this server's own setting, since its handler is the one that failed."""
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
        """What serves the request of `ctx` routed here by the parent, in the request's era
        (a mounted proxy serves some itself); -32601 if this server has none."""
        terms = ctx.terms
        handler = HANDLERS_BY_ERA[terms is not None and terms.modern].get(ctx.method)
        if handler is None:  # (the parent routes only what it serves itself)
            raise McpError(codes.METHOD_NOT_FOUND, f"Method not found: {ctx.method}")
        return handler

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

    def handle_event(self, handle: ServerSessionHandle, ev: Event) -> None:
        """What the client of session `handle` told this server outside any request: a
        notification, an answer or a cancellation no request of this process awaits. (A
        modern request has nothing outside it: what its body held
        besides it concerns no session, `mcpkit.server.request_peer`.)"""
        if self.middleware and (watched := watched_event(self.middleware, handle, ev)):
            self._tasks.spawn(watched)  # typed middleware's on_initialize, on_notification
        # Spawned, not awaited: the connection hands events over from its read loop, which
        # must not wait on application code before it reads the next message.
        if isinstance(ev, NotificationReceived):
            roots_changed = self.on_roots_changed
            if ev.method == "notifications/roots/list_changed":
                if roots_changed is not None:
                    self._tasks.spawn(roots_changed(handle))
                self.session_roots_changed(handle)
        elif isinstance(ev, StrayResponse):
            # An answer to a request another process sent on this session (a shared session
            # store behind a load balancer): the broker routes it by the prefix of its id.
            self.broker.forward_response(handle.id, ev)
        elif isinstance(ev, StrayCancel):
            shared = self._broker_link.shared
            if shared is not None:  # only a shared broker has other processes to tell
                shared.forward_cancel(handle.id, ev.request_id, ev.reason)
