"""OpenTelemetry spans (mcpkit.server.middleware.tracing, mcpkit.client.tracing): names, kinds and
attributes of the semantic conventions for MCP, and a client span the parent of the server
span across a real connection, in memory and over Streamable HTTP."""

from __future__ import annotations

import asyncio
import functools
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import baggage, context, trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from mcpkit import Client, Context, Server
from mcpkit.client.middleware import CallNext as ClientCallNext
from mcpkit.client.middleware import OutgoingRequest
from mcpkit.client.tracing import ClientTracing
from mcpkit.errors import McpError, RequestTimeout
from mcpkit.server.middleware import CallNext
from mcpkit.server.middleware.tracing import ServerTracing
from mcpkit.testing import raw_session

sys.path.insert(0, str(Path(__file__).resolve().parent / "http"))
from _serving import serving

# The attributes below are a 2025-11-25 session's (its id, its revision): the client is
# pinned to it; test_a_2026_request_is_traced_with_its_revision covers 2026-07-28.
Client = functools.partial(Client, protocol="2025-11-25")


@pytest.fixture
def spans() -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider, exporter


def make_server(provider: TracerProvider, *outer: Any) -> Server:
    server = Server("traced", middleware=[*outer, ServerTracing(provider)])

    @server.tool()
    async def add(a: int, b: int) -> int:
        return a + b

    @server.tool()
    async def fails() -> int:
        raise ValueError("no")

    @server.tool()
    async def whose() -> str:
        return str(baggage.get_baggage("user"))

    @server.tool()
    async def hang() -> None:
        await asyncio.Event().wait()

    @server.prompt()
    def review(code: str) -> str:
        return f"review {code}"

    return server


def by_kind(finished: tuple[ReadableSpan, ...], kind: trace.SpanKind) -> list[ReadableSpan]:
    return [s for s in finished if s.kind == kind]


def assert_parent(client_span: ReadableSpan, server_span: ReadableSpan) -> None:
    assert client_span.context is not None and server_span.context is not None
    assert server_span.context.trace_id == client_span.context.trace_id
    assert server_span.parent is not None and server_span.parent.is_remote
    assert server_span.parent.span_id == client_span.context.span_id


async def test_in_memory_the_client_span_is_the_server_spans_parent(spans: Any) -> None:
    provider, exporter = spans
    async with Client(make_server(provider), middleware=[ClientTracing(provider)]) as client:
        assert (await client.call_tool("add", {"a": 1, "b": 2})).structured_content == {"result": 3}
    finished = exporter.get_finished_spans()
    (client_span,) = [s for s in by_kind(finished, trace.SpanKind.CLIENT)]
    (server_span,) = by_kind(finished, trace.SpanKind.SERVER)
    assert client_span.name == server_span.name == "tools/call add"
    assert_parent(client_span, server_span)
    assert client_span.attributes is not None and server_span.attributes is not None
    assert dict(client_span.attributes) == {
        "mcp.method.name": "tools/call",
        "mcp.protocol.version": "2025-11-25",
        "gen_ai.tool.name": "add",
        "gen_ai.operation.name": "execute_tool",
    }
    server_attributes = dict(server_span.attributes)
    # The client's request id: from the process's id source (mcpkit.protocol.ids), which the
    # in-process server shares, so whatever number it is.
    assert str(server_attributes.pop("jsonrpc.request.id")).isdigit()
    assert server_attributes == {
        "mcp.method.name": "tools/call",
        "mcp.protocol.version": "2025-11-25",
        "gen_ai.tool.name": "add",
        "gen_ai.operation.name": "execute_tool",
    }
    assert client_span.status.status_code == server_span.status.status_code
    assert server_span.status.status_code == trace.StatusCode.UNSET


async def test_over_http_the_parent_crosses_the_connection(spans: Any) -> None:
    provider, exporter = spans
    server = make_server(provider)
    async with serving(server.http_app()) as base:
        url = f"{base}/mcp"
        async with Client(url, middleware=[ClientTracing(provider)]) as client:
            await client.get_prompt("review", {"code": "x"})
    finished = exporter.get_finished_spans()
    client_span = by_kind(finished, trace.SpanKind.CLIENT)[-1]
    server_span = by_kind(finished, trace.SpanKind.SERVER)[-1]
    assert client_span.name == server_span.name == "prompts/get review"
    assert_parent(client_span, server_span)
    port = int(base.rsplit(":", 1)[1])
    assert client_span.attributes is not None and server_span.attributes is not None
    assert client_span.attributes["gen_ai.prompt.name"] == "review"
    assert client_span.attributes["network.transport"] == "tcp"
    assert client_span.attributes["network.protocol.name"] == "http"
    assert client_span.attributes["server.address"] == "127.0.0.1"
    assert client_span.attributes["server.port"] == port
    assert server_span.attributes["network.transport"] == "tcp"
    assert server_span.attributes["client.address"] == "127.0.0.1"
    assert len(str(server_span.attributes["mcp.session.id"])) >= 16
    assert client_span.attributes["mcp.session.id"] == server_span.attributes["mcp.session.id"]


async def test_baggage_reaches_the_handler_and_the_callers_params_stay_as_they_were(
    spans: Any,
) -> None:
    provider, _ = spans
    seen: list[Any] = []

    async def look(request: OutgoingRequest, params: Any, call_next: ClientCallNext) -> Any:
        seen.append(params)
        return await call_next(params)

    meta = {"mine": 1}
    token = context.attach(baggage.set_baggage("user", "ada"))
    try:
        async with Client(
            make_server(provider), middleware=[ClientTracing(provider), look]
        ) as client:
            result = await client.call_tool("whose", meta=meta)
    finally:
        context.detach(token)
    assert result.content[0].text == "ada"  # type: ignore[union-attr]
    assert meta == {"mine": 1}
    sent = seen[0]["_meta"]
    assert sent["mine"] == 1 and sent["baggage"] == "user=ada"
    assert sent["traceparent"].startswith("00-")


async def test_the_ambient_span_is_linked_when_the_client_sent_a_parent(spans: Any) -> None:
    provider, exporter = spans
    tracer = provider.get_tracer("transport")

    async def transport_span(ctx: Context, params: Any, call_next: CallNext) -> Any:
        with tracer.start_as_current_span("POST /mcp", kind=trace.SpanKind.SERVER):
            return await call_next(params)

    server = make_server(provider, transport_span)
    async with Client(server, middleware=[ClientTracing(provider)]) as client:
        await client.call_tool("add", {"a": 1, "b": 1})
    finished = exporter.get_finished_spans()
    (mcp_span,) = [s for s in finished if s.name == "tools/call add" and s.kind.name == "SERVER"]
    (ambient,) = [s for s in finished if s.name == "POST /mcp"]
    (client_span,) = by_kind(finished, trace.SpanKind.CLIENT)
    assert_parent(client_span, mcp_span)
    assert ambient.context is not None
    assert [link.context.span_id for link in mcp_span.links] == [ambient.context.span_id]


async def test_without_a_parent_from_the_client_the_ambient_span_is_the_parent(
    spans: Any,
) -> None:
    provider, exporter = spans
    async with Client(make_server(provider)) as client:
        await client.call_tool("add", {"a": 1, "b": 1})
    (server_span,) = exporter.get_finished_spans()
    assert server_span.parent is None and not server_span.links


async def test_failures_set_error_type_and_status(spans: Any, fake_clock: Any) -> None:
    provider, exporter = spans
    server = make_server(provider)

    @server.resource("config://app")
    def config() -> str:
        return "{}"

    async with Client(server, middleware=[ClientTracing(provider)]) as client:
        assert (await client.call_tool("fails")).is_error is True
        with pytest.raises(McpError):
            await client.read_resource("nothing://here")
        with pytest.raises(RequestTimeout):
            await client.call_tool("hang", timeout=1)
    finished = exporter.get_finished_spans()

    def errors(kind: trace.SpanKind) -> list[tuple[str, Any, Any]]:
        found = []
        for s in by_kind(finished, kind):
            assert s.attributes is not None
            if "error.type" in s.attributes:
                assert s.status.status_code == trace.StatusCode.ERROR
                code = s.attributes.get("rpc.response.status_code")
                found.append((s.name, s.attributes["error.type"], code))
        return found

    assert errors(trace.SpanKind.CLIENT) == [
        ("tools/call fails", "tool_error", None),
        ("resources/read", "-32002", "-32002"),
        ("tools/call hang", "timeout", None),
    ]
    assert errors(trace.SpanKind.SERVER) == [
        ("tools/call fails", "tool_error", None),
        ("resources/read", "-32002", "-32002"),
        ("tools/call hang", "cancelled", None),
    ]
    read = [s for s in by_kind(finished, trace.SpanKind.CLIENT) if s.name == "resources/read"]
    assert read[0].attributes is not None
    assert read[0].attributes["mcp.resource.uri"] == "nothing://here"
    assert read[0].status.description is not None and "nothing://here" in read[0].status.description


def test_the_resource_uri_joins_the_name_only_when_asked(spans: Any) -> None:
    provider, _ = spans
    assert ServerTracing(provider).resource_uri_in_name is False
    assert ClientTracing(provider, resource_uri_in_name=True).resource_uri_in_name is True


def test_without_opentelemetry_constructing_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in [m for m in sys.modules if m == "opentelemetry" or m.startswith("opentelemetry.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "opentelemetry", None)  # what `import` then refuses
    with pytest.raises(ImportError, match=r"pip install 'mcpkit\[otel\]'"):
        ServerTracing()
    with pytest.raises(ImportError, match=r"pip install 'mcpkit\[otel\]'"):
        ClientTracing()


def test_importing_mcpkit_and_the_tracing_modules_imports_no_opentelemetry() -> None:
    code = (
        "import sys, mcpkit, mcpkit.server.middleware.tracing, mcpkit.client.tracing; "
        "from mcpkit import Client, Server; "
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    assert loaded == "[]"


@pytest.mark.parametrize(
    "meta",
    [
        {"traceparent": 12},
        {"traceparent": "00-zz-yy-01"},
        {"traceparent": "00-" + "a" * 100_000, "tracestate": ["x"], "baggage": "=" * 100_000},
        {"traceparent": "00-00000000000000000000000000000000-0000000000000000-01"},
    ],
)
async def test_a_broken_trace_context_from_the_client_starts_a_new_trace(
    spans: Any, meta: dict[str, Any]
) -> None:
    provider, exporter = spans
    async with raw_session(make_server(provider)) as peer:
        params = {"name": "add", "arguments": {"a": 1, "b": 1}, "_meta": meta}
        reply = await peer.request("tools/call", params)
    assert reply["result"]["structuredContent"] == {"result": 2}
    (server_span,) = exporter.get_finished_spans()
    assert server_span.parent is None


async def test_a_2026_request_is_traced_with_its_revision(spans: Any) -> None:
    provider, exporter = spans
    server = make_server(provider)
    async with Client(server, middleware=[ClientTracing(provider)], protocol="2026-07-28") as c:
        assert (await c.call_tool("add", {"a": 1, "b": 2})).structured_content == {"result": 3}
    finished = exporter.get_finished_spans()
    client_span = next(s for s in by_kind(finished, trace.SpanKind.CLIENT) if "add" in s.name)
    (server_span,) = [s for s in by_kind(finished, trace.SpanKind.SERVER) if "add" in s.name]
    assert_parent(client_span, server_span)
    assert server_span.attributes is not None
    assert server_span.attributes["mcp.protocol.version"] == "2026-07-28"
    assert "mcp.session.id" not in server_span.attributes  # no session in this revision
