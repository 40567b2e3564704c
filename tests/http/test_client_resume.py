"""Resumability as the client sees it (basic/transports, "Resumability and Redelivery";
SEP-1699): a raw ASGI server primes each SSE answer with an event id, cuts the stream, and
answers GET + Last-Event-ID with the rest. Nothing is lost, nothing comes twice, `retry` is
waited for (on a fake clock), and a request whose stream cannot be resumed fails, bounded."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest
from _client_helpers import send_json
from _serving import WAIT, serving

from mcpkit import Client, McpError
from mcpkit.testing import run_with_fake_clock
from mcpkit.transports.http_client import StreamableHttpTransport

SID = "session-1"
INIT_RESULT = {
    "protocolVersion": "2025-11-25",
    "capabilities": {"tools": {}},
    "serverInfo": {"name": "cutter", "version": "1"},
}


def event(event_id: str, message: Any = None, retry: int | None = None) -> bytes:
    data = b"" if message is None else msgspec.json.encode(message)
    head = f"id: {event_id}\n".encode() + (
        f"retry: {retry}\n".encode() if retry is not None else b""
    )
    return head + b"data: " + data + b"\n\n"


def progress(n: int) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "method": "notifications/progress",
        "params": {"progressToken": 0, "progress": n},
    }


class CuttingServer:
    """Answers tools/call with a priming event and progress 1, then cuts the stream; a GET
    with Last-Event-ID gets `parts` (lists of events), one per reconnection, in turn. A GET
    without one gets `get_status` (405: no GET stream)."""

    def __init__(self, parts: list[list[bytes] | int], *, first_retry: int | None = 0) -> None:
        self.parts = parts
        self.first_retry = first_retry
        self.last_event_ids: list[str] = []
        self.times: list[float] = []  # the loop's clock at tools/call and each resumption
        self.get_status = 405

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        if scope["method"] == "POST":
            body = b""
            while True:
                message = await receive()
                body += message.get("body", b"")
                if not message.get("more_body"):
                    break
            await self.post(msgspec.json.decode(body), send)
        elif scope["method"] == "GET":
            await self.get(headers.get("last-event-id"), send)
        else:
            await send_json(send, 200, b"")

    async def post(self, message: dict[str, Any], send: Any) -> None:
        if message.get("method") == "initialize":
            answer = {"jsonrpc": "2.0", "id": message["id"], "result": INIT_RESULT}
            await send_json_with_session(send, answer)
        elif message.get("method") == "tools/call":
            self.times.append(asyncio.get_running_loop().time())
            self.call_id = message["id"]
            self.token = message["params"]["_meta"]["progressToken"]
            first = [event("s1.0", retry=self.first_retry), event("s1.1", progress(1))]
            await sse(send, [self.fill(e) for e in first])
        else:
            await send_json(send, 202, b"")

    async def get(self, last_event_id: str | None, send: Any) -> None:
        if last_event_id is None:
            await send_json(send, self.get_status, b"")
            return
        self.times.append(asyncio.get_running_loop().time())
        self.last_event_ids.append(last_event_id)
        part = self.parts.pop(0) if self.parts else 500
        if isinstance(part, int):
            await send_json(
                send, part, b'{"jsonrpc":"2.0","id":null,"error":{"code":-1,"message":"no"}}'
            )
        else:
            await sse(send, [self.fill(e) for e in part])

    def fill(self, data: bytes) -> bytes:
        """The call's id and progress token where the canned events have placeholders."""
        data = data.replace(b'"id":"CALL"', b'"id":' + msgspec.json.encode(self.call_id))
        return data.replace(
            b'"progressToken":0', b'"progressToken":' + msgspec.json.encode(self.token)
        )


async def send_json_with_session(send: Any, answer: Any) -> None:
    body = msgspec.json.encode(answer)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"mcp-session-id", SID.encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def sse(send: Any, events: list[bytes]) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/event-stream")],
        }
    )
    for chunk in events:
        await send({"type": "http.response.body", "body": chunk, "more_body": True})
    await send({"type": "http.response.body", "body": b""})  # the cut: the stream just ends


RESULT = {"jsonrpc": "2.0", "id": "CALL", "result": {"content": [{"type": "text", "text": "done"}]}}


def rest(*events: bytes) -> list[bytes]:
    return list(events)


async def call(app: CuttingServer, **options: Any) -> tuple[str, list[float]]:
    seen: list[float] = []
    async with serving(app) as base:
        transport = StreamableHttpTransport(base + "/mcp", reconnect_delay=0.01, **options)
        async with Client(transport) as client:
            result = await client.call_tool("work", {}, progress=lambda p, t, m: seen.append(p))
    return result.text, seen


async def test_a_cut_answer_is_resumed_with_nothing_lost_and_nothing_twice() -> None:
    app = CuttingServer([rest(event("s1.2", progress(2)), event("s1.3", RESULT))])
    async with asyncio.timeout(WAIT):
        text, seen = await call(app)
    assert (text, seen) == ("done", [1, 2])
    assert app.last_event_ids == ["s1.1"]


async def test_a_server_that_polls_is_followed_until_the_answer() -> None:
    # SEP-1699: the server may close after each event; every reconnection brings one more.
    app = CuttingServer(
        [
            rest(event("s1.2", progress(2), retry=0)),
            rest(event("s1.3", None, retry=0)),  # a poll with nothing new
            rest(event("s1.4", progress(3)), event("s1.5", RESULT)),
        ]
    )
    async with asyncio.timeout(WAIT):
        text, seen = await call(app)
    assert (text, seen) == ("done", [1, 2, 3])
    assert app.last_event_ids == ["s1.1", "s1.2", "s1.3"]


def test_the_client_waits_the_retry_the_server_sent() -> None:
    app = CuttingServer([rest(event("s1.2", RESULT))], first_retry=45_000)

    async def main() -> tuple[str, list[float]]:
        async with asyncio.timeout(120):
            return await call(app)

    # On a fake clock the 45 s pass at once; the GET came no sooner (SEP-1699: MUST respect).
    # The clock jumps only after 1 s of real time with nothing to do, so no I/O wait of the
    # loaded machine is taken for idleness.
    assert run_with_fake_clock(main(), idle=1.0)[0] == "done"
    post_at, get_at = app.times
    assert get_at - post_at >= 45.0


async def test_an_answer_cut_before_any_event_id_fails_at_once() -> None:
    class NoIds(CuttingServer):
        async def post(self, message: dict[str, Any], send: Any) -> None:
            if message.get("method") == "tools/call":
                await sse(send, [b"data: " + msgspec.json.encode(progress(1)) + b"\n\n"])
            else:
                await super().post(message, send)

    app = NoIds([])
    async with asyncio.timeout(WAIT):
        with pytest.raises(McpError, match="no event id to resume from"):
            await call(app)
    assert app.last_event_ids == []


async def test_a_server_that_cannot_resume_fails_the_request_clearly() -> None:
    app = CuttingServer([405])
    async with asyncio.timeout(WAIT):
        with pytest.raises(McpError, match=r"tools/call: its SSE answer was cut, .* \(HTTP 405\)"):
            await call(app)


async def test_resuming_gives_up_after_max_reconnects_failures_in_a_row() -> None:
    app = CuttingServer([503, 503, 503])
    async with asyncio.timeout(WAIT):
        with pytest.raises(McpError, match=r"2 attempts to resume it failed .*HTTP 503"):
            await call(app, max_reconnects=2)
    assert app.last_event_ids == ["s1.1"] * 2


async def test_empty_resumptions_without_retry_are_failures_too() -> None:
    app = CuttingServer([rest(), rest(), rest()])
    async with asyncio.timeout(WAIT):
        with pytest.raises(McpError, match="ended with nothing new"):
            await call(app, max_reconnects=2)
    assert len(app.last_event_ids) == 2


async def test_a_retry_longer_than_sse_read_timeout_fails_rather_than_hangs() -> None:
    app = CuttingServer([], first_retry=10**15)
    async with asyncio.timeout(WAIT):
        with pytest.raises(
            McpError, match=r"asked for 1e\+12 s before resuming .*sse_read_timeout"
        ):
            await call(app)
    assert app.last_event_ids == []


async def test_the_get_stream_is_resumed_with_its_last_event_id() -> None:
    class Notifying(CuttingServer):
        async def get(self, last_event_id: str | None, send: Any) -> None:
            self.last_event_ids.append(last_event_id or "")
            changed = {"jsonrpc": "2.0", "method": "notifications/tools/list_changed"}
            if last_event_id is None:
                await sse(send, [event("g.0", retry=0), event("g.1", changed)])
            elif last_event_id == "g.1":
                await sse(send, [event("g.2", changed)])
            else:
                await send_json(send, 405, b"")

    app = Notifying([])
    await _hear_two_list_changed(app)
    assert app.last_event_ids[:2] == ["", "g.1"]


async def test_a_get_stream_that_cannot_be_resumed_is_opened_again() -> None:
    """410 to the GET stream's Last-Event-ID (its producer stopped, or it is past the window):
    the client opens a new GET stream, without Last-Event-ID, and hears what comes on it."""

    class Forgetting(CuttingServer):
        async def get(self, last_event_id: str | None, send: Any) -> None:
            self.last_event_ids.append(last_event_id or "")
            changed = {"jsonrpc": "2.0", "method": "notifications/tools/list_changed"}
            if last_event_id == "g.1":
                gone = b'{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"gone"}}'
                await send_json(send, 410, gone)
            elif last_event_id is None and len(self.last_event_ids) == 1:
                await sse(send, [event("g.0", retry=0), event("g.1", changed)])
            elif last_event_id is None:
                await sse(send, [event("h.0", retry=0), event("h.1", changed)])
            else:
                await send_json(send, 405, b"")

    app = Forgetting([])
    await _hear_two_list_changed(app)  # the second on the new stream
    assert app.last_event_ids[:3] == ["", "g.1", ""]


async def _hear_two_list_changed(app: CuttingServer) -> None:
    """Connect a client to `app` and wait for two tools/list_changed on its GET stream."""
    got: asyncio.Queue[str] = asyncio.Queue()
    async with asyncio.timeout(WAIT), serving(app) as base:
        transport = StreamableHttpTransport(base + "/mcp", reconnect_delay=0.01)
        async with Client(transport, on_notification=lambda method, params: got.put_nowait(method)):
            assert await got.get() == "notifications/tools/list_changed"
            assert await got.get() == "notifications/tools/list_changed"
