"""`ServerTracing`: a server middleware that makes an OpenTelemetry SERVER span of each request,
as the semantic conventions for MCP name them, continuing the trace the client put in `_meta`.

Needs the `otel` extra (`pip install 'mcpkit[otel]'`: opentelemetry-api); importing this
module does not import OpenTelemetry, constructing `ServerTracing` does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from mcpkit.errors import McpError, ToolError
from mcpkit.protocol import codes

if TYPE_CHECKING:
    from opentelemetry.trace import Span, TracerProvider

    from mcpkit.server.context import Context
    from mcpkit.server.middleware import CallNext

__all__ = ["ServerTracing"]

#: The `_meta` keys OpenTelemetry's context travels in (spec 2026-07-28 basic/index,
#: "OpenTelemetry trace context": reserved unprefixed, W3C Trace Context and Baggage).
TRACE_META_KEYS = ("traceparent", "tracestate", "baggage")


def _opentelemetry(what: str) -> Any:
    """The `opentelemetry` modules this middleware uses, or an ImportError saying what to
    install."""
    try:
        from opentelemetry import context, propagate, trace
    except ImportError as exc:
        raise ImportError(
            f"{what} needs OpenTelemetry, which is not installed: pip install 'mcpkit[otel]'"
        ) from exc
    return context, propagate, trace


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
        self._context, self._propagate, trace = _opentelemetry("ServerTracing")
        self._trace = trace
        self.tracer = trace.get_tracer("mcpkit.server", tracer_provider=tracer_provider)
        self.resource_uri_in_name = resource_uri_in_name

    async def __call__(self, ctx: Context, params: Any, call_next: CallNext) -> Any:
        trace = self._trace
        attributes = _attributes(ctx, params)
        name = _span_name(ctx.method, attributes, self.resource_uri_in_name)
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
    from opentelemetry.trace import Status, StatusCode

    try:
        result = await call_next(params)
    except McpError as exc:
        _failed(span, str(exc.code), exc.message, code=exc.code)
        raise
    except ToolError as exc:
        _failed(span, "tool_error", str(exc))
        raise
    except asyncio.CancelledError:
        _failed(span, "cancelled", "the client cancelled the request")
        raise
    except Exception as exc:
        span.record_exception(exc)
        _failed(span, str(codes.INTERNAL_ERROR), str(exc), code=codes.INTERNAL_ERROR)
        raise
    if getattr(result, "is_error", None):
        span.set_attribute("error.type", "tool_error")
        span.set_status(Status(StatusCode.ERROR, "the tool's result has isError"))
    return result


def _failed(span: Span, error_type: str, message: str, *, code: int | None = None) -> None:
    from opentelemetry.trace import Status, StatusCode

    span.set_attribute("error.type", error_type)
    if code is not None:
        span.set_attribute("rpc.response.status_code", str(code))
    span.set_status(Status(StatusCode.ERROR, message))


def _attributes(ctx: Context, params: Any) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "mcp.method.name": ctx.method,
        "jsonrpc.request.id": str(ctx.request_id),
    }
    if ctx.protocol_version is not None:
        attributes["mcp.protocol.version"] = ctx.protocol_version
    attributes.update(target_attributes(ctx.method, params))
    info = ctx.request_info
    if info is not None:
        if info.transport == "http":  # Streamable HTTP or HTTP+SSE: over TCP
            attributes["network.transport"] = "tcp"
            attributes["network.protocol.name"] = "http"
        session_id = info.header("mcp-session-id")
        if session_id is not None:
            attributes["mcp.session.id"] = session_id
        if info.client is not None:
            attributes["client.address"], attributes["client.port"] = info.client
    return attributes


def target_attributes(method: str, params: Any) -> dict[str, str]:
    """`gen_ai.tool.name` (and `gen_ai.operation.name`), `gen_ai.prompt.name` or
    `mcp.resource.uri`, from the params of `method` (a struct or a dict)."""
    name, uri = _field(params, "name"), _field(params, "uri")
    if method == "tools/call" and isinstance(name, str):
        return {"gen_ai.tool.name": name, "gen_ai.operation.name": "execute_tool"}
    if method == "prompts/get" and isinstance(name, str):
        return {"gen_ai.prompt.name": name}
    if method.startswith("resources/") and isinstance(uri, str):
        return {"mcp.resource.uri": uri}
    return {}


def _span_name(method: str, attributes: Mapping[str, Any], uri_in_name: bool) -> str:
    """ "{mcp.method.name} {target}": the tool or prompt name, or the URI if asked for."""
    target = attributes.get("gen_ai.tool.name") or attributes.get("gen_ai.prompt.name")
    if target is None and uri_in_name:
        target = attributes.get("mcp.resource.uri")
    return f"{method} {target}" if target else method


def _field(params: Any, key: str) -> Any:
    if isinstance(params, dict):
        return cast("dict[str, Any]", params).get(key)
    return getattr(params, key, None)
