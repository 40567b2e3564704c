"""A request's way to its handler beyond `Server.handle_request`'s own fast path: through the
server's middleware and the servers mounted in it, a 2026-07-28 retry's state checked before
it runs, and an unexpected exception masked on the way back (`mask_error_details`)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from mcpkit.errors import McpError, shown_when_masked
from mcpkit.protocol import codes
from mcpkit.protocol.jsonrpc import field_of
from mcpkit.runtime.handler_failure import log_handler_failure
from mcpkit.runtime.layers import call_through
from mcpkit.server.catalog.extension_methods import ExtensionMethod, serve
from mcpkit.server.handlers import Handler
from mcpkit.server.handlers.mounted_items import route
from mcpkit.server.middleware.chains import chain_for
from mcpkit.server.tasks.augmented import task_of_answer
from mcpkit.stores.deadline import StoreUnavailable, outage_message

if TYPE_CHECKING:
    from mcpkit.protocol.terms import Terms
    from mcpkit.server.catalog.feature_server import FeatureServer
    from mcpkit.server.context import Context
    from mcpkit.server.core import ServerCore

__all__ = ["extension_handler", "masked", "resume", "through_layers"]

logger = logging.getLogger("mcpkit.server")


def through_layers(
    server: ServerCore, ctx: Context, params: Any, handler: Handler
) -> Awaitable[Any]:
    """`handler`'s answer to the request of `ctx`, through `server`'s middleware (the first
    outermost), then, when servers are mounted in it, routed to the one that owns the item
    (`mounted_items.route`).

    Returns the awaitable rather than awaiting it, so that a request with no layer adds
    no coroutine of its own to the handler's."""
    inner: Callable[[Any], Awaitable[Any]] = (
        functools.partial(route, server, ctx, handler)
        if server.mounts
        else functools.partial(handler, server, ctx)
    )
    # Typed middleware takes part only in the methods it has hooks for (`chain_for`).
    layers = chain_for(server.middleware, ctx.method) if server.middleware else ()
    if not layers:
        return inner(params)
    answer = call_through(layers, ctx, params, inner)
    if (
        ctx.method == "tools/call"
        and field_of(params, "task") is not None
        and server.serves_tasks
        and not (ctx.terms is not None and ctx.terms.modern)  # (2026-07-28: SEP-2663)
    ):
        # A layer may answer a call that asked for a task with a plain result (a ToolError
        # it raised, a cached result): the client still gets the task it asked for.
        return task_of_answer(ctx, server, params, answer)
    return answer


def masked(server: ServerCore, method: str, exc: Exception) -> McpError | None:
    """What an unexpected exception of the handler of a `method` request becomes with
    `mask_error_details`: a generic -32603, its traceback logged here. None when it goes as
    it is (masking off, or an exception whose text is meant for the client): the runtime
    logs it and sends its text as -32603."""
    if not server.mask_error_details or shown_when_masked(exc):
        return None
    log_handler_failure(logger, f"handler for {method}", exc)
    if isinstance(exc, StoreUnavailable):  # the client may try again: say so, not where
        store = server.store
        return McpError(codes.INTERNAL_ERROR, outage_message(store.url, store.timeout))
    return McpError(codes.INTERNAL_ERROR, "Internal error")


async def resume(
    server: ServerCore, ctx: Context, terms: Terms[Any] | None, method: str, params: Any
) -> None:
    """A retry of a 2026-07-28 request that asked something: its state is checked, and spent
    when states are single-use (`request_state_single_use`), before it runs.

    The state is bound to the method, params and caller it was issued for (the
    `RoundTrip` made here opens it and raises when it does not match), so a client cannot
    carry answers from one request into another. Spending it in the shared replay store
    is what stops the same retry from running twice, in two processes behind one load
    balancer."""
    ctx.round_trip = server.round_trip(terms, method, params, ctx.auth)
    if server.request_state_single_use:
        await ctx.round_trip.spend(server.store.replay)


def extension_handler(method: ExtensionMethod) -> Handler:
    """A request one of the server's extensions adds, as a `Handler` (so it goes through the
    middleware as any other)."""
    return functools.partial(_extension_request, method)


async def _extension_request(
    method: ExtensionMethod, server: FeatureServer, ctx: Context, params: Any
) -> Any:
    """`method`'s own handler for the request of `ctx`; `server` is unused but taken, as
    every `Handler` takes it, so the middleware and the mounts call it like the others."""
    return await serve(method, ctx, params)
