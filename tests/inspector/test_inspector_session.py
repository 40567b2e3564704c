"""The inspector's session without HTTP: the client's message tap, the event feed's bounds,
roots and refusals answered by the page, and what a hostile server's huge message costs."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mcpkit import Client, Context, Server
from mcpkit.client.tap import TappedChannel
from mcpkit.errors import McpError
from mcpkit.inspector.session import InspectorSession


def small_server() -> Server:
    server = Server("small")

    @server.tool()
    async def where(ctx: Context) -> list[str]:
        return [root.uri for root in await ctx.list_roots()]

    @server.tool()
    def big() -> str:
        return "x" * 200_000

    return server


def in_memory(server: Server) -> Any:
    def factory(target: str, **options: Any) -> Client:
        return Client(server, **options)

    return factory


async def test_on_message_sees_both_directions_and_is_absent_unless_asked() -> None:
    seen: list[tuple[str, bytes]] = []
    async with Client(small_server(), on_message=lambda d, b: seen.append((d, b))) as client:
        await client.list_tools()
        assert isinstance(client.connection.channel, TappedChannel)
    directions = [direction for direction, _ in seen]
    assert directions[:2] == ["sent", "received"]  # initialize and its answer
    assert b'"tools/list"' in b"".join(data for _, data in seen)
    async with Client(small_server()) as plain:
        assert not isinstance(plain.connection.channel, TappedChannel)


async def test_roots_and_a_refusal_are_answered_by_the_page() -> None:
    session = InspectorSession(client_factory=in_memory(small_server()))
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
        refused = await asyncio.wait_for(again, 10)
        assert refused["isError"] and "not today" in str(refused["content"])
    finally:
        await session.disconnect()


async def test_a_huge_message_is_cut_in_the_log() -> None:
    session = InspectorSession(client_factory=in_memory(small_server()))
    events = session.subscribe()
    await session.connect("small")
    try:
        await session.request("tools/call", {"name": "big", "arguments": {}})
    finally:
        await session.disconnect()
    logged = [e for e in _drain(events) if e["type"] == "message" and e["size"] > 100_000]
    assert len(logged) == 1 and len(logged[0]["text"]) == 64 * 1024 and "body" not in logged[0]


async def test_a_page_that_stops_reading_is_dropped_not_buffered() -> None:
    session = InspectorSession()
    slow = session.subscribe()
    for n in range(1500):
        session.publish("notification", method="x", params={"n": n})
    assert session.watchers == 0
    queued = _drain(slow)
    assert len(queued) == 1000 and queued[-1] is None  # the end of its stream
    with pytest.raises(McpError, match="connect to a server first"):
        await session.request("tools/list", {})


def _drain(queue: asyncio.Queue[Any]) -> list[Any]:
    items: list[Any] = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items


async def _first(queue: asyncio.Queue[Any], kind: str) -> dict[str, Any]:
    async with asyncio.timeout(10):
        while True:
            event = await queue.get()
            if event is not None and event["type"] == kind:
                return dict(event)
