"""`ServerTracing`: a server middleware that makes an OpenTelemetry SERVER span of each request,
as the semantic conventions for MCP name them, continuing the trace the client put in `_meta`.

Needs the `otel` extra (`pip install 'mcpkit[otel]'`: opentelemetry-api); importing this
module does not import OpenTelemetry, constructing `ServerTracing` does.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from mcpkit.runtime.layers import is_tool_error
from mcpkit.runtime.spans import (
    TOOL_ERROR,
    TRACE_META_KEYS,
    failure_of,
    mark_failed,
    opentelemetry,
    span_name,
    target_attributes,
)

if TYPE_CHECKING:
    from opentelemetry.trace import Span, TracerProvider

    from mcpkit.server.context import Context
    from mcpkit.server.middleware import CallNext

__all__ = ["ServerTracing", "operation_attributes"]


class ServerTracing:
    """One span per request the server's layers see (semconv gen-ai/mcp, "Server"): named
    `"{mcp.method.name} {target}"` (the tool or prompt name; the method alone otherwise),
    kind SERVER, with `mcp.method.name`, `jsonrpc.request.id`, `mcp.protocol.version`,
    `mcp.session.id` (Streamable HTTP), `gen_ai.tool.name` and `gen_ai.operation.name`
    (tools/call), `gen_ai.prompt.name`, `mcp.resource.uri`, `network.transport`,
    `network.protocol.name`, `client.address` and `client.port` where known.

    Its parent is the trace context the client sent in the request's `params._meta`
    (`traceparent`, `tracestate`, `baggage`), and the ambient span (say, an HTTP server
    span) is linked; without one the ambient span is the parent. The handler runs with the
    span current and the client's baggage in its context.

    Failures set `error.type` and the span's status to ERROR: a JSON-RPC error's code (also
    `rpc.response.status_code`), "tool_error" for a tool result with isError, "-32603" for
    an exception the server answers as an internal error (recorded as an event),
    "cancelled" when the client cancelled.

    Args:
        tracer_provider: where spans go; OpenTelemetry's global provider if None.
        resource_uri_in_name: add `mcp.resource.uri` to span names (off by default: the
            conventions warn of high cardinality).
    """

    def __init__(
        self, tracer_provider: TracerProvider | None = None, *, resource_uri_in_name: bool = False
    ) -> None:
        self._context, self._propagate, trace = opentelemetry("ServerTracing")
        self._trace = trace
        self.tracer = trace.get_tracer("mcpkit.server", tracer_provider=tracer_provider)
        self.resource_uri_in_name = resource_uri_in_name

    async def __call__(self, ctx: Context, params: Any, call_next: CallNext) -> Any:
        trace = self._trace
        attributes = _attributes(ctx, params)
        name = span_name(ctx.method, attributes, self.resource_uri_in_name)
        meta = ctx.meta
        token = None
        links = None
        if meta and "traceparent" in meta:
            ambient = trace.get_current_span().get_span_context()
            links = [trace.Link(ambient)] if ambient.is_valid else None
            carrier = {k: meta[k] for k in TRACE_META_KEYS if isinstance(meta.get(k), str)}
            token = self._context.attach(self._propagate.extract(carrier))
        try:
            with self.tracer.start_as_current_span(
                name,
                kind=trace.SpanKind.SERVER,
                attributes=attributes,
                links=links,
                record_exception=False,
                set_status_on_exception=False,
            ) as span:
                return await _traced_call(span, params, call_next)
        finally:
            if token is not None:
                self._context.detach(token)


async def _traced_call(span: Span, params: Any, call_next: CallNext) -> Any:
    try:
        result = await call_next(params)
    except (Exception, asyncio.CancelledError) as exc:
        mark_failed(span, failure_of(exc, "server"), exc)
        raise
    if is_tool_error(result):
        mark_failed(span, TOOL_ERROR)
    return result


def operation_attributes(ctx: Context, params: Any) -> dict[str, Any]:
    """What a request's span and its `mcp.server.operation.duration` both carry:
    `mcp.method.name`, `mcp.protocol.version`, the target (`target_attributes`) and
    `network.transport` and `network.protocol.name` over HTTP."""
    attributes: dict[str, Any] = {"mcp.method.name": ctx.method}
    if ctx.protocol_version is not None:
        attributes["mcp.protocol.version"] = ctx.protocol_version
    attributes.update(target_attributes(ctx.method, params))
    info = ctx.request_info
    if info is not None and info.transport == "http":  # Streamable HTTP or HTTP+SSE: over TCP
        attributes["network.transport"] = "tcp"
        attributes["network.protocol.name"] = "http"
    return attributes


def _attributes(ctx: Context, params: Any) -> dict[str, Any]:
    """The span's: the operation's, and what only a span may carry (ids and addresses
    make too many distinct values for a metric)."""
    attributes = operation_attributes(ctx, params)
    attributes["jsonrpc.request.id"] = str(ctx.request_id)
    info = ctx.request_info
    if info is not None:
        session_id = info.header("mcp-session-id")
        if session_id is not None:
            attributes["mcp.session.id"] = session_id
        if info.client is not None:
            attributes["client.address"], attributes["client.port"] = info.client
    return attributes
