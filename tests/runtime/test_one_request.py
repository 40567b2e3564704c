"""`OneRequest`: one body served in the caller's task, each message handed to the response as
it is made, and nothing sent once the answer is out (`mcpkit.runtime.one_request`)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import msgspec
import pytest

from mcpkit import Context, Server
from mcpkit.errors import ConnectionClosed, McpError
from mcpkit.runtime.one_request import ANSWER, MESSAGE, RESULT, Kind, OneRequest

META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {},
    "io.modelcontextprotocol/logLevel": "debug",
}


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
    async def ask_directly(ctx: Context) -> str:
        await ctx.session.request("roots/list")
        return "unreachable"

    return server


def one(server: Server) -> tuple[OneRequest, Written]:
    written = Written()
    link = server.one_request(written).connection
    assert isinstance(link, OneRequest)
    return link, written


async def test_messages_go_out_as_made_then_the_result_and_the_runtime_closes() -> None:
    link, written = one(make_server())
    started, refused = await link.serve(request("tools/call", {"name": "chatty"}), None)
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
    await link.serve(request("tools/call", {"name": "refuse"}), None)
    assert written.kinds == [ANSWER] and written.items[0][1]["error"]["code"] == -32602
    link, written = one(server)
    with caplog.at_level(logging.ERROR, logger="mcpkit"):
        await link.serve(request("tools/call", {"name": "crash"}), None)
    (answer,) = written.items
    assert answer[1]["result"]["isError"] is True  # a tool's exception is its result
    assert "boom" in caplog.text


async def test_what_the_session_answers_itself_and_what_it_refuses() -> None:
    server = make_server()
    link, written = one(server)
    await link.serve(request("tools/nope"), None)
    assert written.kinds == [ANSWER] and written.items[0][1]["error"]["code"] == -32601
    link, written = one(server)
    started, refused = await link.serve(b'{"jsonrpc": "2.0", "id": 1', None)
    assert not started and msgspec.json.decode(refused[0])["error"]["code"] == -32700
    assert written.items == []
    link, written = one(server)
    note = msgspec.json.encode({"jsonrpc": "2.0", "method": "notifications/initialized"})
    assert await link.serve(note, None) == (False, [])
    assert written.items == []


async def test_no_request_can_go_to_the_client(caplog: pytest.LogCaptureFixture) -> None:
    link, written = one(make_server())
    with caplog.at_level(logging.ERROR, logger="mcpkit"):
        await link.serve(request("tools/call", {"name": "ask_directly"}), None)
    (answer,) = written.items
    assert answer[1]["result"]["isError"] is True
    assert "ctx.elicit()" in caplog.text  # the reason, in the server's log
    assert await link.close_stream(1) is False
    link.answer_as_json(1)
    assert written.json


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
    serving = asyncio.ensure_future(link.serve(request("tools/call", {"name": "hang"}), None))
    await gate.wait()
    serving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await serving
    assert cancelled.is_set() and link.closed and written.items == []
