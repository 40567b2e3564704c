"""The `subscriptions/listen` handler (2026-07-28; see `mcpkit.server.catalog.listeners`)."""

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
    answer it (the graceful end)."""
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
        server.listeners.discard(opened)
        if opened.uris:
            server.sync_subscriptions_later()
    return {"_meta": {SUBSCRIPTION_ID_KEY: rid}}
