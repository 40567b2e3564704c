"""Client middleware: layers around every request a `Client` sends, shaped as the server's."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mcpkit.runtime.layers import CallNext, RequestLog, call_through

if TYPE_CHECKING:
    from mcpkit.client.client import Client

__all__ = ["CallNext", "ClientMiddleware", "OutgoingRequest", "RequestLogging", "call_through"]


@dataclass(frozen=True, slots=True)
class OutgoingRequest:
    """What a client layer knows of the request it wraps: `method` and the `client` sending
    it (its `target`, `protocol_version`, `server_info`...)."""

    method: str
    client: Client


#: A layer: `async (request, params, call_next) -> result`. `request.method` names the
#: request; the layer may change `params` before `call_next(params)` (a dict, None or a
#: params struct, as the caller gave it), change or replace the decoded result, or raise.
ClientMiddleware = Callable[[OutgoingRequest, Any, CallNext], Awaitable[Any]]


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
