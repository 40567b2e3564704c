"""What waits for the peer is bounded in bytes, in both roles: a peer that stops reading
makes us stop reading instead of growing; once it reads, every answer arrives exactly once
and in order. One writer at a time, and a cancelled writer hands over."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import msgspec
import pytest

from mcpkit import Context, Server
from mcpkit.errors import ConnectionClosed
from mcpkit.protocol.client_session import ClientSession
from mcpkit.protocol.session import Session
from mcpkit.runtime.connection import Connection
from mcpkit.runtime.outbound import DEFAULT_SEND_HIGH_WATER
from mcpkit.transports.memory import DEFAULT_MAX_BUFFERED, MemoryChannel, memory_channel_pair
from mcpkit.types import ClientCapabilities, Implementation

ANSWER = 10_000  # bytes of text per tool answer


async def until(condition: Callable[[], bool], turns: int = 200_000) -> None:
    """Let other tasks run until `condition` holds (a bounded number of loop turns)."""
    for _ in range(turns):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the condition never held")


def blocked(end: MemoryChannel) -> bool:
    """Whether `end`'s sends wait because its peer stopped receiving."""
    return not end._outbox.room.is_set()


def encode(message: Any) -> bytes:
    return msgspec.json.encode(message)


def big_server() -> Server:
    server = Server("backpressure")

    @server.tool()
    async def big(ctx: Context, size: int) -> str:
        await ctx.progress(1, 2)
        return "x" * size

    return server


async def handshake(end: MemoryChannel) -> None:
    await end.send(
        encode(
            {
                "jsonrpc": "2.0",
                "id": 0,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-11-25",
                    "capabilities": {},
                    "clientInfo": {"name": "t", "version": "0"},
                },
            }
        )
    )
    assert "result" in msgspec.json.decode(await end.receive())
    await end.send(encode({"jsonrpc": "2.0", "method": "notifications/initialized"}))


async def send_calls(end: MemoryChannel, ids: range) -> None:
    for rid in ids:
        await end.send(
            encode(
                {
                    "jsonrpc": "2.0",
                    "id": rid,
                    "method": "tools/call",
                    "params": {
                        "name": "big",
                        "arguments": {"size": ANSWER},
                        "_meta": {"progressToken": rid},
                    },
                }
            )
        )


async def read_answers(end: MemoryChannel, ids: set[int]) -> dict[int, list[str]]:
    seen: dict[int, list[str]] = {}
    open_ids = set(ids)
    while open_ids:
        message = msgspec.json.decode(await end.receive())
        if message.get("method") == "notifications/progress":
            seen.setdefault(message["params"]["progressToken"], []).append("progress")
            continue
        assert message["id"] in open_ids, f"{message['id']} answered twice or never asked"
        assert message["result"]["content"][0]["text"] == "x" * ANSWER
        open_ids.discard(message["id"])
        seen.setdefault(message["id"], []).append("response")
    return seen


async def test_a_client_that_stops_reading_stops_the_server_reading() -> None:
    server = big_server()
    client_end, server_end = memory_channel_pair()
    serving = asyncio.get_running_loop().create_task(server.serve(server_end))
    try:
        await handshake(client_end)
        (handle,) = server.sessions
        ids = range(1, 10_001)  # 100 MB of answers if nothing held them back
        sender = asyncio.get_running_loop().create_task(send_calls(client_end, ids))
        await until(lambda: blocked(client_end) and blocked(server_end))
        assert not sender.done()
        # Ours: high water plus what handlers already running add; the pipe: its bound.
        assert handle.connection.send_backlog < 2 * DEFAULT_SEND_HIGH_WATER
        assert server_end._outbox.size < DEFAULT_MAX_BUFFERED + 2 * ANSWER
        seen = await read_answers(client_end, set(ids))
        assert all(seen[rid] == ["progress", "response"] for rid in ids)
        await sender
        assert handle.connection.send_backlog == 0
    finally:
        client_end.close()
        await asyncio.wait_for(serving, 5)


async def test_a_server_that_stops_reading_stops_the_client_reading() -> None:
    high = 4096
    client_end, server_end = memory_channel_pair(max_buffered=high)
    session = ClientSession(Implementation(name="t", version="0"), ClientCapabilities())

    async def on_request(peer: Any, ev: Any) -> Any:
        raise AssertionError(f"only pings, which the session answers: {ev}")

    conn = Connection(
        session, client_end, on_request=on_request, on_event=lambda ev: None, send_high_water=high
    )
    conn.start()
    pings = range(1, 10_001)

    async def send_pings() -> None:
        for rid in pings:
            await server_end.send(encode({"jsonrpc": "2.0", "id": rid, "method": "ping"}))

    sender = asyncio.get_running_loop().create_task(send_pings())
    try:
        await until(lambda: blocked(server_end) and blocked(client_end))
        assert conn.send_backlog <= high + 100  # high water and one answer
        answered: set[int] = set()
        while len(answered) < len(pings):
            message = msgspec.json.decode(await server_end.receive())
            assert message["result"] == {} and message["id"] not in answered
            answered.add(message["id"])
        await sender
    finally:
        await conn.aclose()
        sender.cancel()


class GatedChannel:
    """Records what is sent; each send waits for `gate` while it is closed."""

    def __init__(self) -> None:
        self.sent: list[bytes] = []
        self.gate = asyncio.Event()
        self.sending = asyncio.Event()

    async def receive(self) -> bytes:
        await asyncio.Event().wait()
        raise ConnectionClosed("never")

    async def send(self, data: bytes) -> None:
        self.sending.set()
        self.sent.append(data)
        await self.gate.wait()

    async def aclose(self) -> None:
        pass


def gated_connection(channel: GatedChannel, **options: Any) -> Connection:
    """A Connection over `channel` whose own requests and handlers do nothing."""
    return Connection(
        Session(),
        channel,
        on_request=lambda peer, ev: asyncio.sleep(0),
        on_event=lambda ev: None,
        **options,
    )


def method_of(data: bytes) -> str:
    return str(msgspec.json.decode(data)["method"])


async def test_a_cancelled_writer_hands_over_and_order_is_kept() -> None:
    channel = GatedChannel()
    conn = gated_connection(channel)
    loop = asyncio.get_running_loop()
    first = loop.create_task(conn.notify("first"))  # the writer, stuck in send
    await channel.sending.wait()
    await conn.notify("second")  # queued behind it; returns: it is not the writer
    await conn.notify("third")
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    channel.gate.set()
    await until(lambda: conn.send_backlog == 0 and len(channel.sent) == 3)
    assert [method_of(data) for data in channel.sent] == ["first", "second", "third"]
    await conn.aclose()


async def test_our_own_notifications_wait_for_room() -> None:
    channel = GatedChannel()
    conn = gated_connection(channel, send_high_water=100)
    loop = asyncio.get_running_loop()
    writer = loop.create_task(conn.notify("a"))
    await channel.sending.wait()
    await conn.notify("b", {"pad": "x" * 150})  # room when queued; over high water after
    assert conn.send_backlog > 100
    late = loop.create_task(conn.notify("late"))
    for _ in range(5):  # turns enough for `late` to finish, were it not held
        await asyncio.sleep(0)
    assert not late.done()
    channel.gate.set()
    await asyncio.wait_for(late, 5)
    await writer
    await until(lambda: conn.send_backlog == 0)
    assert [method_of(d) for d in channel.sent] == ["a", "b", "late"]
    await conn.aclose()


async def test_closing_wakes_whoever_waits_for_room() -> None:
    channel = GatedChannel()
    conn = gated_connection(channel, send_high_water=10)
    loop = asyncio.get_running_loop()
    # "a" alone is past high water while it is written: "c" waits for room.
    writer = loop.create_task(conn.notify("a", {"pad": "x" * 50}))
    await channel.sending.wait()
    waiting = loop.create_task(conn.notify("c"))
    for _ in range(5):
        await asyncio.sleep(0)
    assert not waiting.done()
    await conn.aclose()
    with pytest.raises(ConnectionClosed):
        await asyncio.wait_for(waiting, 5)
    channel.gate.set()
    await asyncio.wait_for(writer, 5)


class FedChannel(GatedChannel):
    """A GatedChannel whose peer's messages are put in `bodies`; None ends it."""

    def __init__(self) -> None:
        super().__init__()
        self.bodies: asyncio.Queue[bytes | None] = asyncio.Queue()

    async def receive(self) -> bytes:
        body = await self.bodies.get()
        if body is None:
            raise ConnectionClosed("the peer left")
        return body


def call(rid: int, size: int) -> bytes:
    params = {"name": "big", "arguments": {"size": size}}
    return encode({"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": params})


async def test_one_answer_past_high_water_pauses_reading_while_it_is_written() -> None:
    # One message larger than send_high_water counts by itself while it is written: the
    # reader starts no more work, which would only queue more answers nobody reads.
    server = Server("one-big", send_high_water=1_000)

    @server.tool()
    async def big(size: int) -> str:
        return "x" * size

    channel = FedChannel()
    channel.gate.set()
    serving = asyncio.get_running_loop().create_task(server.serve(channel))
    try:
        init = {"protocolVersion": "2025-11-25", "capabilities": {}}
        init["clientInfo"] = {"name": "t", "version": "0"}
        channel.bodies.put_nowait(
            encode({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": init})
        )
        await until(lambda: len(channel.sent) == 1)
        channel.gate.clear()  # the client stops reading
        channel.bodies.put_nowait(encode({"jsonrpc": "2.0", "method": "notifications/initialized"}))
        channel.bodies.put_nowait(call(1, 5_000))
        await until(lambda: len(channel.sent) == 2)  # its answer is being written, unread
        (handle,) = server.sessions
        assert handle.connection.send_backlog >= 5_000
        channel.bodies.put_nowait(call(2, 10))  # (the reader may be waiting for it already)
        channel.bodies.put_nowait(call(3, 10))
        for _ in range(50):  # loop turns enough for the reader to take call 3, if it may
            await asyncio.sleep(0)
        assert channel.bodies.qsize() == 1  # call 3 waits for the client to read
        channel.gate.set()  # it reads: everything is answered
        await until(lambda: len(channel.sent) == 4 and channel.bodies.empty())
        assert handle.connection.send_backlog == 0
    finally:
        channel.bodies.put_nowait(None)
        await asyncio.wait_for(serving, 5)


def test_the_high_water_must_be_positive() -> None:
    with pytest.raises(ValueError, match="send_high_water"):
        gated_connection(GatedChannel(), send_high_water=0)
