"""A proxy facing broken peers: an upstream that dies mid-call, one that never answers, one
that cannot start, a client that leaves mid-call (the upstream request is cancelled and
nothing is held), and more clients than upstream sessions allowed."""

from __future__ import annotations

import asyncio
import functools
import gc
import sys
import tracemalloc
from pathlib import Path

import httpx
import pytest
from _proxying import WAIT
from _serving import INITIALIZE, headers, open_session, serving

from mcpkit import Client, Context, Server
from mcpkit.errors import ConnectionClosed, McpError
from mcpkit.proxy import ProxyServer

# The session proxy of 2025-11-25 (one upstream session per client session): the client is
# pinned to that revision. tests/proxy/test_proxy_2026.py covers 2026-07-28 clients.
Client = functools.partial(Client, protocol="2025-11-25")

DYING = [sys.executable, str(Path(__file__).resolve().parent / "_dying_server.py")]


async def test_an_upstream_that_dies_mid_call_gets_the_call_an_error_then_ends_the_session() -> (
    None
):
    proxy = ProxyServer(DYING, stderr="devnull")
    async with asyncio.timeout(WAIT), Client(proxy) as client:
        assert (await client.call_tool("echo", {"text": "hi"})).content[0].text == "hi"  # type: ignore[union-attr]
        with pytest.raises(McpError, match="upstream server of this proxy session has ended"):
            await client.call_tool("die")
        # The client session ends with its upstream (over stdio: the proxy exits).
        with pytest.raises((ConnectionClosed, McpError)):
            await client.call_tool("echo", {"text": "again"})
    assert proxy.links == {}


async def test_over_http_a_dead_upstream_ends_the_session_and_the_client_starts_anew() -> None:
    """The session ends with its upstream: the client's next request gets 404, upon which it
    starts a new session (basic/transports, "Session Management"), with a new upstream."""
    proxy = ProxyServer(DYING, stderr="devnull")
    async with serving(proxy.http_app()) as base:
        async with asyncio.timeout(WAIT), Client(base + "/mcp") as client:
            with pytest.raises(McpError, match="has ended"):
                await client.call_tool("die")
            first = next(iter(proxy.links.values()), None)
            result = await client.call_tool("echo", {"text": "back"})
            assert result.content[0].text == "back"  # type: ignore[union-attr]
            (second,) = proxy.links.values()
            assert second is not first


def _stuck_upstream(cancelled: asyncio.Event, started: asyncio.Event) -> Server:
    upstream = Server("stuck")

    @upstream.tool()
    async def hang(ctx: Context) -> str:
        started.set()
        try:
            await asyncio.Event().wait()  # never answers
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "unreachable"

    @upstream.tool()
    def echo(text: str) -> str:
        return text

    return upstream


async def test_an_upstream_that_never_answers_times_out_and_is_told_to_cancel() -> None:
    cancelled, started = asyncio.Event(), asyncio.Event()
    proxy = ProxyServer(_stuck_upstream(cancelled, started), upstream_timeout=0.2)
    async with asyncio.timeout(WAIT), Client(proxy) as client:
        with pytest.raises(McpError, match=r"no response within 0\.2 s") as refused:
            await client.call_tool("hang")
        assert refused.value.code == -32001  # the upstream's timeout, as a request timeout
        await cancelled.wait()
        assert (await client.call_tool("echo", {"text": "ok"})).content[0].text == "ok"  # type: ignore[union-attr]


async def test_a_client_cancelling_cancels_the_upstream_request() -> None:
    cancelled, started = asyncio.Event(), asyncio.Event()
    proxy = ProxyServer(_stuck_upstream(cancelled, started))
    async with asyncio.timeout(WAIT), Client(proxy) as client:
        call = asyncio.ensure_future(client.call_tool("hang"))
        await started.wait()
        call.cancel()
        await cancelled.wait()  # notifications/cancelled went down, then up
        assert (await client.call_tool("echo", {"text": "ok"})).content[0].text == "ok"  # type: ignore[union-attr]


async def _leave_mid_call(proxy: Server, cancelled: asyncio.Event, started: asyncio.Event) -> None:
    cancelled.clear()
    started.clear()
    client = Client(proxy)
    await client.connect()
    call = asyncio.ensure_future(client.call_tool("hang"))
    await started.wait()
    await client.aclose()  # the client goes away without a word
    await cancelled.wait()
    await asyncio.gather(call, return_exceptions=True)


async def test_a_client_leaving_mid_call_cancels_upstream_and_holds_nothing() -> None:
    cancelled, started = asyncio.Event(), asyncio.Event()
    proxy = ProxyServer(_stuck_upstream(cancelled, started))
    async with asyncio.timeout(WAIT):
        for _ in range(20):  # warm up: caches, decoders, first-use allocations
            await _leave_mid_call(proxy, cancelled, started)
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.take_snapshot()
            for _ in range(200):
                await _leave_mid_call(proxy, cancelled, started)
            gc.collect()
            after = tracemalloc.take_snapshot()
        finally:
            tracemalloc.stop()
    assert proxy.links == {}
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    # 200 sessions, each with an upstream session, a call and its cancellation: were any of
    # them held, that would be hundreds of kilobytes.
    print(f"memory grown after 200 abandoned calls: {grown} bytes")
    assert grown < 64 * 1024, f"{grown} bytes more after 200 abandoned calls"


async def test_an_upstream_that_cannot_start_refuses_initialize_saying_why() -> None:
    proxy = ProxyServer(["/nonexistent/mcp-server-binary"], stderr="devnull")
    with pytest.raises(McpError, match="could not reach the upstream server"):
        async with asyncio.timeout(WAIT), Client(proxy):
            pass
    assert proxy.links == {}


async def test_an_upstream_that_exits_at_start_gets_an_http_client_the_reason() -> None:
    command = [sys.executable, "-c", "import sys; print('no config', file=sys.stderr); exit(4)"]
    proxy = ProxyServer(command, stderr="devnull")
    async with serving(proxy.http_app()) as base, asyncio.timeout(WAIT):
        with pytest.raises(McpError, match="could not reach the upstream server") as refused:
            async with Client(base + "/mcp"):
                pass
        assert "no config" in refused.value.message  # its stderr, quoted
        assert proxy.links == {}


async def test_an_upstream_that_never_answers_initialize_is_bounded() -> None:
    async def silent() -> tuple[object, object]:
        from mcpkit.transports.memory import memory_channel_pair

        ours, theirs = memory_channel_pair()  # nobody serves `theirs`
        del theirs
        return ours, ours.aclose

    proxy = ProxyServer(silent, connect_timeout=0.2)
    with pytest.raises(McpError, match="did not answer initialize"):
        async with asyncio.timeout(WAIT), Client(proxy):
            pass


async def test_past_max_upstreams_the_longest_idle_session_ends_or_503() -> None:
    # 32 runs of the official Inspector's CLI (which never sends DELETE) locked every later
    # client out of `mcpkit proxy` for 30 minutes; now the idle ones make room.
    upstream = Server("small")
    release = asyncio.Event()

    @upstream.tool()
    async def hold() -> str:
        await release.wait()
        return "done"

    proxy = ProxyServer(upstream, max_upstreams=1)
    app = proxy.http_app()
    assert app.max_sessions == 1  # the app's cap is the upstream cap
    async with serving(app) as base, asyncio.timeout(WAIT), httpx.AsyncClient() as http:
        url = base + "/mcp"
        # As the Inspector's CLI leaves it: initialized, no stream open, never deleted.
        idle = await open_session(http, url)
        async with Client(url) as busy:  # the idle one's upstream ended to make room
            assert len(proxy.links) == 1
            ping = {"jsonrpc": "2.0", "id": 9, "method": "ping"}
            assert (await http.post(url, json=ping, headers=headers(idle))).status_code == 404
            # `busy` holds its GET stream open (and then a call): never ended for a newcomer
            call = asyncio.create_task(busy.call_tool("hold", {}))
            refused = await http.post(url, json=INITIALIZE, headers=headers())
            assert refused.status_code == 503 and "retry-after" in refused.headers
            assert "mcp-session-id" not in refused.headers
            assert "max_sessions" in refused.json()["error"]["message"]
            release.set()
            assert (await call).text == "done"


async def test_a_target_no_session_could_open_is_refused_at_once() -> None:
    with pytest.raises(TypeError, match="cannot proxy 42"):
        ProxyServer(42)
    with pytest.raises(ValueError, match="empty string"):
        ProxyServer("  ")
    with pytest.raises(TypeError, match="no features"):
        ProxyServer(["server"], features=["tools"])
    with pytest.raises(ValueError, match="cannot serve stateless HTTP"):
        ProxyServer(["server"]).http_app(stateless=True)


async def test_raw_http_without_a_session_still_gets_the_transport_s_answers() -> None:
    proxy = ProxyServer(Server("small"))
    async with serving(proxy.http_app()) as base, httpx.AsyncClient(timeout=WAIT) as http:
        response = await http.post(
            base + "/mcp",
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
            headers={"accept": "application/json, text/event-stream"},
        )
        assert response.status_code == 400
