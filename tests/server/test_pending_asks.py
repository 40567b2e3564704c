"""Requests to clients that are never answered are bounded (issue 19): 1,024 unanswered
sampling requests held ~11 MiB per session for the 300 s request timeout. Past
max_pending_client_requests_per_session (one client) or max_pending_client_requests (all of
them) an ask fails at once, before anything is sent, naming the setting."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import pytest

from mcpkit import Client, Context, Server
from mcpkit.errors import McpError
from mcpkit.server.asking.asks import AskBudget

# These are 2025-11-25 sessions (the server's requests to its client, and their bounds): the
# client is pinned to that revision; under 2026-07-28 the client answers between requests.
Client = functools.partial(Client, protocol="2025-11-25")

WAIT = 10.0


def asking_server(**settings: Any) -> Server:
    server = Server("asks", **settings)

    @server.tool()
    async def ask(ctx: Context) -> str:
        try:
            await ctx.sample("hello?", max_tokens=5)
        except McpError as exc:
            return f"refused: {exc}"
        return "answered"

    return server


def test_the_budget_counts_per_session_and_in_all() -> None:
    budget = AskBudget(max_total=3, max_per_session=2)
    a, b = object(), object()
    with budget.hold(a), budget.hold(a):
        with pytest.raises(McpError, match="max_pending_client_requests_per_session"):
            with budget.hold(a):
                pass
        with budget.hold(b):
            assert budget.total == 3 and budget.pending(a) == 2
            with pytest.raises(McpError, match="max_pending_client_requests setting"):
                with budget.hold(b):
                    pass
    assert budget.total == 0 and budget.pending(a) == 0 and budget.pending(b) == 0
    with pytest.raises(ValueError, match="max_pending_client_requests"):
        AskBudget(0, 1)


async def test_a_client_that_never_answers_holds_a_bounded_number_of_asks() -> None:
    server = asking_server(max_pending_client_requests=5, max_pending_client_requests_per_session=3)
    never = asyncio.Event()

    async def sample_never(params: Any) -> Any:
        await never.wait()

    async with asyncio.timeout(WAIT):
        async with (
            Client(server, sampling_handler=sample_never) as first,
            Client(server, sampling_handler=sample_never) as second,
        ):
            calls = [asyncio.create_task(first.call_tool("ask")) for _ in range(10)]
            done, _ = await asyncio.wait(calls, timeout=1.0)
            texts = [c.result().content[0].text for c in done]  # type: ignore[union-attr]
            assert len(texts) == 7, texts  # three wait for the client; seven were refused
            assert all("max_pending_client_requests_per_session" in t for t in texts)
            assert server.asks.total == 3
            more = [asyncio.create_task(second.call_tool("ask")) for _ in range(3)]
            done, _ = await asyncio.wait(more, timeout=1.0)
            texts = [c.result().content[0].text for c in done]  # type: ignore[union-attr]
            assert len(texts) == 1 and "max_pending_client_requests setting" in texts[0]
            assert server.asks.total == 5
            never.set()  # (the handlers now answer None: the asks end, one way or another)
            await asyncio.wait(calls + more, timeout=WAIT)
    assert server.asks.total == 0
