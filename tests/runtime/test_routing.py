"""Routing from the protocol session to the channel: `Outgoing.final`, `Session.receive_body`
with plain calls, and the Connection's use of whichever optional RoutedChannel methods a
channel has (plain channels keep `receive` and `send`)."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec

from mcpkit import Context, Server
from mcpkit.protocol.events import RequestInfo, RequestReceived
from mcpkit.protocol.outbox import Outgoing
from mcpkit.protocol.server_session import ServerSession
from mcpkit.runtime.connection import Connection
from mcpkit.testing import RawPeer
from mcpkit.transports.memory import MemoryChannel, memory_channel_pair
from mcpkit.types import Implementation, RequestId, ServerCapabilities

WAIT = 10.0


def server_session() -> ServerSession:
    caps = msgspec.convert({"tools": {}}, ServerCapabilities)
    session = ServerSession(Implementation(name="s", version="0"), caps)
    init = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {"name": "c", "version": "0"},
        },
    }
    session.receive_data(msgspec.json.encode(init))
    session.receive_data(b'{"jsonrpc":"2.0","method":"notifications/initialized"}')
    session.data_to_send()
    return session


def encode(message: Any) -> bytes:
    return msgspec.json.encode(message)


def test_a_response_is_final_and_related_to_its_request() -> None:
    session = server_session()
    info = RequestInfo("t", [(b"a", b"b")])
    read = session.receive_body(encode({"jsonrpc": "2.0", "id": 5, "method": "tools/list"}), info)
    (ev,) = read.events
    assert isinstance(ev, RequestReceived) and ev.request_info is info
    assert read.started == [5] and read.refused == []
    session.send_notification("notifications/message", {"level": "info", "data": 1}, related=5)
    session.send_response(5, {"tools": []})
    note, answer = session.data_to_send()
    assert (note.related, note.final) == (5, False)
    assert (answer.related, answer.final) == (5, True)


def test_a_ping_is_started_and_answered_at_once() -> None:
    session = server_session()
    read = session.receive_body(b'{"jsonrpc":"2.0","id":"p","method":"ping"}')
    assert read.events == [] and read.started == ["p"]
    (answer,) = session.data_to_send()
    assert (answer.related, answer.final) == ("p", True)


def test_notifications_start_nothing() -> None:
    session = server_session()
    read = session.receive_body(b'{"jsonrpc":"2.0","method":"notifications/roots/list_changed"}')
    assert (read.started, read.refused) == ([], [])


def test_refusals_of_the_body_leave_the_outbox_and_what_was_queued_stays() -> None:
    session = server_session()
    session.send_notification("notifications/tools/list_changed")
    read = session.receive_body(b'{"jsonrpc":"2.0","id":9,"method":5}')
    assert read.started == []
    (refusal,) = read.refused
    assert msgspec.json.decode(refusal)["error"]["code"] == -32600
    (queued,) = session.data_to_send()
    assert queued == Outgoing(b'{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}')


def test_receive_data_still_queues_refusals_final_and_unrelated() -> None:
    session = server_session()
    assert session.receive_data(b"{not json") == []
    (refusal,) = session.data_to_send()
    assert (refusal.related, refusal.final) == (None, True)


def test_a_cancelled_request_gets_an_empty_final_only_when_asked() -> None:
    for mark in (False, True):
        session = server_session()
        session.mark_unanswered = mark
        session.receive_body(b'{"jsonrpc":"2.0","id":1,"method":"tools/list"}')
        read = session.receive_body(
            b'{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}'
        )
        assert (read.started, read.refused) == ([], [])
        session.send_response(1, {"tools": []})  # too late: dropped
        expected = [Outgoing(b"", 1, True)] if mark else []
        assert session.data_to_send() == expected


# --------------------------------------------------------------- the Connection


class SendRoutedOnly:
    """A channel with `send_routed` alone: refusals of a body come to it, final, unrelated."""

    def __init__(self, inner: MemoryChannel) -> None:
        self.inner = inner
        self.sent: list[tuple[Any, RequestId | None, bool]] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def receive(self) -> bytes:
        return await self.inner.receive()

    async def send(self, data: bytes) -> None:
        raise AssertionError("send_routed is used instead")

    async def send_routed(self, data: bytes, related: RequestId | None, final: bool) -> None:
        await self.gate.wait()
        self.sent.append((msgspec.json.decode(data) if data else None, related, final))
        await self.inner.send(data)

    async def aclose(self) -> None:
        await self.inner.aclose()


class InfoOnly:
    """A channel with `receive_with_info` alone."""

    def __init__(self, inner: MemoryChannel) -> None:
        self.inner = inner
        self.send = inner.send
        self.aclose = inner.aclose

    async def receive(self) -> bytes:
        raise AssertionError("receive_with_info is used instead")

    async def receive_with_info(self) -> tuple[bytes, RequestInfo | None]:
        return await self.inner.receive(), RequestInfo("only", client=("10.0.0.1", 1))


async def serve(server: Server, channel: Any) -> tuple[RawPeer, asyncio.Task[None], MemoryChannel]:
    client_end, server_end = memory_channel_pair()
    wrapped = channel(server_end)
    task = asyncio.get_running_loop().create_task(server.serve(wrapped))
    peer = RawPeer(client_end, WAIT)
    await peer.initialize()
    return peer, task, client_end


def echo_server() -> Server:
    server = Server("routing")

    @server.tool()
    async def where(ctx: Context) -> str:
        info = ctx.request_info
        return "none" if info is None else f"{info.transport} {info.client}"

    return server


async def test_without_body_read_refusals_go_to_send_routed_unrelated() -> None:
    holder: list[SendRoutedOnly] = []

    def make(inner: MemoryChannel) -> SendRoutedOnly:
        holder.append(SendRoutedOnly(inner))
        return holder[0]

    peer, task, end = await serve(echo_server(), make)
    async with asyncio.timeout(WAIT):
        await peer.send_bytes(b"garbage")
        assert (await peer.receive())["error"]["code"] == -32700
        reply = await peer.request("tools/call", {"name": "where"})
        assert reply["result"]["content"][0]["text"] == "none"
        await end.aclose()
        await task
    refusal = [s for s in holder[0].sent if s[1] is None]
    assert [(m["error"]["code"], f) for m, _, f in refusal] == [(-32700, True)]


async def test_queued_messages_keep_their_routing_and_order() -> None:
    holder: list[SendRoutedOnly] = []

    def make(inner: MemoryChannel) -> SendRoutedOnly:
        holder.append(SendRoutedOnly(inner))
        return holder[0]

    peer, task, end = await serve(echo_server(), make)
    channel = holder[0]
    channel.gate.clear()  # the writer blocks: what comes meanwhile queues behind it
    async with asyncio.timeout(WAIT):
        for rid in range(10, 30):
            await peer.send({"jsonrpc": "2.0", "id": rid, "method": "ping"})
        await peer.send(
            {"jsonrpc": "2.0", "id": 99, "method": "tools/call", "params": {"name": "where"}}
        )
        channel.gate.set()
        assert (await peer.response_to(99))["result"]["content"][0]["text"] == "none"
        await end.aclose()
        await task
    answers = [(m["id"], related, final) for m, related, final in channel.sent[1:]]
    assert answers == [(rid, rid, True) for rid in [*range(10, 30), 99]]


async def test_receive_with_info_alone_reaches_the_tool() -> None:
    peer, task, end = await serve(echo_server(), InfoOnly)
    async with asyncio.timeout(WAIT):
        reply = await peer.request("tools/call", {"name": "where"})
        assert reply["result"]["content"][0]["text"] == "only ('10.0.0.1', 1)"
        await end.aclose()
        await task


async def test_plain_channels_keep_receive_and_send() -> None:
    _, server_end = memory_channel_pair()
    session = server_session()

    async def on_request(peer: Any, ev: RequestReceived) -> Any:
        return {}

    conn = Connection(session, server_end, on_request=on_request, on_event=lambda ev: None)
    assert conn.out.send_routed is None and not session.mark_unanswered
    await conn.aclose()


async def test_a_session_hands_out_each_request_as_its_connections_exchange() -> None:
    """Once a connection drives it, the session reads each request into an exchange: the
    connection its reply (which holds the handler) and the connection's peer its peer, what
    `runtime.connection.serve` serves it with and the handler is handed."""
    client_end, server_end = memory_channel_pair()
    session = server_session()
    handle = object()  # (as a server's session handle)
    seen: list[tuple[Any, RequestReceived]] = []

    async def on_request(peer: Any, ev: RequestReceived) -> Any:
        seen.append((peer, ev))
        return {"tools": []}

    conn = Connection(
        session, server_end, on_request=on_request, on_event=lambda ev: None, peer=handle
    )
    (ev,) = session.receive_data(encode({"jsonrpc": "2.0", "id": 3, "method": "tools/list"}))
    assert isinstance(ev, RequestReceived)
    assert ev.reply is conn and ev.peer is handle and conn.handle is on_request
    conn.start()
    await client_end.send(encode({"jsonrpc": "2.0", "id": 4, "method": "tools/list"}))
    async with asyncio.timeout(WAIT):
        answer = msgspec.json.decode(await client_end.receive())
    assert answer == {"jsonrpc": "2.0", "id": 4, "result": {"tools": []}}
    ((peer, served),) = seen
    assert peer is handle and served.request_id == 4 and served.reply is conn
    await conn.aclose()


def test_request_info_header_lookup() -> None:
    info = RequestInfo("http", [(b"x-a", b"1"), (b"x-a", b"2"), (b"x-b", b"\xe9")])
    assert info.header("X-A") == "1"
    assert info.header("x-b") == "\xe9"
    assert info.header("x-c") is None
    assert RequestInfo("stdio").headers == () and RequestInfo("stdio").client is None


def test_a_batch_whose_requests_are_all_cancelled_ends_with_one_empty_final() -> None:
    session = server_session()
    assert session.terms is not None
    # 2025-03-26: the only revision with batches
    session.settle(msgspec.structs.replace(session.terms, revision="2025-03-26"))
    session.mark_unanswered = True
    read = session.receive_body(
        b'[{"jsonrpc":"2.0","id":1,"method":"tools/list"},'
        b'{"jsonrpc":"2.0","id":2,"method":"tools/list"}]'
    )
    assert read.started == [1, 2]
    for rid in (1, 2):
        cancel = {
            "jsonrpc": "2.0",
            "method": "notifications/cancelled",
            "params": {"requestId": rid},
        }
        assert session.receive_body(encode(cancel)).started == []
    assert session.data_to_send() == [Outgoing(b"", 1, True)]
