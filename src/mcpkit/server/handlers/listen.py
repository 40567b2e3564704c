"""The `subscriptions/listen` handler (2026-07-28, basic/patterns/subscriptions; see
`mcpkit.server.catalog.listeners`).

A listen is one long-lived request: the handler runs for as long as the stream is open, and
every notification it sends is related to the listen's request id, which is also its
subscription id, so the transport puts it on that request's stream (its SSE stream over HTTP)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import msgspec

from mcpkit.protocol.modern import SUBSCRIPTION_ID_KEY
from mcpkit.server.catalog.feature_server import FeatureServer
from mcpkit.server.catalog.listeners import Listen, agreed_filter, check_filter
from mcpkit.server.tasks.extension import followed_tasks

if TYPE_CHECKING:
    from mcpkit.server.context import Context

__all__ = ["listen"]


async def listen(server: FeatureServer, ctx: Context, params: Any) -> dict[str, Any]:
    """Acknowledge what this server honours of the client's filter, then send each matching
    change on this request's stream until the client cancels it; when the server stops,
    answer it (the graceful end).

    Ordering is the spec's "Acknowledgment": the listener is registered before the
    acknowledgement is sent, so no change made in between is lost, and `opened.next()` is
    not read before it, so nothing goes out ahead of it. A filter over the limits is
    refused (-32602) before anything is registered."""
    # `getattr`: the params are the 2026-07-28 struct, or a plain object a layer made.
    requested: dict[str, Any] = msgspec.to_builtins(getattr(params, "notifications", None)) or {}
    check_filter(requested)
    agreed = agreed_filter(requested, server.capabilities())
    task_ids = requested.get("taskIds")
    if task_ids is not None:
        agreed["taskIds"] = await followed_tasks(server, ctx, task_ids)
    rid = ctx.request_id
    opened = Listen(rid, agreed, via=ctx.session)
    server.listeners.add(opened)
    try:
        if opened.uris:  # followed upstream by a mounted proxy before it is acknowledged
            await server.sync_subscriptions()
        await ctx.session.notify(
            "notifications/subscriptions/acknowledged",
            {"_meta": {SUBSCRIPTION_ID_KEY: rid}, "notifications": agreed},
            related=rid,
        )
        while (notification := await opened.next()) is not None:
            await ctx.session.notify(notification["method"], notification["params"], related=rid)
    finally:
        # Also on cancellation, the usual end: a listen the client dropped must stop
        # receiving changes. The upstream resync runs in a task of its own because this
        # one is being cancelled and could not await it.
        server.listeners.discard(opened)
        if opened.uris:
            server.sync_subscriptions_later()
    # Reached only when the server closed the listen ("Graceful Closure"): the response
    # tells the client the end was deliberate, not a dropped connection.
    return {"_meta": {SUBSCRIPTION_ID_KEY: rid}}
