"""Resource subscriptions through a mounted `ProxyServer`, end to end in both eras (client ->
front server -> mounted proxy -> upstream Server): a front client following a proxied resource
makes the proxy subscribe upstream once per URI, the upstream's
`notifications/resources/updated` reach the front's followers under the namespaced URI, and
the upstream subscription ends with the last follower (an unsubscribe, a listen closed, a
session ended)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from _serving import serving

from mcpkit import Client, Context, Server
from mcpkit.proxy import ProxyServer

ERAS = ["2025-11-25", "2026-07-28"]


class Upstream:
    """The proxied server, recording the subscriptions it holds (a 2026 client's listen
    reopened with one URI more may end the old one first: then the URIs of both are
    unsubscribed and subscribed again, so what is held is what tells)."""

    def __init__(self) -> None:
        self.server = Server("upstream")
        self.held: list[str] = []  # (a list: a URI held twice would show)
        self.changed = asyncio.Event()  # each (un)subscribe sets it
        server = self.server

        @server.resource("paint://stock")
        def stock() -> str:
            return "red: 3"

        @server.resource("paint://tins/{colour}")
        def tin(colour: str) -> str:
            return f"a tin of {colour}"

        async def record(ctx: Context, params: Any, call_next: Any) -> Any:
            result = await call_next(params)
            if ctx.method == "resources/subscribe":
                self.held.append(params.uri)
            elif ctx.method == "resources/unsubscribe":
                self.held.remove(params.uri)
            self.changed.set()
            return result

        server.add_middleware(record)

    async def holding(self, *uris: str) -> None:
        """Wait (bounded by the caller's timeout) until the upstream holds just `uris`."""
        while sorted(self.held) != sorted(uris):
            self.changed.clear()
            await self.changed.wait()


class Updates:
    """The `notifications/resources/updated` one client heard, by URI."""

    def __init__(self) -> None:
        self.uris: list[str] = []
        self.heard = asyncio.Event()

    def __call__(self, method: str, params: Any) -> None:
        if method == "notifications/resources/updated":
            self.uris.append(params.uri if hasattr(params, "uri") else params["uri"])
            self.heard.set()

    async def next(self) -> str:
        await self.heard.wait()
        self.heard.clear()
        return self.uris[-1]


def front_with(upstream: Server | str) -> Server:
    front = Server("front")
    front.mount(ProxyServer(upstream), namespace="up")
    return front


@pytest.mark.parametrize("protocol", ERAS)
async def test_the_upstreams_updates_reach_a_front_subscriber(protocol: str) -> None:
    upstream = Upstream()
    front = front_with(upstream.server)
    updates = Updates()
    client = Client(front, protocol=protocol, on_notification=updates)
    async with asyncio.timeout(20), client:
        await client.subscribe("paint://up/stock")
        await client.subscribe("paint://up/tins/red")  # a template's match
        await upstream.holding("paint://stock", "paint://tins/red")
        await upstream.server.notify_resource_updated("paint://tins/red")
        assert await updates.next() == "paint://up/tins/red"
        await upstream.server.notify_resource_updated("paint://stock")
        assert await updates.next() == "paint://up/stock"
        await client.unsubscribe("paint://up/stock")
        await upstream.holding("paint://tins/red")
        await client.unsubscribe("paint://up/tins/red")
        await upstream.holding()


@pytest.mark.parametrize("protocol", ERAS)
async def test_one_upstream_subscription_until_the_last_follower_goes(protocol: str) -> None:
    upstream = Upstream()
    front = front_with(upstream.server)
    first, second = Updates(), Updates()
    async with (
        asyncio.timeout(20),
        Client(front, protocol=protocol, on_notification=first) as one,
        Client(front, protocol=protocol, on_notification=second) as two,
    ):
        await one.subscribe("paint://up/stock")
        await two.subscribe("paint://up/stock")
        await upstream.holding("paint://stock")  # once for both
        await upstream.server.notify_resource_updated("paint://stock")
        assert await first.next() == await second.next() == "paint://up/stock"
        await one.unsubscribe("paint://up/stock")
        await upstream.holding("paint://stock")
        await upstream.server.notify_resource_updated("paint://stock")
        assert await second.next() == "paint://up/stock"  # still followed upstream
        await two.aclose()  # the last follower's session ends without unsubscribing
        await upstream.holding()


@pytest.mark.parametrize("protocol", ERAS)
async def test_subscriptions_are_made_again_when_their_upstream_session_ends(
    protocol: str,
) -> None:
    upstream = Upstream()
    front = front_with(upstream.server)
    updates = Updates()
    client = Client(front, protocol=protocol, on_notification=updates)
    async with asyncio.timeout(20), client:
        await client.subscribe("paint://up/stock")
        await upstream.holding("paint://stock")
        holder = next(h for h in upstream.server.sessions if "paint://stock" in h.subscriptions)
        await holder.connection.aclose()  # the upstream ends the session holding it
        await upstream.holding("paint://stock", "paint://stock")  # again, on another session
        await upstream.server.notify_resource_updated("paint://stock")
        assert await updates.next() == "paint://up/stock"


async def test_updates_over_http_in_both_eras() -> None:
    upstream = Upstream()
    async with serving(upstream.server.http_app()) as upstream_base:
        front = front_with(upstream_base + "/mcp")
        async with serving(front.http_app()) as front_base:
            for protocol in ERAS:
                updates = Updates()
                client = Client(front_base + "/mcp", protocol=protocol, on_notification=updates)
                async with asyncio.timeout(30), client:
                    await client.subscribe("paint://up/tins/blue")
                    await upstream.holding("paint://tins/blue")
                    await upstream.server.notify_resource_updated("paint://tins/blue")
                    assert await updates.next() == "paint://up/tins/blue"
                    await client.unsubscribe("paint://up/tins/blue")
                    await upstream.holding()
