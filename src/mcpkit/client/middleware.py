"""Client middleware: layers around every request a `Client` sends, shaped as the server's.

`OutgoingRequest` and `ClientMiddleware` are defined beside `Client` (a layer's request names
the client sending it) and named here, where layers find them."""

from __future__ import annotations

from mcpkit.client.client import ClientMiddleware, OutgoingRequest
from mcpkit.runtime.layers import CallNext, RequestLog, call_through

__all__ = ["CallNext", "ClientMiddleware", "OutgoingRequest", "RequestLogging", "call_through"]


class RequestLogging(RequestLog[OutgoingRequest]):
    """One log record per request the client sends: method, target (tool or prompt name,
    resource URI), duration and outcome, in the message and as `record.mcp` (a dict, for
    structured handlers), under `mcpkit.client.requests` unless another logger is given.
    Arguments are never logged.

    Outcomes: "ok", "tool_error" (a tool result with isError), "error" (a JSON-RPC error,
    with its code), "timeout", "cancelled", "exception" (anything else: the connection
    closed, say, with the exception's class). The server's `RequestLogging` is the same
    record (`mcpkit.runtime.layers.RequestLog`).
    """

    default_logger = "mcpkit.client.requests"
    timeouts_apart = True
