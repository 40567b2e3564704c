"""What the server's and the client's OpenTelemetry middleware share (`ServerTracing`,
`ClientTracing`): the import that says what to install, the attributes and name the
semantic conventions for MCP (gen-ai/mcp) give a request's span, and how a failure is
marked on it.

Importing this module does not import OpenTelemetry: `opentelemetry()` does, when a tracing
middleware is constructed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from mcpkit._extras import needs_extra
from mcpkit.protocol.jsonrpc import field_of

if TYPE_CHECKING:
    from opentelemetry.trace import Span

__all__ = ["TRACE_META_KEYS", "mark_failed", "opentelemetry", "span_name", "target_attributes"]

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
    name, uri = field_of(params, "name"), field_of(params, "uri")
    if method == "tools/call" and isinstance(name, str):
        return {"gen_ai.tool.name": name, "gen_ai.operation.name": "execute_tool"}
    if method == "prompts/get" and isinstance(name, str):
        return {"gen_ai.prompt.name": name}
    if method.startswith("resources/") and isinstance(uri, str):
        return {"mcp.resource.uri": uri}
    return {}


def span_name(method: str, attributes: Mapping[str, Any], uri_in_name: bool) -> str:
    """ "{mcp.method.name} {target}": the tool or prompt name, or the URI if asked for (the
    conventions warn that URIs make many distinct names)."""
    target = attributes.get("gen_ai.tool.name") or attributes.get("gen_ai.prompt.name")
    if target is None and uri_in_name:
        target = attributes.get("mcp.resource.uri")
    return f"{method} {target}" if target else method


def mark_failed(span: Span, error_type: str, message: str, *, code: int | None = None) -> None:
    """`error.type` and an ERROR status on `span`; `rpc.response.status_code` when a
    JSON-RPC error's `code` is known."""
    with needs_extra("otel"):
        from opentelemetry.trace import Status, StatusCode

    span.set_attribute("error.type", error_type)
    if code is not None:
        span.set_attribute("rpc.response.status_code", str(code))
    span.set_status(Status(StatusCode.ERROR, message))
