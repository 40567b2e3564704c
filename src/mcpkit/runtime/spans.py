"""What the server's and the client's OpenTelemetry middleware share (`ServerTracing`,
`ClientTracing`, `ServerMetrics`, `ClientMetrics`): the import that says what to install, the
attributes and name the semantic conventions for MCP (gen-ai/mcp) give a request, and how a
failure is classified (`failure_of`: one decision for a span's `error.type` and a metric's)
and marked on a span.

Importing this module does not import OpenTelemetry: `opentelemetry()` does, when a tracing
middleware is constructed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from mcpkit._extras import needs_extra
from mcpkit.errors import McpError, RequestTimeout, ToolError
from mcpkit.protocol import codes
from mcpkit.protocol.answering import answered_code
from mcpkit.protocol.jsonrpc import field_of

if TYPE_CHECKING:
    from opentelemetry.trace import Span

    from mcpkit.protocol.terms import Terms

__all__ = [
    "TOOL_ERROR",
    "TRACE_META_KEYS",
    "Failure",
    "failure_of",
    "mark_failed",
    "opentelemetry",
    "span_name",
    "target_attributes",
]

#: The `_meta` keys OpenTelemetry's context travels in (spec 2026-07-28 basic/index,
#: "OpenTelemetry trace context": reserved unprefixed, W3C Trace Context and Baggage).
TRACE_META_KEYS = ("traceparent", "tracestate", "baggage")


def opentelemetry(what: str) -> Any:
    """The `opentelemetry` package's `context`, `propagate` and `trace` modules, or an
    ImportError saying that `what` needs the `otel` extra."""
    with needs_extra("otel", what):
        from opentelemetry import context, propagate, trace
    return context, propagate, trace


def target_attributes(method: str, params: Any) -> dict[str, str]:
    """`gen_ai.tool.name` (and `gen_ai.operation.name`), `gen_ai.prompt.name` or
    `mcp.resource.uri`, from the params of `method` (a struct or a dict)."""
    # Only the field the method names is read: a struct without it is a missed lookup.
    if method == "tools/call":
        name = field_of(params, "name")
        if isinstance(name, str):
            return {"gen_ai.tool.name": name, "gen_ai.operation.name": "execute_tool"}
    elif method == "prompts/get":
        name = field_of(params, "name")
        if isinstance(name, str):
            return {"gen_ai.prompt.name": name}
    elif method.startswith("resources/"):
        uri = field_of(params, "uri")
        if isinstance(uri, str):
            return {"mcp.resource.uri": uri}
    return {}


def span_name(method: str, attributes: Mapping[str, Any], uri_in_name: bool) -> str:
    """ "{mcp.method.name} {target}": the tool or prompt name, or the URI if asked for (the
    conventions warn that URIs make many distinct names)."""
    target = attributes.get("gen_ai.tool.name") or attributes.get("gen_ai.prompt.name")
    if target is None and uri_in_name:
        target = attributes.get("mcp.resource.uri")
    return f"{method} {target}" if target else method


class Failure(NamedTuple):
    """How a request failed, as the conventions classify it: `error_type` (`error.type`),
    a `message` for a span's status, the JSON-RPC error `code` when there is one
    (`rpc.response.status_code`), and whether it was `unexpected` (an exception that is no
    MCP outcome: a span records it as an event)."""

    error_type: str
    message: str
    code: int | None = None
    unexpected: bool = False

    def attributes(self) -> dict[str, str]:
        """`error.type`, and `rpc.response.status_code` when a JSON-RPC code is known."""
        if self.code is None:
            return {"error.type": self.error_type}
        return {"error.type": self.error_type, "rpc.response.status_code": str(self.code)}


#: A tools/call answered with a result that has isError (semconv: `error.type` "tool_error").
TOOL_ERROR = Failure("tool_error", "the tool's result has isError")


def failure_of(
    exc: BaseException, side: Literal["server", "client"], terms: Terms[Any] | None = None
) -> Failure:
    """The `Failure` an exception out of the request's inner layers means on `side`, for a
    request served under `terms` (the server's: what it answers with depends on them).

    A JSON-RPC error: its code, as answered (`answered_code`). A tool's own failure
    (ToolError): "tool_error". A cancellation: "cancelled". On the client, a request
    nothing answered in time: "timeout", and any other exception: its class's qualified
    name. On the server any other exception is answered as an internal error: "-32603"."""
    if isinstance(exc, RequestTimeout) and side == "client":  # an McpError, but unanswered
        return Failure("timeout", exc.message)
    if isinstance(exc, McpError):
        code = answered_code(exc.code, terms)
        return Failure(str(code), exc.message, code)
    if isinstance(exc, ToolError):
        return Failure("tool_error", str(exc))
    if isinstance(exc, asyncio.CancelledError):
        who = "the client" if side == "server" else "the caller"
        return Failure("cancelled", f"{who} cancelled the request")
    if side == "server":
        return Failure(str(codes.INTERNAL_ERROR), str(exc), codes.INTERNAL_ERROR, True)
    return Failure(f"{type(exc).__module__}.{type(exc).__qualname__}", str(exc), None, True)


def mark_failed(span: Span, failure: Failure, exc: BaseException | None = None) -> None:
    """`failure`'s attributes and an ERROR status on `span`; an unexpected `exc` is recorded
    as an event."""
    with needs_extra("otel"):
        from opentelemetry.trace import Status, StatusCode

    if exc is not None and failure.unexpected:
        span.record_exception(exc)
    span.set_attributes(failure.attributes())
    span.set_status(Status(StatusCode.ERROR, failure.message))
