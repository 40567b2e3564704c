"""What a broken or malicious Streamable HTTP server sends the mcpkit client: answers of the
wrong kind, garbage, silence, bad session ids. Each fails the request it concerns with a
message that says what came, the session goes on, and nothing is left behind."""

from __future__ import annotations

import asyncio
import gzip
from typing import Any

import msgspec
import pytest
from _serving import WAIT, serving

from mcpkit import Client, ConnectionClosed, McpError, Server
from mcpkit.transports.http_client import StreamableHttpTransport
from mcpkit.transports.http_client._reading import Inbox
from mcpkit.transports.http_client._wire import is_answer, read_head, read_refusal

INIT_RESULT = {
    "protocolVersion": "2025-11-25",
    "capabilities": {"tools": {}},
    "serverInfo": {"name": "hostile", "version": "1"},
}
Answer = tuple[int, list[tuple[bytes, bytes]], list[bytes]]  # status, headers, body chunks


class Hostile:
    """Initializes normally (session id `session_id`); answers tools/call with `answer(id)`."""

    def __init__(self, answer: Any, session_id: bytes = b"s-1") -> None:
        self.answer = answer
        self.session_id = session_id

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while scope["method"] == "POST":
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        request = msgspec.json.decode(body) if body else {}
        method = request.get("method")
        if method == "initialize":
            result = {"jsonrpc": "2.0", "id": request["id"], "result": INIT_RESULT}
            headers = [(b"content-type", b"application/json"), (b"mcp-session-id", self.session_id)]
            status, chunks = 200, [msgspec.json.encode(result)]
        elif method == "tools/call":
            status, headers, chunks = self.answer(request["id"])
        elif method == "ping":
            pong = msgspec.json.encode({"jsonrpc": "2.0", "id": request["id"], "result": {}})
            status, headers, chunks = 200, [(b"content-type", b"application/json")], [pong]
        else:
            status, headers, chunks = (405 if scope["method"] == "GET" else 202), [], [b""]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        for chunk in chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await asyncio.sleep(0)
        await send({"type": "http.response.body", "body": b""})


BOMB = gzip.compress(b"data: " + b"x" * (32 * 1024 * 1024) + b"\n\n")  # 32 KiB, 32 MiB inflated


def result(rid: Any) -> bytes:
    content = {"content": [{"type": "text", "text": "fine"}]}
    return msgspec.json.encode({"jsonrpc": "2.0", "id": rid, "result": content})


SSE = [(b"content-type", b"text/event-stream")]


def sse(*events: bytes) -> list[bytes]:
    return [b"data: " + e + b"\n\n" for e in events]


async def call(app: Hostile, **options: Any) -> str:
    async with serving(app) as base:
        transport = StreamableHttpTransport(base + "/mcp", reconnect_delay=0.01, **options)
        async with Client(transport) as client:
            try:
                return (await client.call_tool("t", {})).text
            finally:
                await client.ping()  # the session goes on
                await settled(transport)


async def settled(transport: StreamableHttpTransport) -> None:
    """Once the POST tasks have ended (a task ends just after its answer was handed on),
    nothing is left of the requests (private attributes: this is what leaks would be)."""
    if transport._tasks:
        await asyncio.wait(transport._tasks, timeout=WAIT)
    assert transport._requests == {}
    assert transport._tasks == set()


CASES: dict[str, tuple[Any, str]] = {
    "html": (
        lambda rid: (200, [(b"content-type", b"text/html")], [b"<p>hi</p>"]),
        "answered HTTP 200 OK: an HTML page (not an MCP endpoint",
    ),
    "no type": (lambda rid: (200, [], [result(rid)]), "Content-Type '(none)'"),
    "202 for a request": (lambda rid: (202, [], [b""]), "202 Accepted with no body"),
    "json not the answer": (
        lambda rid: (200, [(b"content-type", b"application/json")], [result(rid + 1)]),
        "JSON answer is not its response",
    ),
    "json garbage": (
        lambda rid: (200, [(b"content-type", b"application/json")], [b"\xff{{{"]),
        "not its response",
    ),
    "sse ends without the answer or an id": (
        lambda rid: (200, SSE, sse(b"not json", b'{"jsonrpc":"2.0","method":"x"}')),
        "no event id to resume from",
    ),
    "sse line over the limit": (
        lambda rid: (200, SSE, [b"data: " + b"x" * 5000 + b"\n\n"]),
        "longer than 4096 bytes",
    ),
    "sse line without end over the limit": (
        lambda rid: (200, SSE, [b"x" * 1000] * 10),
        "longer than 4096 bytes",
    ),
    # Issue 19's class "inflated before the limit": httpx inflates a gzip chunk whole, up to
    # a thousand times its size, before a limit of ours could count it. Never inflated.
    "sse compressed": (
        lambda rid: (200, [*SSE, (b"content-encoding", b"gzip")], [BOMB]),
        "compressed (gzip)",
    ),
    "json compressed": (
        lambda rid: (
            200,
            [(b"content-type", b"application/json"), (b"content-encoding", b"gzip")],
            [BOMB],
        ),
        "compressed (gzip)",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_a_bad_answer_fails_its_request_and_says_what_came(case: str) -> None:
    answer, expected = CASES[case]
    async with asyncio.timeout(WAIT):
        with pytest.raises(McpError) as info:
            await call(Hostile(answer), max_message_size=4096)
    assert expected in info.value.message and "tools/call" in info.value.message


async def test_garbage_and_foreign_events_around_the_answer_are_survived() -> None:
    def answer(rid: Any) -> Answer:
        chunks = [
            b": a comment\n\n",
            b"event: other\ndata: {}\n\n",  # not a message event: skipped
            b"data: not json\n\n",  # goes to the session, which drops it
            b'data: {"jsonrpc":"2.0","id":"x","result":{}}\n\n',  # an unknown id: ignored
            b"\xef\xbb\xbfretry: x\n\n",
            b"data: " + result(rid) + b"\r\n\r\n",
        ]
        return 200, SSE, chunks

    async with asyncio.timeout(WAIT):
        assert await call(Hostile(answer)) == "fine"


async def test_a_silent_stream_is_taken_as_dropped_after_sse_read_timeout() -> None:
    class Silent(Hostile):
        async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
            if scope["type"] == "http" and scope["method"] == "POST":
                body = (await receive()).get("body", b"")
                if b"tools/call" in body:
                    await send({"type": "http.response.start", "status": 200, "headers": SSE})
                    await send(
                        {"type": "http.response.body", "body": b"id: e1\n\n", "more_body": True}
                    )
                    await asyncio.Event().wait()  # silence, until the client goes
                    return

                async def again() -> dict[str, Any]:
                    return {"type": "http.request", "body": body}

                await super().__call__(scope, again, send)
                return
            await super().__call__(scope, receive, send)

    async with asyncio.timeout(WAIT):
        # Taken as dropped: resumed with GET (which this server refuses).
        with pytest.raises(McpError, match=r"answer was cut, and the server offers no GET"):
            await call(Silent(None), sse_read_timeout=0.2)


@pytest.mark.parametrize("sid", [b"has space", b"\x7f", b"x" * 2000])
async def test_a_session_id_that_is_not_visible_ascii_fails_connect(sid: bytes) -> None:
    hostile = Hostile(lambda rid: None, sid)
    async with asyncio.timeout(WAIT), serving(hostile, http="h11") as base:
        with pytest.raises(ConnectionClosed, match="visible ASCII"):
            async with Client(base + "/mcp"):
                pass


async def test_many_calls_leave_no_task_or_route_behind() -> None:
    server = Server("plain")

    @server.tool()
    def echo(n: int) -> int:
        return n

    async with asyncio.timeout(WAIT * 3), serving(server.http_app()) as base:
        transport = StreamableHttpTransport(base + "/mcp")
        async with Client(transport) as client:
            results = await asyncio.gather(
                *(client.call_tool("echo", {"n": i}) for i in range(200))
            )
            assert [r.structured_content for r in results] == [{"result": i} for i in range(200)]
            await client.ping()
            await settled(transport)


async def test_the_inbox_holds_a_bounded_number_of_messages() -> None:
    inbox = Inbox(limit=3)
    for i in range(3):
        await inbox.put(b"%d" % i)
    blocked = asyncio.create_task(inbox.put(b"3"))
    await asyncio.sleep(0)
    assert not blocked.done()  # a full inbox stops the stream that reads into it
    assert await inbox.get() == b"0"
    await asyncio.wait_for(blocked, WAIT)
    inbox.end(ConnectionClosed("closed"))
    with pytest.raises(ConnectionClosed):
        await inbox.get()


def test_the_wire_helpers_never_raise_on_what_a_peer_sends() -> None:
    for data in [b"", b"[]", b"\xff", b"[" * 10_000, b'{"id": {"x": 1}}', b"null", b"1e999"]:
        assert read_head(data).id is None
        assert not is_answer(data, 1)
        assert read_refusal(data)[0]
    assert not is_answer(b'{"jsonrpc":"2.0","id":"1","result":{}}', 1)  # "1" is not 1
    assert is_answer(b'{"jsonrpc":"2.0","id":1,"error":{"code":1,"message":"m"}}', 1)
    assert not is_answer(b'{"jsonrpc":"2.0","id":1,"method":"ping"}', 1)  # the server's own
    head = read_head(
        b'{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7}}'
    )
    assert head.cancels == 7 and not head.is_request
