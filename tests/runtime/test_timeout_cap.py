"""basic/lifecycle, Timeouts: progress restarts a request's timeout, but a maximum holds
"regardless of progress notifications" (`runtime.awaiting.MAX_TIMEOUT_FACTOR`)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mcpkit import Client, Context, RequestTimeout, Server
from mcpkit.runtime.awaiting import MAX_TIMEOUT_FACTOR


def chatty_server(steps: int) -> Server:
    app = Server("chatty")

    @app.tool()
    async def work(ctx: Context) -> str:
        """Reports progress every half second, `steps` times, then answers."""
        for i in range(steps):
            await ctx.progress(i + 1)
            await asyncio.sleep(0.5)
        return "done"

    return app


async def test_progress_keeps_a_call_alive_past_its_timeout(fake_clock: Any) -> None:
    async with Client(chatty_server(steps=6)) as client:
        started = fake_clock.time()
        result = await client.call_tool("work", {}, progress=lambda *a: None, timeout=1.0)
        assert result.text == "done" and fake_clock.time() - started >= 3.0  # three timeouts


async def test_a_peer_reporting_progress_forever_still_times_out(fake_clock: Any) -> None:
    """A server that never stops reporting progress cannot keep the call waiting forever:
    at MAX_TIMEOUT_FACTOR times its timeout it fails, naming the setting."""
    async with Client(chatty_server(steps=10_000)) as client:
        started = fake_clock.time()
        with pytest.raises(RequestTimeout, match="max_timeout_factor") as caught:
            await client.call_tool("work", {}, progress=lambda *a: None, timeout=1.0)
        took = fake_clock.time() - started
    assert MAX_TIMEOUT_FACTOR * 1.0 <= took < MAX_TIMEOUT_FACTOR * 1.0 + 1.0
    assert "within 1 s" in str(caught.value)
