"""The server's OpenTelemetry middleware, as the semantic conventions for MCP name what it
makes: `ServerTracing`, a SERVER span of each request, continuing the trace the client put in
`_meta`; `ServerMetrics`, the `mcp.server.operation.duration` and
`mcp.server.session.duration` histograms (`mcpkit.runtime.meters` names the version of the
conventions followed). Each is a middleware of its own; add either or both.

Needs the `otel` extra (`pip install 'mcpkit[otel]'`: opentelemetry-api); importing this
module does not import OpenTelemetry, constructing `ServerTracing` or `ServerMetrics` does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from mcpkit.runtime.channel import ReadsBodies
from mcpkit.runtime.layers import LifecycleWatcher, is_tool_error
from mcpkit.runtime.meters import duration_histograms, timed_call
from mcpkit.runtime.spans import (
    TOOL_ERROR,
    TRACE_META_KEYS,
    failure_of,
    mark_failed,
    opentelemetry,
    span_name,
    target_attributes,
)
from mcpkit.types.methods import MODERN_REVISIONS

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import Span, TracerProvider

    from mcpkit.runtime.channel import MessageChannel
    from mcpkit.server.context import Context
    from mcpkit.server.middleware import CallNext
    from mcpkit.server.session import ServerSessionHandle

__all__ = ["ServerMetrics", "ServerTracing", "operation_attributes"]


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
                return await _traced_call(span, ctx, params, call_next)
        finally:
            if token is not None:
                self._context.detach(token)


class ServerMetrics(LifecycleWatcher["ServerSessionHandle"]):
    """The MCP server metrics of the OpenTelemetry semantic conventions (gen-ai/mcp), both
    histograms in seconds:

    - `mcp.server.operation.duration`, one per request the server's layers see, from when
      this layer is called until the handler's answer is back: `mcp.method.name`,
      `mcp.protocol.version`, `gen_ai.tool.name` and `gen_ai.operation.name` (tools/call),
      `gen_ai.prompt.name` (prompts/get), `network.transport` and `network.protocol.name`
      (HTTP), and on failure `error.type` (and `rpc.response.status_code` for a JSON-RPC
      error), decided as `ServerTracing` decides them. `mcp.resource.uri` only when asked
      for (the conventions make it opt-in: URIs make many distinct series).
    - `mcp.server.session.duration`, one per 2025-era session as it ends (the client closed
      it, deleted it, or it expired), from when it was created: `mcp.protocol.version`,
      and over HTTP `network.transport` and `network.protocol.name` (the server is told
      nothing of stdio or in-memory transports, as for its spans). A 2026-07-28 request
      has no session, so it records none.

    Nothing else is recorded: no session id, request id or client address (each would make
    a series per value). Add it as a server middleware (beside `ServerTracing` or not); a
    server without it does no metrics work at all.

    Args:
        meter_provider: where the metrics go; OpenTelemetry's global provider if None.
        resource_uri: add `mcp.resource.uri` to resource requests' operation durations.
        clock: the clock requests are timed by (`time.perf_counter`).
    """

    def __init__(
        self,
        meter_provider: MeterProvider | None = None,
        *,
        resource_uri: bool = False,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.operation_duration, self.session_duration = duration_histograms(
            "server", meter_provider, "ServerMetrics"
        )
        self.resource_uri = resource_uri
        self.clock = clock

    async def __call__(self, ctx: Context, params: Any, call_next: CallNext) -> Any:
        attributes = operation_attributes(ctx, params)
        if not self.resource_uri:
            attributes.pop("mcp.resource.uri", None)
        return await timed_call(
            self.operation_duration, attributes, "server", self.clock, params, call_next, ctx.terms
        )

    def session_ended(self, session: ServerSessionHandle) -> None:
        record = session.record
        revision = record.revision
        if revision is None or revision in MODERN_REVISIONS:  # never initialized: no session
            return
        attributes = {
            "mcp.protocol.version": revision,
            **_session_network(session.connection.channel),
        }
        # The record's wall-clock start: a session restored by another process began there.
        self.session_duration.record(max(0.0, time.time() - record.created), attributes)


async def _traced_call(span: Span, ctx: Context, params: Any, call_next: CallNext) -> Any:
    try:
        result = await call_next(params)
    except (Exception, asyncio.CancelledError) as exc:
        mark_failed(span, failure_of(exc, "server", ctx.terms), exc)
        raise
    if is_tool_error(result):
        mark_failed(span, TOOL_ERROR)
    return result


def operation_attributes(ctx: Context, params: Any) -> dict[str, Any]:
    """What a request's span and its `mcp.server.operation.duration` both carry:
    `mcp.method.name`, `mcp.protocol.version`, the target (`target_attributes`) and
    `network.transport` and `network.protocol.name` over HTTP."""
    method, revision = ctx.method, ctx.protocol_version
    attributes: dict[str, Any] = {"mcp.method.name": method}
    if revision is not None:
        attributes["mcp.protocol.version"] = revision
    attributes.update(target_attributes(method, params))
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


def _session_network(channel: MessageChannel) -> dict[str, str]:
    """`network.*` of a session's transport (semconv "Recording MCP transport"): over HTTP
    (whose channels are told of each POST body they carry); nothing over stdio or in
    process, where the server is told nothing of the transport, as for its spans."""
    if isinstance(channel, ReadsBodies):
        return {"network.transport": "tcp", "network.protocol.name": "http"}
    return {}
