"""`RequestPeer`: one body served in the caller's task, each message handed to the response as
it is made, nothing sent once the answer is out, and nothing of a request kept by the server's
reading session (`mcpkit.server.request_peer`)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import msgspec
import pytest
from _modern_peers import serve_read

from mcpkit import Context, Server
from mcpkit.errors import ConnectionClosed, LocalProtocolError, McpError
from mcpkit.runtime.response import ANSWER, MESSAGE, RESULT, Kind
from mcpkit.server.request_peer import RequestPeer
from mcpkit.server.session import ServerSessionHandle, session_of

META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {},
    "io.modelcontextprotocol/logLevel": "debug",
}

#: What only a session offers (`mcpkit.server.session.SessionPeer`).
SESSION_ONLY = (
    "id",
    "protocol",
    "connection",
    "subscriptions",
    "subscribe",
    "unsubscribe",
    "request",
    "check_outbound_request",
    "close_stream",
    "wait_sent",
    "release_task_progress",
)


class Written:
    """A `Response` that keeps what it is given."""

    def __init__(self) -> None:
        self.items: list[tuple[Kind, Any]] = []
        self.json = False

    async def emit(self, data: bytes, kind: Kind) -> None:
        self.items.append((kind, msgspec.json.decode(data)))

    def answer_as_json(self) -> None:
        self.json = True

    @property
    def kinds(self) -> list[Kind]:
        return [kind for kind, _ in self.items]


def request(method: str, params: dict[str, Any] | None = None, rid: Any = 1) -> bytes:
    return msgspec.json.encode(
        {"jsonrpc": "2.0", "id": rid, "method": method, "params": {**(params or {}), "_meta": META}}
    )


def make_server() -> Server:
    server = Server("one-request")

    @server.tool()
    async def chatty(ctx: Context) -> str:
        await ctx.log("info", "one")
        await ctx.log("info", "two")
        return "done"

    @server.tool()
    def refuse() -> str:
        raise McpError(-32602, "no such thing")

    @server.tool()
    def crash() -> str:
        raise RuntimeError("boom")

    @server.tool()
    async def ask_outside_the_result(ctx: Context) -> str:
        ctx.leave_round_trip()  # (as a task's questions do: they cannot end the call)
        await ctx.list_roots()
        return "unreachable"

    @server.tool()
    async def close_the_stream(ctx: Context) -> bool:
        return await ctx.close_sse_stream()

    return server


def one(server: Server) -> tuple[RequestPeer, Written]:
    written = Written()
    return server.request_peer(written), written


async def test_messages_go_out_as_made_then_the_result_and_the_runtime_closes() -> None:
    link, written = one(make_server())
    started, refused = await serve_read(
        link, link.reader.read_sessionless(request("tools/call", {"name": "chatty"}), None)
    )
    assert (started, refused) == (True, [])
    assert written.kinds == [MESSAGE, MESSAGE, RESULT]
    assert [m["params"]["data"] for _, m in written.items[:2]] == ["one", "two"]
    assert written.items[-1][1]["result"]["resultType"] == "complete"
    assert link.closed
    with pytest.raises(ConnectionClosed):
        await link.notify("notifications/message", {"level": "info", "data": "late"}, related=1)
    await link.flush()  # nothing queued, nothing sent
    assert len(written.items) == 3


async def test_errors_are_answers_and_a_crash_is_logged_not_sent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = make_server()
    link, written = one(server)
    await serve_read(
        link, link.reader.read_sessionless(request("tools/call", {"name": "refuse"}), None)
    )
    assert written.kinds == [ANSWER] and written.items[0][1]["error"]["code"] == -32602
    link, written = one(server)
    with caplog.at_level(logging.ERROR, logger="mcpkit"):
        await serve_read(
            link, link.reader.read_sessionless(request("tools/call", {"name": "crash"}), None)
        )
    (answer,) = written.items
    assert answer[1]["result"]["isError"] is True  # a tool's exception is its result
    assert "boom" in caplog.text


async def test_what_the_session_answers_itself_and_what_it_refuses() -> None:
    server = make_server()
    link, written = one(server)
    await serve_read(link, link.reader.read_sessionless(request("tools/nope"), None))
    assert written.kinds == [ANSWER] and written.items[0][1]["error"]["code"] == -32601
    link, written = one(server)
    started, refused = await serve_read(
        link, link.reader.read_sessionless(b'{"jsonrpc": "2.0", "id": 1', None)
    )
    assert not started and msgspec.json.decode(refused[0])["error"]["code"] == -32700
    assert written.items == []
    link, written = one(server)
    note = msgspec.json.encode({"jsonrpc": "2.0", "method": "notifications/initialized"})
    assert await serve_read(link, link.reader.read_sessionless(note, None)) == (False, [])
    assert written.items == []


async def test_no_request_can_go_to_the_client(caplog: pytest.LogCaptureFixture) -> None:
    link, written = one(make_server())
    with caplog.at_level(logging.ERROR, logger="mcpkit"):
        await serve_read(
            link,
            link.reader.read_sessionless(
                request("tools/call", {"name": "ask_outside_the_result"}), None
            ),
        )
    (answer,) = written.items
    assert answer[1]["result"]["isError"] is True
    # The reason, in the server's log, as a session-less request has always given it.
    assert "cannot send roots/list" in caplog.text and "has no channel back" in caplog.text
    assert "ctx.elicit()" in caplog.text
    link, written = one(make_server())
    await serve_read(
        link,
        link.reader.read_sessionless(request("tools/call", {"name": "close_the_stream"}), None),
    )
    assert written.items[-1][1]["result"]["structuredContent"] == {"result": False}
    link.answer_as_json(1)
    assert written.json


async def test_what_only_a_session_has_is_not_a_method_under_2026() -> None:
    server = make_server()

    @server.resource("file:///x")
    def x() -> str:
        return "x"

    for method in ("resources/subscribe", "resources/unsubscribe"):
        link, written = one(server)
        await serve_read(
            link, link.reader.read_sessionless(request(method, {"uri": "file:///x"}), None)
        )
        (answer,) = written.items  # (2026-07-28 has no such method: a request listens)
        assert answer[1]["error"] == {"code": -32601, "message": f"Method not found: {method}"}


async def test_cancelling_the_caller_cancels_the_handler_and_sends_nothing() -> None:
    server = Server("one-request")
    gate = asyncio.Event()
    cancelled = asyncio.Event()

    @server.tool()
    async def hang() -> str:
        gate.set()
        try:
            await asyncio.Event().wait()
        finally:
            cancelled.set()
        return "never"

    link, written = one(server)
    serving = asyncio.ensure_future(
        serve_read(
            link, link.reader.read_sessionless(request("tools/call", {"name": "hang"}), None)
        )
    )
    await gate.wait()
    serving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await serving
    assert cancelled.is_set() and link.closed and written.items == []
    assert (
        not server._request_peers.reader()._inflight
    )  # (the abandoned request left nothing there)


async def test_two_requests_under_one_id_are_served_at_once_apart() -> None:
    """Two clients may use one id at the same time: the reading session keeps nothing of
    either, so each is answered, with its own result, on its own response."""
    server = Server("one-request")
    both_in = asyncio.Barrier(2)

    @server.tool()
    async def echo(text: str) -> str:
        await both_in.wait()
        return text

    (a, wa), (b, wb) = one(server), one(server)
    async with asyncio.timeout(10):
        await asyncio.gather(
            serve_read(
                a,
                a.reader.read_sessionless(
                    request("tools/call", {"name": "echo", "arguments": {"text": "a"}}, 7), None
                ),
            ),
            serve_read(
                b,
                b.reader.read_sessionless(
                    request("tools/call", {"name": "echo", "arguments": {"text": "b"}}, 7), None
                ),
            ),
        )
    assert [m["result"]["content"][0]["text"] for _, m in wa.items] == ["a"]
    assert [m["result"]["content"][0]["text"] for _, m in wb.items] == ["b"]
    assert wa.kinds == wb.kinds == [RESULT]


async def test_the_reading_session_follows_what_the_server_declares() -> None:
    """A tool registered after the first request makes the server declare tools: the next
    request is read by a session that knows it (not one made before it existed)."""
    server = Server("one-request")

    @server.prompt()
    def hello() -> str:
        return "hi"

    peer, written = one(server)
    await serve_read(peer, peer.reader.read_sessionless(request("tools/list"), None))
    assert written.items[0][1]["error"]["code"] == -32601  # no tools declared yet

    @server.tool()
    def late() -> str:
        return "here"

    peer, written = one(server)
    await serve_read(
        peer, peer.reader.read_sessionless(request("tools/call", {"name": "late"}), None)
    )
    assert written.items[0][1]["result"]["content"][0]["text"] == "here"


async def test_an_initialize_in_a_body_leaves_the_reading_session_as_it_was() -> None:
    server = make_server()
    peer, written = one(server)
    init = msgspec.json.encode(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-11-25",
                "capabilities": {},
                "clientInfo": {"name": "c", "version": "1"},
            },
        }
    )
    await serve_read(peer, peer.reader.read_sessionless(init, None))
    assert written.kinds == [ANSWER]
    for _ in range(2):  # and the requests after it are read as before
        peer, written = one(server)
        await serve_read(
            peer, peer.reader.read_sessionless(request("tools/call", {"name": "chatty"}), None)
        )
        assert written.kinds == [MESSAGE, MESSAGE, RESULT]


async def test_the_handler_sees_the_request_as_its_client() -> None:
    server = Server("one-request")
    seen: list[Any] = []

    @server.tool()
    async def who(ctx: Context) -> str:
        session = ctx.session
        seen.append(
            (ctx.session_id, session.protocol_version, session.log_level, ctx.client_info, session)
        )
        # Nothing plays a session for a request that has none.
        assert not isinstance(session, ServerSessionHandle)
        for only_a_session in SESSION_ONLY:
            assert not hasattr(session, only_a_session), only_a_session
        with pytest.raises(LocalProtocolError, match="resources/subscribe needs a session"):
            session_of(session, "resources/subscribe")
        return "ok"

    first, _ = one(server)
    second, _ = one(server)
    meta = {**META, "io.modelcontextprotocol/clientInfo": {"name": "c", "version": "2"}}
    body = msgspec.json.encode(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "who", "_meta": meta},
        }
    )
    await serve_read(first, first.reader.read_sessionless(body, None))
    await serve_read(second, second.reader.read_sessionless(body, None))
    (id1, version, level, info, peer1), (id2, *_rest, peer2) = seen
    assert version == "2026-07-28" and level == "debug" and info is not None
    assert info.version == "2"
    # Two requests, two peers, and no session id for either: none was made up for them.
    assert peer1 is first and peer2 is second and id1 is None and id2 is None


async def test_no_body_leaves_anything_in_the_reading_session() -> None:
    """Whatever a client sends (a ping, a batch, a response to nothing, a cancel, garbage),
    the session that reads every 2026 body is left as it was."""
    server = make_server()
    bodies = [
        request("ping"),
        request("tools/call", {"name": "chatty"}),
        b'[{"jsonrpc": "2.0", "id": 1, "method": "ping"}]',
        b'{"jsonrpc": "2.0", "id": 99, "result": {}}',
        msgspec.json.encode(
            {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1}}
        ),
        b"\xff\xfe",
        b'{"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"_meta": 5}}',
    ]
    for body in bodies:
        peer, _ = one(server)
        await serve_read(peer, peer.reader.read_sessionless(body, None))
    reader = server._request_peers.reader()
    assert reader.phase == "new" and reader.terms is None
    assert not reader._inflight and not reader.data_to_send()


async def test_what_a_body_holds_besides_a_request_goes_to_no_session(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A response, a cancel or a notification posted with no session concerns nothing here:
    it is not handed to the broker as if some session in another process were owed it (with
    a shared broker, that would be a publish per POST a client can send at will)."""
    server = make_server()
    forwarded: list[object] = []
    monkeypatch.setattr(
        type(server.broker), "forward_response", lambda self, sid, ev: forwarded.append(ev)
    )
    for body in (
        b'{"jsonrpc": "2.0", "id": "p1-7", "result": {}}',
        msgspec.json.encode(
            {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 1}}
        ),
        msgspec.json.encode({"jsonrpc": "2.0", "method": "notifications/roots/list_changed"}),
    ):
        peer, written = one(server)
        assert await serve_read(peer, peer.reader.read_sessionless(body, None)) == (False, [])
        assert written.items == []
    assert forwarded == []
