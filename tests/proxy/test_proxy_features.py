"""Proxied servers pass the same end-to-end feature tests as a plain server: tools, progress,
logs and their level, list_changed, resources, templates, completion, subscriptions, prompts,
sampling, both elicitation modes, roots and cancellation, through a proxy in front of
examples/everything.py in process and over stdio, served in memory and over Streamable HTTP."""

from __future__ import annotations

import asyncio

from _proxying import WAIT, Seen, check_features, everything_command, fresh_everything, full_client
from _serving import serving

from mcpkit.proxy import ProxyServer


async def test_the_plain_server_passes_the_feature_checks() -> None:
    """The baseline the proxied runs are held to."""
    seen = Seen()
    async with asyncio.timeout(WAIT), full_client(fresh_everything(), seen) as client:
        await check_features(client, seen)


async def test_a_proxy_of_an_in_process_server_passes_them() -> None:
    seen = Seen()
    proxy = ProxyServer(fresh_everything())
    async with asyncio.timeout(WAIT), full_client(proxy, seen) as client:
        await check_features(client, seen)
    assert proxy.links == {}  # the upstream session ended with the client's


async def test_a_proxy_of_a_stdio_server_passes_them() -> None:
    seen = Seen()
    proxy = ProxyServer(everything_command(), stderr="devnull")
    async with asyncio.timeout(WAIT), full_client(proxy, seen) as client:
        await check_features(client, seen)
    assert proxy.links == {}


async def test_a_proxy_of_an_http_server_passes_them() -> None:
    """The upstream over Streamable HTTP: its requests to the client come back on the
    proxy's POST streams and GET stream, and go on to the client."""
    async with serving(fresh_everything().http_app()) as base:
        seen = Seen()
        proxy = ProxyServer(base + "/mcp")
        async with asyncio.timeout(WAIT), full_client(proxy, seen) as client:
            await check_features(client, seen)


async def test_a_stdio_server_served_over_http_passes_them() -> None:
    """The classic use: an existing stdio server put on the network by our HTTP stack."""
    proxy = ProxyServer(everything_command(), stderr="devnull")
    async with serving(proxy.http_app()) as base:
        seen = Seen()
        async with asyncio.timeout(WAIT), full_client(base + "/mcp", seen) as client:
            await check_features(client, seen)
            assert client.protocol_version == "2026-07-28"
            assert proxy.pool.links and not proxy.links  # the 2026 requests' upstream pool
        seen = Seen()
        async with (
            asyncio.timeout(WAIT),
            full_client(base + "/mcp", seen, protocol="2025-11-25") as client,
        ):
            await check_features(client, seen)
            assert len(proxy.links) == 1
        # Two 2025 sessions at once, two upstream processes: their state is their own.
        first, second = Seen(), Seen()
        async with (
            asyncio.timeout(WAIT),
            full_client(base + "/mcp", first, protocol="2025-11-25") as one,
            full_client(base + "/mcp", second, protocol="2025-11-25") as two,
        ):
            await one.call_tool("add_greeting_tool")
            async with asyncio.timeout(WAIT):
                await first.changed.wait()
            assert "greet" in {t.name for t in await one.list_tools()}
            assert "greet" not in {t.name for t in await two.list_tools()}
            assert len(proxy.links) == 2
