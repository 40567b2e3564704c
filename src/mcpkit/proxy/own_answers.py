"""What a proxy answers itself to a 2026-07-28 client, in its upstream server's name:
`server/discover` (server/discover), `subscriptions/listen` (basic/patterns/subscriptions), and
the errors of the legacy era that the modern one spells differently (basic/index, "Error
Codes")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from mcpkit.errors import McpError
from mcpkit.protocol import codes
from mcpkit.protocol.jsonrpc import field_of
from mcpkit.protocol.modern import SUBSCRIPTION_ID_KEY
from mcpkit.proxy.downstream import Down
from mcpkit.proxy.pool import LinkPool
from mcpkit.server.catalog.listeners import Listen, agreed_filter
from mcpkit.types import InitializeResult

__all__ = ["discover", "listen", "modern_error"]


def discover(upstream: InitializeResult, revisions: Sequence[str]) -> dict[str, Any]:
    """server/discover: the revisions the proxy speaks (both eras: it serves both), and the
    upstream's capabilities and instructions (its info goes in the result's `_meta`)."""
    capabilities = msgspec.to_builtins(upstream.capabilities)
    capabilities.pop("tasks", None)  # (2025-11-25's tasks; 2026's are an extension)
    result: dict[str, Any] = {"supportedVersions": list(revisions), "capabilities": capabilities}
    if upstream.instructions is not None:
        result["instructions"] = upstream.instructions
    return result


async def listen(pool: LinkPool, down: Down, params: Any) -> dict[str, Any]:
    """subscriptions/listen, as the server's own handler answers it (`mcpkit.server.handlers.
    listen`), honouring what the upstream declares: its list changes, and its resource
    updates, for which the pool subscribes upstream while a listen follows the URI."""
    upstream = await pool.facts()
    requested: dict[str, Any] = msgspec.to_builtins(field_of(params, "notifications")) or {}
    agreed = agreed_filter(requested, upstream.capabilities)
    rid = down.request_id
    opened = Listen(rid, agreed)
    uris: list[str] = sorted(opened.uris)
    await pool.follow(uris)
    pool.listeners.add(opened)
    session = down.handle
    try:
        await session.notify(
            "notifications/subscriptions/acknowledged",
            {"_meta": {SUBSCRIPTION_ID_KEY: rid}, "notifications": agreed},
            related=rid,
        )
        while (notification := await opened.next()) is not None:
            await session.notify(notification["method"], notification["params"], related=rid)
    finally:
        pool.listeners.discard(opened)
        pool.unfollow_later(uris)
    return {"_meta": {SUBSCRIPTION_ID_KEY: rid}}


def modern_error(error: McpError) -> McpError:
    """An upstream error as a 2026-07-28 client knows it: -32002 (resource not found, the
    legacy era's) is -32602 from 2026-07-28 on."""
    if error.code == codes.RESOURCE_NOT_FOUND:
        return McpError(codes.INVALID_PARAMS, error.message, error.data)
    return error
