"""Tool task support through a mounted `ProxyServer` (client -> front server -> mounted proxy ->
upstream Server): an upstream tool that may run as a task is shown so and runs as a task of
the front's own, whose work is a plain call upstream (its progress and cancellation passing
through); one that must run as a task upstream is left out, since the proxy calls plainly."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from _serving import serving

from mcpkit import Client, Context, Server
from mcpkit.proxy import ProxyServer
from mcpkit.types import ElicitRequestParams, ElicitResult

ERAS = ["2025-11-25", "2026-07-28"]


class Upstream:
    """The proxied server: a tool that may be a task, one that must be, one that may not."""

    def __init__(self) -> None:
        self.server = Server("upstream")
        self.calls: list[str] = []
        self.started = asyncio.Event()
        self.cancelled = asyncio.Event()
        server = self.server

        @server.tool(task=True)
        async def bake(loaves: int, ctx: Context) -> str:
            """Bake bread."""
            self.calls.append(f"bake {loaves}")
            await ctx.progress(1, total=2, message="rising")
            if loaves == 0:  # waits to be cancelled
                self.started.set()
                try:
                    await asyncio.Event().wait()
                except asyncio.CancelledError:
                    self.cancelled.set()
                    raise
            return f"{loaves} loaves"

        @server.tool(task=True)
        async def season(ctx: Context) -> str:
            """Season the dough, asking how."""
            answer = await ctx.elicit("Salt or sugar?", ["salt", "sugar"])
            return f"seasoned with {answer.data}"

        @server.tool(task="required")
        async def brew() -> str:
            return "beer"

        @server.tool()
        def slice_bread() -> str:
            return "sliced"


def front_with(upstream: Server | str) -> Server:
    front = Server("front")
    front.mount(ProxyServer(upstream), namespace="up")
    return front


def _text(result: Any) -> str:
    return str(result.content[0].text)


@pytest.mark.parametrize("protocol", ERAS)
async def test_the_tools_show_the_task_support_the_front_honours(
    protocol: str, caplog: pytest.LogCaptureFixture
) -> None:
    front = front_with(Upstream().server)
    async with asyncio.timeout(20), Client(front, protocol=protocol) as client:
        tools = {t.name: t for t in await client.list_tools()}
        assert set(tools) == {"up_bake", "up_season", "up_slice_bread"}  # not up_brew
        bake = tools["up_bake"].execution
        assert bake is not None and bake.task_support == "optional"
        assert tools["up_slice_bread"].execution is None
        assert _text(await client.call_tool("up_bake", {"loaves": 2})) == "2 loaves"
    assert "the upstream's tool 'brew' is not shown" in caplog.text


async def test_a_2025_client_calls_a_proxied_tool_as_a_task_of_the_front() -> None:
    upstream = Upstream()
    front = front_with(upstream.server)
    progress: list[float] = []
    async with asyncio.timeout(20), Client(front, protocol="2025-11-25") as client:
        result = await client.call_tool("up_bake", {"loaves": 3}, task=True)
        assert _text(result) == "3 loaves"
        task = await client.call_tool_as_task(
            "up_bake", {"loaves": 4}, progress=lambda p, t, m: progress.append(p)
        )
        final = await task.wait()
        assert final.status == "completed" and _text(await task.result()) == "4 loaves"
        assert progress == [1]
    assert upstream.calls == ["bake 3", "bake 4"]  # each one plain call upstream


async def test_the_upstreams_question_reaches_the_client_of_the_fronts_task() -> None:
    def user(params: ElicitRequestParams) -> ElicitResult:
        return ElicitResult(action="accept", content={"value": "salt"})

    front = front_with(Upstream().server)
    client = Client(front, protocol="2025-11-25", elicitation_handler=user)
    async with asyncio.timeout(20), client:
        result = await client.call_tool("up_season", task=True)
    assert _text(result) == "seasoned with salt"


async def test_cancelling_the_fronts_task_cancels_the_upstream_call() -> None:
    upstream = Upstream()
    front = front_with(upstream.server)
    async with asyncio.timeout(20), Client(front, protocol="2025-11-25") as client:
        task = await client.call_tool_as_task("up_bake", {"loaves": 0})
        await upstream.started.wait()
        await task.cancel()
        await upstream.cancelled.wait()
        assert (await task.refresh()).status == "cancelled"


async def test_a_proxied_task_tool_over_http_in_both_eras() -> None:
    upstream = Upstream()
    async with serving(upstream.server.http_app()) as upstream_base:
        front = front_with(upstream_base + "/mcp")
        async with serving(front.http_app()) as front_base:
            for protocol in ERAS:
                async with asyncio.timeout(30), Client(front_base + "/mcp", protocol=protocol) as c:
                    task = protocol == "2025-11-25"  # (under 2026-07-28 the server decides)
                    result = await c.call_tool("up_bake", {"loaves": 5}, task=task)
                    assert _text(result) == "5 loaves"
    assert upstream.calls == ["bake 5", "bake 5"]
