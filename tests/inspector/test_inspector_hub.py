"""The inspector's hub without HTTP: the client's message tap, the event feed's bounds,
roots and refusals answered by the page, and what a hostile server's huge message costs."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mcpkit import Client, Context, Server
from mcpkit.client.tap import TappedChannel
from mcpkit.errors import McpError
from mcpkit.inspector.hub import CallCancelled, InspectorHub


def small_server(
    started: asyncio.Event | None = None, cancelled: asyncio.Event | None = None
) -> Server:
    server = Server("small")

    @server.tool()
    async def where(ctx: Context) -> list[str]:
        return [root.uri for root in await ctx.list_roots()]

    @server.tool()
    def big() -> str:
        return "x" * 200_000

    @server.tool()
    async def hold() -> str:
        """Waits until cancelled."""
        assert started is not None and cancelled is not None
        started.set()
        try:
            await asyncio.Event().wait()
        finally:
            cancelled.set()
        return "never"

    return server


def in_memory(server: Server) -> Any:
    def factory(target: str, **options: Any) -> Client:
        return Client(server, **options)

    return factory


async def test_on_message_sees_both_directions_and_is_absent_unless_asked() -> None:
    seen: list[tuple[str, bytes]] = []
    async with Client(
        small_server(), on_message=lambda direction, data: seen.append((direction, data))
    ) as client:
        await client.list_tools()
        assert isinstance(client.connection.channel, TappedChannel)
    directions = [direction for direction, _ in seen]
    assert directions[:2] == ["sent", "received"]  # initialize and its answer
    assert b'"tools/list"' in b"".join(data for _, data in seen)
    async with Client(small_server()) as plain:
        assert not isinstance(plain.connection.channel, TappedChannel)


async def test_roots_and_a_refusal_are_answered_by_the_page() -> None:
    session = InspectorHub(client_factory=in_memory(small_server()))
    events = session.subscribe()
    await session.connect("small")
    try:
        call = asyncio.ensure_future(
            session.request("tools/call", {"name": "where", "arguments": {}})
        )
        asked = await _first(events, "server_request")
        assert asked["method"] == "roots/list"
        assert session.answer(asked["id"], {"roots": [{"uri": "file:///work", "name": "work"}]})
        result = await asyncio.wait_for(call, 10)
        assert result["structuredContent"] == {"result": ["file:///work"]}
        again = asyncio.ensure_future(
            session.request("tools/call", {"name": "where", "arguments": {}})
        )
        asked = await _first(events, "server_request")
        assert session.answer(asked["id"], error="not today")
        # 2026-07-28 has no error answer to an input request (an InputResponse is a result):
        # the refusal ends the call here, where 2025-11-25 passed it to the tool.
        with pytest.raises(McpError, match="not today"):
            await asyncio.wait_for(again, 10)
    finally:
        await session.disconnect()


async def test_a_huge_message_is_cut_in_the_log() -> None:
    session = InspectorHub(client_factory=in_memory(small_server()))
    events = session.subscribe()
    await session.connect("small")
    try:
        await session.request("tools/call", {"name": "big", "arguments": {}})
    finally:
        await session.disconnect()
    logged = [e for e in _drain(events) if e["type"] == "message" and e["size"] > 100_000]
    assert len(logged) == 1 and len(logged[0]["text"]) == 64 * 1024 and "body" not in logged[0]


async def test_a_page_that_stops_reading_is_dropped_not_buffered() -> None:
    session = InspectorHub()
    slow = session.subscribe()
    for n in range(1500):
        session.publish("notification", method="x", params={"n": n})
    assert session.watchers == 0
    queued = _drain(slow)
    assert len(queued) == 1000 and queued[-1] is None  # the end of its stream
    with pytest.raises(McpError, match="connect to a server first"):
        await session.request("tools/list", {})


async def test_a_call_the_page_cancels_sends_notifications_cancelled() -> None:
    started, cancelled = asyncio.Event(), asyncio.Event()
    session = InspectorHub(client_factory=in_memory(small_server(started, cancelled)))
    events = session.subscribe()
    await session.connect("small")
    try:
        call = asyncio.ensure_future(
            session.request("tools/call", {"name": "hold", "arguments": {}}, "c1")
        )
        async with asyncio.timeout(10):
            await started.wait()
        assert session.cancel("c1")
        with pytest.raises(CallCancelled, match="the server was sent notifications/cancelled"):
            await asyncio.wait_for(call, 10)
        told = await _first(events, "message", "notifications/cancelled")
        assert told["direction"] == "sent"
        assert not session.cancel("c1")  # over: nothing left to cancel
        async with asyncio.timeout(10):
            await cancelled.wait()  # the tool's task was cancelled on the server
        assert session.client is not None  # the session goes on
        assert (await session.request("tools/call", {"name": "big", "arguments": {}}))["content"]
    finally:
        await session.disconnect()


async def test_a_call_running_when_the_page_disconnects_ends_unanswered() -> None:
    started, cancelled = asyncio.Event(), asyncio.Event()
    session = InspectorHub(client_factory=in_memory(small_server(started, cancelled)))
    await session.connect("small")
    call = asyncio.ensure_future(
        session.request("tools/call", {"name": "hold", "arguments": {}}, "p1-c1")
    )
    async with asyncio.timeout(10):
        await started.wait()
    await session.disconnect()
    with pytest.raises(McpError, match="ended unanswered: the inspector disconnected"):
        await asyncio.wait_for(call, 10)


async def test_a_failed_connect_says_why_and_forgets_the_last_server(tmp_path: Any) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text("from mcpkit import Server\nserver = Server('x'\n")

    def factory(target: str, **options: Any) -> Client:
        if target == "small":
            return Client(small_server(), **options)
        from mcpkit.client.target import open_client

        return open_client(target, stderr="devnull", **options)

    session = InspectorHub(client_factory=factory)
    events = session.subscribe()
    await session.connect("small")
    with pytest.raises(Exception, match="SyntaxError"):
        await session.connect(str(broken))
    failed = await _first(events, "connect_failed")
    assert failed["target"] == str(broken)
    assert f'File "{broken}", line 2' in failed["failure"]["userFrames"]
    assert "SyntaxError: '(' was never closed" in failed["failure"]["exception"]
    assert "mcpkit/cli" not in failed["failure"]["userFrames"]
    state = session.state()
    assert (state["initialTarget"], state["target"], state["server"]) == (None, None, None)
    assert session.wanted_target == str(broken)  # what `mcpkit dev` tries again on a save
    await session.disconnect()
    assert session.wanted_target is None


def _drain(queue: asyncio.Queue[Any]) -> list[Any]:
    items: list[Any] = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items


async def _first(queue: asyncio.Queue[Any], kind: str, method: str = "") -> dict[str, Any]:
    async with asyncio.timeout(10):
        while True:
            event = await queue.get()
            if method and event is not None and (event.get("body") or {}).get("method") != method:
                continue
            if event is not None and event["type"] == kind:
                return dict(event)
