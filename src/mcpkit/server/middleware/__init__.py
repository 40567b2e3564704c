"""Middleware: the layers a request passes on its way to its handler and back, and the ready ones.

A middleware here is one layer of the server's one chain (`Server(middleware=...)`,
`server.add_middleware`): `async (ctx, params, call_next) -> result`, a plain async function
or an object with such an `async __call__`. `ctx.method` names the request; the layer may
change `params` before `call_next(params)`, change or replace the result, or raise McpError.
Every request of either protocol era passes the same chain, outermost layer first; a server
with no middleware runs none of this room (`handlers.routing`). The chain itself is shared
with the client (`mcpkit.runtime.layers`); this room holds the server's side of it:

- the chain each method runs (`chains`) and the handshake requests a hook may take over
  (`protocol_requests`);
- typed middleware, one hook per operation, of which only those a subclass overrides are
  installed (`typed`, turned into layers by `adapters`), and the ready ones built on it:
  `ErrorTransform` (`error_transform`), `RetryTools` (`retry`), `DereferenceSchemas`
  (`schema_refs`);
- ready plain layers: `Timing` and `RequestLogging` (`request_log`), `RateLimit`
  (`rate_limit`), `ResponseSizeLimit` (`size_limit`), `ResponseCache` (`response_cache`),
  `ServerTracing` and `ServerMetrics` (`tracing`, with the `otel` extra); import these
  from their modules.

`KeepAlive` is built on typed middleware too, but its job is a session's health, so it
lives with the sessions it pings (`serving.keepalive`); what a tool's failure tells the
layers around it is the catalog's (`catalog.calling.tool_failures`,
`catalog.calling.tool_errors`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from mcpkit.runtime.layers import CallNext, call_through
from mcpkit.server.middleware.error_transform import ErrorTransform
from mcpkit.server.middleware.request_log import RequestLogging, Timing
from mcpkit.server.middleware.retry import RetryTools
from mcpkit.server.middleware.schema_refs import DereferenceSchemas
from mcpkit.server.middleware.typed import (
    AnswerNext,
    CallToolNext,
    GetPromptNext,
    InitializeNext,
    ListNext,
    ReadResourceNext,
    TypedMiddleware,
)

if TYPE_CHECKING:
    from mcpkit.server.context import Context

__all__ = [
    "AnswerNext",
    "CallNext",
    "CallToolNext",
    "DereferenceSchemas",
    "ErrorTransform",
    "GetPromptNext",
    "InitializeNext",
    "ListNext",
    "Middleware",
    "ReadResourceNext",
    "RequestLogging",
    "RetryTools",
    "Timing",
    "TypedMiddleware",
    "call_through",
]

#: A layer: `async (ctx, params, call_next) -> result` (see above).
Middleware = Callable[["Context", Any, CallNext], Awaitable[Any]]
