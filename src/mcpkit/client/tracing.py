"""The client's OpenTelemetry middleware, as the semantic conventions for MCP name what it
makes: `ClientTracing`, a CLIENT span of each request, whose trace context it sends in
`_meta`; `ClientMetrics`, the `mcp.client.operation.duration` and
`mcp.client.session.duration` histograms (`mcpkit.runtime.meters` names the version of the
conventions followed). Each is a middleware of its own; add either or both.

Needs the `otel` extra (`pip install 'mcpkit[otel]'`: opentelemetry-api); importing this
module does not import OpenTelemetry, constructing `ClientTracing` or `ClientMetrics` does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

import msgspec

from mcpkit.protocol.jsonrpc import meta_of
from mcpkit.runtime.layers import LifecycleWatcher, is_tool_error
from mcpkit.runtime.meters import duration_histograms, timed_call
from mcpkit.runtime.spans import (
    TOOL_ERROR,
    failure_of,
    mark_failed,
    opentelemetry,
    span_name,
    target_attributes,
)
from mcpkit.transports.stdio_client import StdioParameters
from mcpkit.types.methods import MODERN_REVISIONS

if TYPE_CHECKING:
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import Span, TracerProvider

    from mcpkit.client.client import Client
    from mcpkit.client.middleware import CallNext, OutgoingRequest

__all__ = ["ClientMetrics", "ClientTracing", "network_attributes", "operation_attributes"]


class ClientTracing:
    """One span per request the client sends (semconv gen-ai/mcp, "Client"): named
    `"{mcp.method.name} {target}"` (the tool or prompt name; the method alone otherwise),
    kind CLIENT, with `mcp.method.name`, `mcp.protocol.version`, `gen_ai.tool.name` and
    `gen_ai.operation.name` (tools/call), `gen_ai.prompt.name`, `mcp.resource.uri`,
    `network.transport` ("pipe" for a command, "tcp" for a URL), `network.protocol.name`,
    `server.address` and `server.port` where known.

    The span's context is injected, with the configured propagator (W3C `traceparent`,
    `tracestate` and `baggage` by default), into the request's `params._meta` (spec
    2026-07-28 basic/index, "OpenTelemetry trace context"), so the server's span is its child.
    The caller's params are copied, never changed.

    Failures set `error.type` and the span's status to ERROR: a JSON-RPC error's code (also
    `rpc.response.status_code`), "timeout", "tool_error" for a tool result with isError,
    "cancelled", or the exception's class.

    Args:
        tracer_provider: where spans go; OpenTelemetry's global provider if None.
        resource_uri_in_name: add `mcp.resource.uri` to span names (off by default: the
            conventions warn of high cardinality).
    """

    def __init__(
        self, tracer_provider: TracerProvider | None = None, *, resource_uri_in_name: bool = False
    ) -> None:
        _, self._propagate, trace = opentelemetry("ClientTracing")
        self._trace = trace
        self.tracer = trace.get_tracer("mcpkit.client", tracer_provider=tracer_provider)
        self.resource_uri_in_name = resource_uri_in_name

    async def __call__(self, request: OutgoingRequest, params: Any, call_next: CallNext) -> Any:
        attributes = _attributes(request, params)
        with self.tracer.start_as_current_span(
            span_name(request.method, attributes, self.resource_uri_in_name),
            kind=self._trace.SpanKind.CLIENT,
            attributes=attributes,
            record_exception=False,
            set_status_on_exception=False,
        ) as span:
            meta = _meta_of(params)
            self._propagate.inject(meta)  # the span just started is the current one
            return await _traced_call(span, _with_meta(params, meta), call_next)


class ClientMetrics(LifecycleWatcher["Client"]):
    """The MCP client metrics of the OpenTelemetry semantic conventions (gen-ai/mcp), both
    histograms in seconds:

    - `mcp.client.operation.duration`, one per request the client sends, until its answer:
      `mcp.method.name`, `mcp.protocol.version`, `gen_ai.tool.name` and
      `gen_ai.operation.name` (tools/call), `gen_ai.prompt.name` (prompts/get),
      `network.transport` ("tcp" for a URL, "pipe" for a command), `network.protocol.name`,
      `server.address` and `server.port`, and on failure `error.type` (and
      `rpc.response.status_code` for a JSON-RPC error), decided as `ClientTracing` decides
      them. `mcp.resource.uri` only when asked for (opt-in in the conventions).
    - `mcp.client.session.duration`, one per 2025-era session, from the end of `connect`
      (the handshake done) to `aclose`: `mcp.protocol.version` and the network attributes.
      A client speaking 2026-07-28 opens no session, so it records none.

    Args:
        meter_provider: where the metrics go; OpenTelemetry's global provider if None.
        resource_uri: add `mcp.resource.uri` to resource requests' operation durations.
        clock: the clock requests and sessions are timed by (`time.perf_counter`).
    """

    def __init__(
        self,
        meter_provider: MeterProvider | None = None,
        *,
        resource_uri: bool = False,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.operation_duration, self.session_duration = duration_histograms(
            "client", meter_provider, "ClientMetrics"
        )
        self.resource_uri = resource_uri
        self.clock = clock
        #: The sessions open, with when each began and its attributes.
        self._open: dict[Client, tuple[float, dict[str, Any]]] = {}

    async def __call__(self, request: OutgoingRequest, params: Any, call_next: CallNext) -> Any:
        attributes = operation_attributes(request, params)
        if not self.resource_uri:
            attributes.pop("mcp.resource.uri", None)
        return await timed_call(
            self.operation_duration, attributes, "client", self.clock, params, call_next
        )

    def session_began(self, session: Client) -> None:
        revision = session.protocol_version
        if revision in MODERN_REVISIONS:
            return
        attributes = {"mcp.protocol.version": revision, **network_attributes(session.target)}
        self._open[session] = (self.clock(), attributes)

    def session_ended(self, session: Client) -> None:
        began = self._open.pop(session, None)
        if began is not None:
            start, attributes = began
            self.session_duration.record(self.clock() - start, attributes)


async def _traced_call(span: Span, params: Any, call_next: CallNext) -> Any:
    try:
        result = await call_next(params)
    except (Exception, asyncio.CancelledError) as exc:
        mark_failed(span, failure_of(exc, "client"), exc)
        raise
    if is_tool_error(result):
        mark_failed(span, TOOL_ERROR)
    return result


def operation_attributes(request: OutgoingRequest, params: Any) -> dict[str, Any]:
    """What a request's span and its `mcp.client.operation.duration` both carry:
    `mcp.method.name`, `mcp.protocol.version`, the target (`target_attributes`) and the
    network (`network_attributes`)."""
    method = request.method
    attributes: dict[str, Any] = {
        "mcp.method.name": method,
        "mcp.protocol.version": request.client.protocol_version,  # either era's
    }
    attributes.update(target_attributes(method, params))
    attributes.update(network_attributes(request.client.target))
    return attributes


def _attributes(request: OutgoingRequest, params: Any) -> dict[str, Any]:
    """The span's: the operation's, and the session's id (too many distinct values for a
    metric)."""
    attributes = operation_attributes(request, params)
    session_id = request.client.session_id
    if session_id is not None:
        attributes["mcp.session.id"] = session_id
    return attributes


def network_attributes(target: Any) -> dict[str, Any]:
    """`network.*` and `server.*` for what the client connected to (semconv: "tcp" for
    HTTP, "pipe" for stdio); nothing in-process."""
    if isinstance(target, str) and target.startswith(("http://", "https://")):
        url = urlsplit(target)
        found: dict[str, Any] = {"network.transport": "tcp", "network.protocol.name": "http"}
        if url.hostname:
            found["server.address"] = url.hostname
            found["server.port"] = url.port or (443 if url.scheme == "https" else 80)
        return found
    if isinstance(target, (str, list, tuple, StdioParameters)):
        return {"network.transport": "pipe"}
    return {}


def _meta_of(params: Any) -> dict[str, Any]:
    """A copy of the params' `_meta` (a new dict if none) to inject the context into."""
    return dict(meta_of(params) or {})


def _with_meta(params: Any, meta: dict[str, Any]) -> Any:
    """`params` as a new dict with `_meta` replaced (a struct is converted to its dict)."""
    if not meta:
        return params
    if params is None:
        return {"_meta": meta}
    fields: dict[str, Any] = (
        dict(cast("dict[str, Any]", params))
        if isinstance(params, dict)
        else msgspec.to_builtins(params)
    )
    fields["_meta"] = meta
    return fields
