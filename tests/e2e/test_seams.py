"""The seams Streamable HTTP plugs into, through the real Server and Client: a channel that
routes by request learns, for each message, the request it belongs to and whether it is the
last one, and, for each body, the requests it started; and what the transport knew about a
body reaches the tool as `ctx.request_info` (None over memory and stdio)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
from collections.abc import AsyncIterator, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import pytest

from mcpkit import Client, Context, Server
from mcpkit.protocol.events import RequestInfo
from mcpkit.runtime.channel import MessageChannel, RoutedChannel
from mcpkit.testing import RawPeer
from mcpkit.transports.memory import MemoryChannel, memory_channel_pair
from mcpkit.transports.stdio_server import open_stdio_server_channel
from mcpkit.types import CreateMessageRequestParams, CreateMessageResult, RequestId, TextContent

WAIT = 10.0  # seconds: a bound on hangs, not a performance assertion


@dataclass
class Sent:
    message: Any  # decoded, or None for an empty final ("ended without an answer")
    related: RequestId | None
    final: bool

    @property
    def method(self) -> str | None:
        return self.message.get("method") if isinstance(self.message, dict) else None


@dataclass
class Body:
    info: RequestInfo | None
    started: list[RequestId]
    refused: list[Any]


class RoutingChannel:
    """A fake Streamable HTTP channel over one end of the memory pair: each body it hands
    in gets a RequestInfo of its own, and it records what the runtime tells it."""

    def __init__(self, inner: MemoryChannel) -> None:
        self.inner = inner
        self.sent: list[Sent] = []
        self.bodies: list[Body] = []
        self._numbers = itertools.count(1)

    @property
    def writable(self) -> bool:
        return self.inner.writable

    async def receive(self) -> bytes:
        raise AssertionError("a channel with receive_with_info is never asked to receive()")

    async def receive_with_info(self) -> tuple[bytes, RequestInfo | None]:
        data = await self.inner.receive()
        n = next(self._numbers)
        headers = [(b"x-body", str(n).encode()), (b"user-agent", b"seams-test")]
        return data, RequestInfo("test", headers, ("127.0.0.1", 40000 + n))

    def body_read(
        self, info: RequestInfo | None, started: Sequence[RequestId], refused: Sequence[bytes]
    ) -> None:
        decoded = [msgspec.json.decode(r) for r in refused]
        self.bodies.append(Body(info, list(started), decoded))

    async def send(self, data: bytes) -> None:
        raise AssertionError("a channel with send_routed is never asked to send()")

    async def send_routed(self, data: bytes, related: RequestId | None, final: bool) -> None:
        self.sent.append(Sent(msgspec.json.decode(data) if data else None, related, final))
        if data:
            await self.inner.send(data)

    async def aclose(self) -> None:
        await self.inner.aclose()


class ThroughRouting:
    """What `Client` takes as an in-process server: serves `server` over a RoutingChannel."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.channel: RoutingChannel | None = None

    def serve(self, channel: MessageChannel) -> Coroutine[Any, Any, None]:
        assert isinstance(channel, MemoryChannel)
        self.channel = RoutingChannel(channel)
        return self.server.serve(self.channel)


def make_server() -> Server:
    server = Server("seams")

    @server.tool()
    async def work(ctx: Context) -> str:
        """Reports progress, logs, and asks the client's model, while serving the call."""
        await ctx.progress(1, 3)
        await ctx.info("halfway")
        answer = await ctx.sample("say hi", max_tokens=5)
        await ctx.progress(2, 3)
        assert isinstance(answer.content, TextContent)
        return answer.content.text

    @server.tool()
    async def whoami(ctx: Context) -> dict[str, Any]:
        """What the transport knew about the message this call came in."""
        info = ctx.request_info
        if info is None:
            return {"info": None}
        return {
            "transport": info.transport,
            "body": info.header("X-Body"),
            "missing": info.header("authorization"),
            "client": list(info.client) if info.client else None,
        }

    return server


#: These seams are the legacy era's (initialize first): the client is pinned to it.
SESSIONS = "2025-11-25"


def sample(params: CreateMessageRequestParams) -> CreateMessageResult:
    return CreateMessageResult(role="assistant", content=TextContent(text="hi"), model="m")


def test_the_fake_implements_the_routed_channel_protocol() -> None:
    routed: RoutedChannel = RoutingChannel(memory_channel_pair()[1])
    assert isinstance(routed, MessageChannel)


async def test_progress_logs_and_sampling_are_related_to_the_call_and_its_answer_is_final() -> None:
    target = ThroughRouting(make_server())
    progress: list[float] = []
    async with (
        asyncio.timeout(WAIT),
        Client(target, sampling_handler=sample, protocol=SESSIONS) as client,
    ):
        result = await client.call_tool("work", progress=lambda p, t, m: progress.append(p))
        assert result.content[0].text == "hi"  # type: ignore[union-attr]
    assert progress == [1, 2]
    channel = target.channel
    assert channel is not None
    init, call = [b for b in channel.bodies if b.started]
    # The initialize request is answered by the session itself, final and related to it.
    (init_answer,) = [s for s in channel.sent if s.related == init.started[0]]
    assert init_answer.final and "serverInfo" in init_answer.message["result"]
    (rid,) = call.started
    about_call = [s for s in channel.sent if s.related == rid]
    kinds = [(s.method, s.final) for s in about_call]
    assert kinds == [
        ("notifications/progress", False),
        ("notifications/message", False),
        ("sampling/createMessage", False),
        ("notifications/progress", False),
        (None, True),  # the tools/call response, last
    ]
    assert about_call[-1].message["id"] == rid and "result" in about_call[-1].message
    assert [s for s in channel.sent if s.related is None] == []  # nothing for the GET stream


async def test_bodies_of_notifications_and_responses_start_nothing() -> None:
    target = ThroughRouting(make_server())
    async with (
        asyncio.timeout(WAIT),
        Client(target, sampling_handler=sample, protocol=SESSIONS) as client,
    ):
        await client.call_tool("work")
    channel = target.channel
    assert channel is not None
    # initialize, notifications/initialized, tools/call, the sampling response.
    assert [len(b.started) for b in channel.bodies] == [1, 0, 1, 0]
    assert all(b.refused == [] for b in channel.bodies)


async def test_a_list_changed_broadcast_relates_to_no_request() -> None:
    server = make_server()
    target = ThroughRouting(server)
    changed = asyncio.Event()

    def on_notification(method: str, params: Any) -> None:
        if method == "notifications/tools/list_changed":
            changed.set()

    async with (
        asyncio.timeout(WAIT),
        Client(target, on_notification=on_notification, protocol=SESSIONS) as client,
    ):
        await client.list_tools()

        @server.tool()
        def added() -> str:
            return "new"

        await changed.wait()
    channel = target.channel
    assert channel is not None
    (broadcast,) = [s for s in channel.sent if s.method == "notifications/tools/list_changed"]
    assert broadcast.related is None and not broadcast.final


async def test_a_tool_sees_the_info_its_message_came_with() -> None:
    target = ThroughRouting(make_server())
    async with asyncio.timeout(WAIT), Client(target, protocol=SESSIONS) as client:
        first = await client.call_tool("whoami")
        second = await client.call_tool("whoami")
    channel = target.channel
    assert channel is not None
    calls = [b for b in channel.bodies if b.started][1:]  # after initialize
    for result, body in zip([first, second], calls, strict=True):
        assert body.info is not None
        n = body.info.header("x-body")
        assert result.structured_content == {
            "transport": "test",
            "body": n,
            "missing": None,
            "client": ["127.0.0.1", 40000 + int(n or 0)],
        }
    assert first.structured_content != second.structured_content


async def test_request_info_is_none_in_memory() -> None:
    async with asyncio.timeout(WAIT), Client(make_server()) as client:
        result = await client.call_tool("whoami")
    assert result.structured_content == {"info": None}


# ----------------------------------------------------------------------- stdio


async def _read_line(fd: int, buffer: bytearray) -> bytes:
    loop = asyncio.get_running_loop()
    while b"\n" not in buffer:
        chunk = await loop.run_in_executor(None, os.read, fd, 65536)
        if not chunk:
            raise AssertionError("the server closed stdout")
        buffer += chunk
    line, _, rest = bytes(buffer).partition(b"\n")
    buffer[:] = rest
    return line


async def test_request_info_is_none_over_stdio() -> None:
    in_r, in_w = os.pipe()
    out_r, out_w = os.pipe()
    try:
        channel = await open_stdio_server_channel(stdin=in_r, stdout=out_w)
    finally:
        os.close(in_r)
        os.close(out_w)
    task = asyncio.get_running_loop().create_task(make_server().serve(channel))
    buffer = bytearray()
    try:
        async with asyncio.timeout(WAIT):
            for message in (
                {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "initialize",
                    "params": {
                        "protocolVersion": "2025-11-25",
                        "capabilities": {},
                        "clientInfo": {"name": "raw", "version": "0"},
                    },
                },
                {"jsonrpc": "2.0", "method": "notifications/initialized"},
                {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "whoami"}},
            ):
                os.write(in_w, msgspec.json.encode(message) + b"\n")
            assert msgspec.json.decode(await _read_line(out_r, buffer))["id"] == 1
            answer = msgspec.json.decode(await _read_line(out_r, buffer))
            assert answer["id"] == 2
            assert answer["result"]["structuredContent"] == {"info": None}
    finally:
        os.close(in_w)  # end of input: the session ends and closes stdout
        async with asyncio.timeout(WAIT):
            await task
        os.close(out_r)


# ------------------------------------------------------------------ raw bodies


@contextlib.asynccontextmanager
async def routed_raw(
    server: Server, protocol_version: str = "2025-11-25", capabilities: dict[str, Any] | None = None
) -> AsyncIterator[tuple[RawPeer, RoutingChannel]]:
    client_end, server_end = memory_channel_pair()
    channel = RoutingChannel(server_end)
    task = asyncio.get_running_loop().create_task(server.serve(channel))
    peer = RawPeer(client_end, WAIT)
    try:
        await peer.initialize(protocol_version, capabilities)
        yield peer, channel
    finally:
        await client_end.aclose()
        async with asyncio.timeout(WAIT):
            await task


async def test_an_unreadable_body_is_refused_as_a_whole_and_not_sent() -> None:
    async with routed_raw(make_server()) as (peer, channel):
        await peer.send_bytes(b'{"jsonrpc": "2.0", "id": 1, "method": ')
        await peer.send_bytes(b"[1, 2]")  # a batch, refused outside 2025-03-26
        assert (await peer.request("ping"))["result"] == {}  # nothing else came first
    garbage, batch, ping = channel.bodies[-3:]
    assert garbage.started == [] and garbage.refused[0]["error"]["code"] == -32700
    assert batch.started == [] and batch.refused[0]["error"]["code"] == -32600
    assert ping.started == [2] and ping.refused == []  # (initialize was 1)
    assert all(s.related is not None for s in channel.sent)


async def test_a_request_refused_with_its_id_starts_it_and_gets_a_final_error() -> None:
    async with routed_raw(make_server()) as (peer, channel):
        reply = await peer.request("no/such/method", id="x")
        assert reply["error"]["code"] == -32601
    assert channel.bodies[-1].started == ["x"]
    (answer,) = [s for s in channel.sent if s.related == "x"]
    assert answer.final and answer.message["error"]["code"] == -32601


async def test_a_duplicate_id_is_refused_without_touching_the_live_request() -> None:
    server = Server("dup")
    release = asyncio.Event()

    @server.tool()
    async def wait() -> str:
        await release.wait()
        return "done"

    async with routed_raw(server) as (peer, channel):
        call = {"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": {"name": "wait"}}
        await peer.send(call)
        await peer.send(call)
        assert (await peer.request("ping"))["result"] == {}  # both calls were read
        release.set()
        assert (await peer.response_to(7))["result"]["content"][0]["text"] == "done"
    first, second, _ = channel.bodies[-3:]
    assert first.started == [7] and first.refused == []
    assert second.started == [] and second.refused[0]["error"]["code"] == -32600
    (final,) = [s for s in channel.sent if s.related == 7]
    assert final.final and "result" in final.message


async def test_a_cancelled_request_ends_with_an_empty_final() -> None:
    server = Server("cancel")
    started = asyncio.Event()

    @server.tool()
    async def forever() -> str:
        started.set()
        await asyncio.Event().wait()
        return "never"

    async with routed_raw(server) as (peer, channel):
        call = {"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "forever"}}
        await peer.send(call)
        await started.wait()
        await peer.notify("notifications/cancelled", {"requestId": 3})
        assert (await peer.request("ping"))["result"] == {}
    assert [(s.message, s.final) for s in channel.sent if s.related == 3] == [(None, True)]
    call_body, cancel_body, _ = channel.bodies[-3:]
    assert call_body.started == [3] and cancel_body.started == []  # the cancel: a 202


async def test_a_batch_under_2025_03_26_starts_its_requests_and_gets_one_final_array() -> None:
    server = make_server()
    async with routed_raw(server, "2025-03-26") as (peer, channel):
        batch = [
            {"jsonrpc": "2.0", "id": "p", "method": "ping"},
            {"jsonrpc": "2.0", "id": "w", "method": "tools/call", "params": {"name": "whoami"}},
            {"jsonrpc": "2.0", "id": "bad", "method": "no/such"},
            {"jsonrpc": "2.0", "method": "notifications/roots/list_changed"},
        ]
        await peer.send(batch)
        answers = await peer.receive()
    body = channel.bodies[-1]
    # The request handed to a handler; the session answered the others into the array.
    assert body.started == ["w"] and body.refused == []
    assert sorted(a["id"] for a in answers) == ["bad", "p", "w"]
    (array,) = [s for s in channel.sent if isinstance(s.message, list)]
    assert array.final and array.related == "w"
    assert [s for s in channel.sent if s.related in body.started] == [array]
    (whoami,) = [a for a in answers if a["id"] == "w"]
    assert whoami["result"]["content"][0]["text"].count('"body"') == 1


@pytest.mark.parametrize("members", [["bad1", "bad2"], ["p"]])
async def test_a_batch_answered_at_once_is_related_to_one_of_its_ids(members: list[str]) -> None:
    async with routed_raw(make_server(), "2025-03-26") as (peer, channel):
        batch = [
            {"jsonrpc": "2.0", "id": m, "method": "ping" if m == "p" else "no/such"}
            for m in members
        ]
        await peer.send(batch)
        answers = await peer.receive()
    assert sorted(a["id"] for a in answers) == members
    body = channel.bodies[-1]
    assert body.started == members[:1]
    (array,) = [s for s in channel.sent if isinstance(s.message, list)]
    assert array.final and array.related == members[0]
