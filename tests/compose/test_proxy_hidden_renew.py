"""A mounted proxy listing its upstream again (on the upstream's list_changed) drops the entries
the upstream no longer has, those its own `disable()` hides included: showing them later must
not bring back a tool whose upstream is gone; through `Client` in both eras (docs/compose.md,
"Tags and visibility")."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mcpkit import Client, Server
from mcpkit.proxy import ProxyServer

ERAS = ["2025-11-25", "2026-07-28"]
WAIT = 20


@pytest.mark.parametrize("protocol", ERAS)
async def test_a_hidden_entry_the_upstream_dropped_is_dropped(protocol: str) -> None:
    upstream = Server("upstream")
    upstream.add_tool(lambda: "kept", name="keep")
    upstream.add_tool(lambda: "old", name="old", tags={"beta"})
    proxy = ProxyServer(upstream)
    proxy.disable(tags={"beta"})
    front = Server("front")
    front.mount(proxy, namespace="up")
    changed = asyncio.Event()

    def on_notification(method: str, params: Any) -> None:
        if method == "notifications/tools/list_changed":
            changed.set()

    client = Client(front, protocol=protocol, on_notification=on_notification)
    async with asyncio.timeout(WAIT), client:
        assert {t.name for t in await client.list_tools()} == {"up_keep"}
        upstream.remove_tool("old")
        upstream.add_tool(lambda: "new", name="new")  # (shown: says the listing is done)
        while "new" not in proxy.tools:
            await changed.wait()
            changed.clear()
        assert proxy.tools.own_keys() == ["keep", "new"]
        proxy.enable(tags={"beta"})
        assert {t.name for t in await client.list_tools()} == {"up_keep", "up_new"}
