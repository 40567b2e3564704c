"""The MCP metrics of the OpenTelemetry semantic conventions (`ServerMetrics`,
`ClientMetrics`), read with the SDK's in-memory metric reader, for both protocol eras."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader

from mcpkit import Client, Server
from mcpkit.client.tracing import ClientMetrics
from mcpkit.errors import McpError
from mcpkit.runtime.meters import DURATION_BUCKETS
from mcpkit.server.middleware.tracing import ServerMetrics

sys.path.insert(0, str(Path(__file__).resolve().parent / "http"))
from _serving import serving

#: (attributes, count) of each data point, sorted, by metric name.
Points = dict[str, list[tuple[dict[str, Any], int]]]

ERA = "2025-11-25"

NAMES = {
    "mcp.server.operation.duration",
    "mcp.server.session.duration",
    "mcp.client.operation.duration",
    "mcp.client.session.duration",
}


@pytest.fixture
def meters() -> tuple[MeterProvider, InMemoryMetricReader]:
    reader = InMemoryMetricReader()
    return MeterProvider(metric_readers=[reader]), reader


def recorded(reader: InMemoryMetricReader) -> Points:
    """What `reader` holds, checking that each metric is the conventions' histogram."""
    found: Points = {}
    data = reader.get_metrics_data()
    assert data is not None
    for resource in data.resource_metrics:
        for scope in resource.scope_metrics:
            assert scope.scope.name in {"mcpkit.server", "mcpkit.client"}
            for metric in scope.metrics:
                assert metric.name in NAMES and metric.unit == "s"
                points = found.setdefault(metric.name, [])
                for point in metric.data.data_points:
                    assert isinstance(point, HistogramDataPoint)
                    assert point.explicit_bounds == DURATION_BUCKETS and point.sum >= 0
                    points.append((dict(point.attributes or {}), point.count))
    return {name: sorted(points, key=repr) for name, points in found.items()}


def make_server(provider: MeterProvider) -> Server:
    server = Server("measured", middleware=[ServerMetrics(provider)])

    @server.tool()
    async def add(a: int, b: int) -> int:
        return a + b

    @server.tool()
    async def fails() -> int:
        raise ValueError("no")

    @server.prompt()
    def review(code: str) -> str:
        return f"review {code}"

    @server.resource("config://app")
    def config() -> str:
        return "{}"

    return server


async def make_calls(client: Client) -> None:
    assert (await client.call_tool("add", {"a": 1, "b": 2})).structured_content == {"result": 3}
    assert (await client.call_tool("fails")).is_error is True
    await client.get_prompt("review", {"code": "x"})
    await client.read_resource("config://app")
    with pytest.raises(McpError):
        await client.read_resource("nothing://here")


def operations(era: str, **common: Any) -> list[tuple[dict[str, Any], int]]:
    """The operation points `make_calls` makes in `era`, each with its revision and
    `common`."""
    # A resource not found is -32602 from 2026-07-28 on (its changelog), -32002 before.
    missing = "-32602" if era == "2026-07-28" else "-32002"
    common["mcp.protocol.version"] = era
    tool = {"mcp.method.name": "tools/call", "gen_ai.operation.name": "execute_tool"}
    read = {"mcp.method.name": "resources/read"}
    points = [
        ({**tool, "gen_ai.tool.name": "add"}, 1),
        ({**tool, "gen_ai.tool.name": "fails", "error.type": "tool_error"}, 1),
        ({"mcp.method.name": "prompts/get", "gen_ai.prompt.name": "review"}, 1),
        (read, 1),
        ({**read, "error.type": missing, "rpc.response.status_code": missing}, 1),
    ]
    return sorted([({**attributes, **common}, n) for attributes, n in points], key=repr)


@pytest.mark.parametrize("era", ["2025-11-25", "2026-07-28"])
async def test_in_memory_each_call_and_the_session_are_measured(meters: Any, era: str) -> None:
    provider, reader = meters
    server = make_server(provider)
    async with Client(server, middleware=[ClientMetrics(provider)], protocol=era) as client:
        await make_calls(client)
    points = recorded(reader)
    version = {"mcp.protocol.version": era}
    assert points.pop("mcp.server.operation.duration") == operations(era)
    assert points.pop("mcp.client.operation.duration") == operations(era)
    if era == "2025-11-25":  # a 2026-07-28 client opens no session
        assert points.pop("mcp.server.session.duration") == [(version, 1)]
        assert points.pop("mcp.client.session.duration") == [(version, 1)]
    assert points == {}


@pytest.mark.parametrize("era", ["2025-11-25", "2026-07-28"])
async def test_over_http_the_network_is_named(meters: Any, era: str) -> None:
    provider, reader = meters
    async with serving(make_server(provider).http_app()) as base:
        async with Client(f"{base}/mcp", middleware=[ClientMetrics(provider)], protocol=era) as c:
            await make_calls(c)
    points = recorded(reader)
    http = {"network.transport": "tcp", "network.protocol.name": "http"}
    server = {"server.address": "127.0.0.1", "server.port": int(base.rsplit(":", 1)[1])}
    version = {"mcp.protocol.version": era}
    assert points.pop("mcp.server.operation.duration") == operations(era, **http)
    assert points.pop("mcp.client.operation.duration") == operations(era, **http, **server)
    if era == "2025-11-25":
        assert points.pop("mcp.server.session.duration") == [({**version, **http}, 1)]
        assert points.pop("mcp.client.session.duration") == [({**version, **http, **server}, 1)]
    assert points == {}


async def test_the_resource_uri_is_recorded_only_when_asked(meters: Any) -> None:
    provider, reader = meters
    server = make_server(provider)
    server.middleware = (ServerMetrics(provider, resource_uri=True),)
    async with Client(server, protocol="2026-07-28") as client:
        await client.read_resource("config://app")
    (point,) = recorded(reader)["mcp.server.operation.duration"]
    assert point[0]["mcp.resource.uri"] == "config://app"


async def test_without_a_meter_provider_the_api_records_nothing_and_calls_work() -> None:
    # No provider given and none set globally: OpenTelemetry's API hands out instruments that
    # do nothing until one is set.
    server = make_server(None)  # type: ignore[arg-type]  # (the global provider)
    async with Client(server, middleware=[ClientMetrics()], protocol="2025-11-25") as client:
        await make_calls(client)


def test_without_opentelemetry_constructing_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in [m for m in sys.modules if m == "opentelemetry" or m.startswith("opentelemetry.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "opentelemetry", None)  # what `import` then refuses
    with pytest.raises(ImportError, match=r"ServerMetrics.*pip install 'mcpkit\[otel\]'"):
        ServerMetrics()
    with pytest.raises(ImportError, match=r"ClientMetrics.*pip install 'mcpkit\[otel\]'"):
        ClientMetrics()


def test_importing_the_metrics_modules_imports_no_opentelemetry() -> None:
    code = (
        "import sys, mcpkit, mcpkit.server.middleware.tracing, mcpkit.client.tracing; "
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    assert loaded == "[]"


async def test_over_stdio_the_client_names_a_pipe(meters: Any) -> None:
    provider, reader = meters
    server = str(Path(__file__).parent / "transports" / "peers" / "mcp_server.py")
    async with asyncio.timeout(30):  # a bound on a hung child, not a duration asserted
        command = [sys.executable, server]
        async with Client(command, middleware=[ClientMetrics(provider)], protocol=ERA) as client:
            await client.call_tool("add", {"a": 2, "b": 3})
    pipe = {"mcp.protocol.version": ERA, "network.transport": "pipe"}
    tool = {"mcp.method.name": "tools/call", "gen_ai.operation.name": "execute_tool"}
    assert recorded(reader) == {
        "mcp.client.operation.duration": [({**tool, "gen_ai.tool.name": "add", **pipe}, 1)],
        "mcp.client.session.duration": [(pipe, 1)],
    }
