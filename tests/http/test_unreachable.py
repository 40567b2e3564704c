"""A server that cannot be reached, or is lost, is a `TransportError` whatever the transport
and era: refused, reset, a name that does not resolve, a process that died. Never a
`PeerError`, which means the server itself answered with an error."""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import sys
from pathlib import Path
from types import ModuleType

import httpx
import pytest
from _legacy import make_server
from _serving import WAIT, serving

from mcpkit import Client, ConnectionFailed, PeerError, ProxyServer, TransportError
from mcpkit.client.discover import ModernRefused
from mcpkit.transports.http_client import StreamableHttpTransport

PROTOCOLS = ["auto", "2025-11-25", "2026-07-28"]


def _closed_port() -> int:
    """A port of 127.0.0.1 nobody listens on (bound, then closed: refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("protocol", "path"),
    # /sse: straight to the HTTP+SSE transport, which has no modern era to pin
    [*((p, "/mcp") for p in PROTOCOLS), ("auto", "/sse"), ("2025-11-25", "/sse")],
)
async def test_a_refused_connection_fails_connect_as_a_transport_error(
    protocol: str, path: str
) -> None:
    url = f"http://127.0.0.1:{_closed_port()}{path}"
    async with asyncio.timeout(WAIT):
        with pytest.raises(TransportError) as caught:
            async with Client(url, protocol=protocol):
                pass
    assert "cannot reach" in str(caught.value), caught.value


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_an_unexpected_failure_below_the_transport_fails_at_once(protocol: str) -> None:
    """Whatever the httpx transport raises (here a custom one's bug), the request fails with
    a TransportError at once, instead of escaping its task and leaving connect() waiting
    for init_timeout."""

    def broken(request: httpx.Request) -> httpx.Response:
        raise RuntimeError("the custom transport has a bug")

    http = httpx.AsyncClient(transport=httpx.MockTransport(broken))
    transport = StreamableHttpTransport("http://127.0.0.1:9/mcp", http_client=http)
    try:
        async with asyncio.timeout(WAIT):
            with pytest.raises(TransportError, match="the custom transport has a bug"):
                async with Client(transport, protocol=protocol, init_timeout=3600):
                    pass
    finally:
        await http.aclose()


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_name_that_does_not_resolve_is_a_transport_error(protocol: str) -> None:
    async with asyncio.timeout(WAIT):
        with pytest.raises(TransportError):  # .invalid never resolves (RFC 6761)
            async with Client("http://no-such-host.invalid/mcp", protocol=protocol):
                pass


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("json_response", [False, True])
async def test_a_server_gone_after_connecting_fails_calls_as_transport_errors(
    protocol: str, json_response: bool
) -> None:
    server = make_server()
    async with asyncio.timeout(WAIT):
        async with serving(server.http_app(json_response=json_response)) as base:
            client = Client(base + "/mcp", protocol=protocol)
            await client.connect()
        try:  # uvicorn stopped: nobody listens at the URL any more
            with pytest.raises(TransportError) as caught:
                await client.call_tool("add", {"a": 1, "b": 2})
            assert not isinstance(caught.value, PeerError)
        finally:
            await client.aclose()


@pytest.mark.parametrize("tapped", [False, True])  # on_message wraps the channel
async def test_each_modern_call_is_refused_on_its_own_and_the_next_one_can_work(
    tapped: bool,
) -> None:
    """2026-07-28 has no session to end: a refused call is a ConnectionFailed, and the client
    stays usable for when the server is back."""
    server = make_server()
    seen: list[str] = []
    tap = (lambda direction, data: seen.append(direction)) if tapped else None
    async with asyncio.timeout(WAIT):
        async with serving(server.http_app()) as base:
            port = int(base.rsplit(":", 1)[1])
            client = Client(base + "/mcp", protocol="2026-07-28", on_message=tap)
            await client.connect()
        try:
            for _ in range(2):
                with pytest.raises(ConnectionFailed, match="cannot reach"):
                    await client.call_tool("add", {"a": 1, "b": 2})
            async with serving(server.http_app(), port=port):
                assert (await client.call_tool("add", {"a": 1, "b": 2})).structured_content == {
                    "result": 3
                }
            assert bool(seen) == tapped
        finally:
            await client.aclose()


async def test_the_legacy_transport_lost_is_a_transport_error() -> None:
    async with asyncio.timeout(WAIT):
        async with serving(make_server().http_app()) as base:
            client = Client(base + "/sse")
            await client.connect()
        try:
            with pytest.raises(TransportError):
                await client.call_tool("add", {"a": 1, "b": 2})
        finally:
            await client.aclose()


async def test_a_refusal_by_the_server_is_still_a_peer_error() -> None:
    async with asyncio.timeout(WAIT), serving(make_server().http_app()) as base:
        for protocol in PROTOCOLS:
            async with Client(base + "/mcp", protocol=protocol) as client:
                with pytest.raises(PeerError) as caught:
                    await client.call_tool("no_such_tool", {})
                assert caught.value.code == -32602


async def test_a_server_process_that_dies_is_a_transport_error() -> None:
    code = "import sys; sys.stdin.readline(); sys.exit(3)"
    async with asyncio.timeout(WAIT):
        with pytest.raises(TransportError):
            async with Client([sys.executable, "-c", code], stderr="devnull"):
                pass


async def test_a_command_that_does_not_exist_is_a_transport_error() -> None:
    async with asyncio.timeout(WAIT):
        with pytest.raises(TransportError):
            async with Client(["mcpkit-no-such-command-here"]):
                pass


def _load_reach() -> ModuleType:
    doc = Path(__file__).resolve().parents[2] / "docs" / "client.md"
    blocks = re.findall(r"```python\n(.*?)```", doc.read_text(), re.S)
    (block,) = [b for b in blocks if "# reach.py" in b]
    module = ModuleType("reach")
    exec(compile(block, "reach.py", "exec"), module.__dict__)
    return module


async def test_the_documented_retry_loop_tells_unreachable_from_answered() -> None:
    reach = _load_reach()
    async with asyncio.timeout(WAIT):
        assert await reach.tools_or_none(f"http://127.0.0.1:{_closed_port()}/mcp") is None
        async with serving(make_server().http_app()) as base:
            found = await reach.tools_or_none(base + "/mcp")
            assert sorted(found or []) == ["add", "blob", "steps", "wait_for"]


async def test_a_client_pinned_to_2026_says_why_an_sse_url_cannot_serve_it() -> None:
    async with asyncio.timeout(WAIT):
        with pytest.raises(ModernRefused, match="carries only session revisions"):
            async with Client(f"http://127.0.0.1:{_closed_port()}/sse", protocol="2026-07-28"):
                pass


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_connection_dropped_without_an_answer_is_a_transport_error(protocol: str) -> None:
    """Something listens, reads the request and hangs up (a crashing server, a proxy that
    resets): not an answer from the server, so not a PeerError."""

    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.transport.abort()  # RST, no response

    listener = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    try:
        async with asyncio.timeout(WAIT):
            with pytest.raises(TransportError, match="cannot reach"):
                async with Client(f"http://127.0.0.1:{port}/mcp", protocol=protocol):
                    pass
    finally:
        listener.close()
        await listener.wait_closed()


@pytest.mark.parametrize("protocol", ["2025-11-25", "2026-07-28"])
async def test_a_proxy_passes_an_unreachable_upstream_on_as_an_error_answer(
    protocol: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Its client hears what happened upstream (-32603 "cannot reach ..."), as before the
    upstream's failure became a ConnectionFailed, and the proxy logs no traceback for it."""
    caplog.set_level(logging.WARNING, logger="mcpkit")
    async with asyncio.timeout(WAIT):
        async with serving(make_server().http_app()) as base:
            client = Client(ProxyServer(base + "/mcp"), protocol=protocol)
            await client.connect()
            assert (await client.call_tool("add", {"a": 1, "b": 2})).structured_content
        try:
            with pytest.raises(PeerError, match="cannot reach") as caught:
                await client.call_tool("add", {"a": 1, "b": 2})
            assert caught.value.code == -32603
        finally:
            await client.aclose()
    assert [r for r in caplog.records if r.name.startswith("mcpkit") and r.levelno >= 40] == []
