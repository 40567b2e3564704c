"""mcpkit.testing's virtual clock: timers fire at once, in order, and real I/O still works."""

from __future__ import annotations

import asyncio
import re
import time

import pytest

from mcpkit import Client, Context, RequestTimeout, Server
from mcpkit.testing import FakeClockLoop, run_with_fake_clock


def test_sleeps_jump_the_clock_in_order() -> None:
    async def main() -> tuple[float, list[str]]:
        loop = asyncio.get_running_loop()
        order: list[str] = []

        async def nap(name: str, seconds: float) -> None:
            await asyncio.sleep(seconds)
            order.append(name)

        await asyncio.gather(nap("day", 86_400), nap("hour", 3_600), nap("minute", 60))
        return loop.time(), order

    now, order = run_with_fake_clock(main(), start=100.0)
    assert order == ["minute", "hour", "day"]
    assert now == pytest.approx(100.0 + 86_400)


def test_a_request_timeout_in_virtual_time() -> None:
    server = Server("clock")
    cancelled: list[float] = []
    noticed = asyncio.Event()

    @server.tool()
    async def forever(ctx: Context) -> str:
        try:
            await asyncio.sleep(10 * 86_400)
        except asyncio.CancelledError:
            cancelled.append(asyncio.get_running_loop().time())
            noticed.set()
            raise
        return "never"

    @server.tool()
    def quick_sync(x: int) -> int:  # runs in the worker pool: the loop waits for it for real
        time.sleep(0.05)
        return x * 2

    async def main() -> None:
        async with Client(server) as client:
            with pytest.raises(RequestTimeout):
                await client.call_tool("forever", timeout=600)
            await asyncio.wait_for(noticed.wait(), 60)  # virtual seconds
            result = await client.call_tool("quick_sync", {"x": 21}, timeout=0.01)
            assert result.structured_content == {"result": 42}

    run_with_fake_clock(main())
    assert cancelled and cancelled[0] >= 600


def test_advance_only_moves_forward() -> None:
    loop = FakeClockLoop(start=5.0)
    try:
        loop.advance(2.5)
        assert loop.time() == 7.5
        with pytest.raises(ValueError):
            loop.advance(-1)
    finally:
        loop.close()


def test_the_documented_example_a_sampling_request_times_out_into_an_error_result() -> None:
    server = Server("docs-example")

    @server.tool()
    async def ask_model(question: str, ctx: Context) -> str:
        result = await ctx.sample(question, max_tokens=10, timeout=30)
        return str(result.content)

    async def never_answers(params: object) -> dict[str, object]:
        await asyncio.Event().wait()
        return {}

    async def main() -> None:
        from mcpkit.testing import connected

        # (a 2025-11-25 session: under 2026-07-28 the server waits for no answer)
        async with connected(
            server, sampling_handler=never_answers, protocol="2025-11-25"
        ) as client:
            result = await client.call_tool("ask_model", {"question": "?"})
            assert result.is_error is True
            said = r"sampling/createMessage \(id \d+\) got no response within 30 s"
            assert re.search(said, result.text)

    run_with_fake_clock(main())


def test_a_call_does_not_time_out_while_the_user_fills_its_form() -> None:
    """The client's own 60 s timeout on tools/call holds while the client answers the
    server's elicitation for it (a person may take minutes), and restarts afterwards."""
    server = Server("slow-human")

    @server.tool()
    async def sign_up(ctx: Context) -> str:
        answer = await ctx.elicit(
            "name?", {"type": "object", "properties": {"name": {"type": "string"}}}
        )
        return str(answer.action)

    @server.tool()
    async def slow_with_progress(ctx: Context) -> str:
        for i in range(5):
            await asyncio.sleep(40)  # 200 s in all, but never 60 s without progress
            await ctx.progress(i + 1, total=5)
        return "done"

    async def person(params: object) -> dict[str, object]:
        await asyncio.sleep(240)  # four minutes at the form
        return {"action": "accept", "content": {"name": "Ada"}}

    async def main() -> None:
        async with Client(server, elicitation_handler=person, timeout=60) as client:
            assert (await client.call_tool("sign_up")).content[0].text == "accept"
            slow = await client.call_tool("slow_with_progress", progress=lambda p, t, m: None)
            assert slow.content[0].text == "done"
            with pytest.raises(RequestTimeout):  # without progress, 60 s is the limit
                await client.call_tool("slow_with_progress")

    run_with_fake_clock(main())
