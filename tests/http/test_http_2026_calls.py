"""A 2026-07-28 request over Streamable HTTP is served in its POST's own task, with no session
made for it (`mcpkit.server.request_peer`, `mcpkit.transports.http.own_calls`): what it sends
while it runs streams as it is made, its errors carry their status in both answer modes, a
client that hangs up cancels it, a shutdown past its grace ends it, a `Context` kept past the
answer reaches no one, and thousands of calls leave nothing behind."""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
import weakref
from typing import Any

import httpx
import msgspec
import pytest
from _inprocess import asgi_request, body_of
from _serving import WAIT, headers, messages_of, serving, small_server, sse_messages

from mcpkit import Context, Server
from mcpkit.errors import ConnectionClosed
from mcpkit.protocol.events import RequestReceived
from mcpkit.protocol.outbox import ModernRead
from mcpkit.server.request_peer import RequestPeer
from mcpkit.transports.deployment.client_caps import ClientCaps
from mcpkit.transports.http import own_calls

REVISION = "2026-07-28"


def call(name: str, arguments: dict[str, Any], rid: Any = 1, **meta: Any) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": rid,
        "method": "tools/call",
        "params": {
            "name": name,
            "arguments": arguments,
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": REVISION,
                "io.modelcontextprotocol/clientCapabilities": {},
                **meta,
            },
        },
    }


def modern(method: str = "tools/call", name: str | None = None) -> dict[str, str]:
    found = headers(**{"mcp-protocol-version": REVISION, "mcp-method": method})
    if name is not None:
        found["mcp-name"] = name
    return found


class Held:
    """What the tools below leave for the test to look at."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.cancelled = asyncio.Event()
        self.kept: list[Context] = []


def make_server(held: Held) -> Server:
    server = small_server("http-2026-calls")

    @server.tool()
    async def wait(ctx: Context) -> str:
        """Runs until released (or cancelled)."""
        held.started.set()
        try:
            await held.release.wait()
        except asyncio.CancelledError:
            held.cancelled.set()
            raise
        await ctx.log("info", "released")
        return "released"

    @server.tool()
    async def keep(ctx: Context) -> str:
        """Answers at once, keeping its Context."""
        held.kept.append(ctx)
        return "kept"

    return server


@pytest.mark.parametrize("json_response", [False, True])
async def test_progress_streams_before_the_answer_and_json_answers_carry_it_alone(
    json_response: bool,
) -> None:
    app = make_server(Held()).http_app(json_response=json_response)
    payload = call("slow", {"steps": 3}, rid="p", progressToken="t")
    async with (
        asyncio.timeout(WAIT),
        serving(app) as base,
        httpx.AsyncClient(base_url=base) as client,
    ):
        response = await client.post("/mcp", json=payload, headers=modern(name="slow"))
    assert response.status_code == 200
    found = messages_of(response)
    if json_response:
        assert response.headers["content-type"] == "application/json"
        assert [m["id"] for m in found] == ["p"]
    else:
        assert response.headers["content-type"].startswith("text/event-stream")
        progress = [m["params"]["progress"] for m in found if "method" in m]
        assert progress == [1, 2, 3] and found[-1]["id"] == "p"
    assert found[-1]["result"]["content"][0]["text"] == "3 steps"
    assert "mcp-session-id" not in response.headers


@pytest.mark.parametrize("json_response", [False, True])
async def test_errors_carry_their_status_in_either_answer_mode(json_response: bool) -> None:
    app = make_server(Held()).http_app(json_response=json_response)
    unknown = call("add", {"a": 1, "b": 2})
    unknown["method"] = "tools/nope"
    bad_args = call("add", {"a": "x"})
    async with (
        asyncio.timeout(WAIT),
        serving(app) as base,
        httpx.AsyncClient(base_url=base) as client,
    ):
        response = await client.post("/mcp", json=unknown, headers=modern("tools/nope"))
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == -32601
        response = await client.post("/mcp", json=bad_args, headers=modern(name="add"))
        # An invalid argument is a tool error (a result), not an invalid request.
        assert response.status_code == 200
        assert messages_of(response)[-1]["result"]["isError"] is True
        response = await client.post("/mcp", content=b"{not json", headers=modern())
        assert response.status_code == 400 and response.json()["error"]["code"] == -32700


async def test_a_client_that_hangs_up_cancels_its_call() -> None:
    held = Held()
    app = make_server(held).http_app()
    async with (
        asyncio.timeout(WAIT),
        serving(app) as base,
        httpx.AsyncClient(base_url=base) as client,
    ):
        post = asyncio.ensure_future(
            client.post("/mcp", json=call("wait", {}), headers=modern(name="wait"))
        )
        await held.started.wait()
        post.cancel()  # the client closes the connection: under 2026-07-28, the cancellation
        with pytest.raises(asyncio.CancelledError):
            await post
        await held.cancelled.wait()
        async with asyncio.timeout(WAIT):  # bounded: the POST's task finishes its bookkeeping
            while app._own_calls:
                await asyncio.sleep(0.01)
        assert not app._own_calls
        # The endpoint serves on.
        response = await client.post(
            "/mcp", json=call("add", {"a": 1, "b": 2}), headers=modern(name="add")
        )
        assert messages_of(response)[-1]["result"]["structuredContent"] == {"result": 3}


async def test_a_call_is_watched_at_the_second_look_after_it_began(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The watcher's timer stamps calls by its looks, not by the clock: a call that began
    since the previous look is not watched yet (a quick call never pays for a watcher), one
    that began before it is, and its client leaving then cancels it."""
    monkeypatch.setattr(own_calls, "WATCH_AFTER", 3600.0)  # the looks below are the only ones
    held = Held()
    app = make_server(held).http_app()
    gone = asyncio.Event()
    payload = msgspec.json.encode(call("wait", {}))
    pending = [{"type": "http.request", "body": payload, "more_body": False}]

    async def receive() -> Any:
        if pending:
            return pending.pop()
        await gone.wait()
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        pass

    scope = {"type": "http", "method": "POST", "path": "/mcp", "query_string": b""}
    hdrs = {**modern(name="wait"), "host": "127.0.0.1"}
    scope["headers"] = [(k.encode(), v.encode()) for k, v in hdrs.items()]
    post = asyncio.ensure_future(app(scope, receive, send))
    calls = app._own_calls
    async with asyncio.timeout(WAIT):
        await held.started.wait()
        (running,) = calls._calls()
        calls._sweep()
        assert running.watcher is None  # it began since the previous look
        calls._sweep()
        assert running.watcher is not None
        gone.set()  # the client goes: the watcher cancels the call
        await held.cancelled.wait()
        await post
    assert not calls


async def test_a_shutdown_past_its_grace_ends_a_running_call_with_no_answer() -> None:
    held = Held()
    app = make_server(held).http_app()
    payload = msgspec.json.encode(call("wait", {}))
    answer = asyncio.ensure_future(
        asgi_request(app, "POST", {**modern(name="wait"), "host": "127.0.0.1"}, payload)
    )
    async with asyncio.timeout(WAIT):
        await held.started.wait()
        app.close_streams(calls=True)
        sent = await answer
        await held.cancelled.wait()
    assert sent[0]["status"] == 200
    assert dict(sent[0]["headers"])[b"content-type"] == b"text/event-stream"
    assert sse_messages(body_of(sent).decode()) == []  # the stream ends unanswered
    assert not app._own_calls


class _Ending:
    """A server whose every request is a listen that ends when asked (`OwnCalls.let_in`)."""

    def end_listen(self, request: object) -> bool:
        return True


async def test_a_listen_ended_to_make_room_is_still_cut_at_shutdown_until_it_ends() -> None:
    """A listen `let_in` answered counts no more among its client's requests, but it is
    still served (until its answer is out, or `END_GRACE` passes): a shutdown cuts it too."""
    calls = own_calls.OwnCalls(ClientCaps(kind="requests"))
    task = asyncio.ensure_future(asyncio.sleep(WAIT))
    listen: own_calls.OwnCall = object.__new__(own_calls.OwnCall)
    listen.serving, listen.cut_off, listen.watcher = True, False, None
    listen.task, listen.request, listen.client = task, "the listen", ("address", "10.0.0.1")
    room = (listen.client, 1, "max_requests_per_address")
    assert calls.let_in(room, listen, _Ending()) is None  # type: ignore[arg-type]
    assert calls.let_in(room, "a request", _Ending()) is None  # type: ignore[arg-type]
    assert calls.count(("address", "10.0.0.1")) == 1  # the request; the listen counts no more
    assert len(calls) == 1
    calls.cut_all()
    assert listen.cut_off
    with pytest.raises(asyncio.CancelledError):
        await task
    listen.serving = False
    calls.count_out(listen.client, listen)
    assert not calls


async def test_a_call_that_ended_its_clients_one_listen_to_make_room_is_counted() -> None:
    """At a cap of one, the listen `let_in` ends was all its client had in flight: the
    call that made room is then its client's one request, counted while it runs."""
    calls = own_calls.OwnCalls(ClientCaps(kind="requests"))
    client = ("address", "10.0.0.1")
    task = asyncio.ensure_future(asyncio.sleep(WAIT))
    listen: own_calls.OwnCall = object.__new__(own_calls.OwnCall)
    listen.serving, listen.cut_off, listen.watcher = True, False, None
    listen.task, listen.request, listen.client = task, "the listen", client
    assert calls.let_in((client, 1, "max_requests_per_address"), listen, _Ending()) is None  # type: ignore[arg-type]
    started, release = asyncio.Event(), asyncio.Event()

    class Reader:
        def read_sessionless(self, body: bytes, info: object, served_by: object) -> object:
            request = RequestReceived(1, "tools/call", None, reply=served_by, peer=served_by)
            return ModernRead(request, [], [], [], True)

    async def nothing() -> None:
        return None

    class Peer:
        reader = Reader()

        def __init__(self, handle: Any) -> None:
            self.handle = handle  # (the server's, as `RequestPeer`'s)

        def begin(self, request: object) -> None:
            return None

        def answered(self, request: object, task: object, result: object, error: object) -> Any:
            return nothing, ()

        def cancelled(self, request: object, task: object) -> bool:
            return True

    class Host:
        def request_peer(self, response: object) -> Peer:
            return Peer(self.handle_request)

        async def handle_request(self, peer: object, request: object) -> None:
            started.set()  # (the request's handler, held up while the count is read)
            await release.wait()

        def end_listen(self, request: object) -> bool:
            return True

    class Agrees:
        def checked(self, read: object) -> object:
            return read

    async def receive() -> dict[str, Any]:
        await asyncio.Event().wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        return None

    room = (client, 1, "max_requests_per_address")
    host = Host()
    serving = asyncio.ensure_future(
        calls.serve(host, host.request_peer, None, b"{}", receive, send, True, room, Agrees())  # type: ignore[arg-type]
    )
    async with asyncio.timeout(WAIT):
        await started.wait()
        assert calls.count(client) == 1  # the new call, the listen counted no more
        release.set()
        await serving
    assert calls.count(client) == 0
    task.cancel()


async def test_a_context_kept_past_its_answer_reaches_no_one() -> None:
    """A handler that keeps its Context (as a task's work does) can send nothing through it
    once its request is answered, not even to another client's request with the same id."""
    held = Held()
    app = make_server(held).http_app()
    level = {"io.modelcontextprotocol/logLevel": "debug"}
    async with (
        asyncio.timeout(WAIT),
        serving(app) as base,
        httpx.AsyncClient(base_url=base) as client,
    ):
        response = await client.post(
            "/mcp", json=call("keep", {}, rid=7, **level), headers=modern(name="keep")
        )
        assert messages_of(response)[-1]["result"]["content"][0]["text"] == "kept"
        (kept,) = held.kept
        other = asyncio.ensure_future(
            client.post("/mcp", json=call("wait", {}, rid=7, **level), headers=modern(name="wait"))
        )
        await held.started.wait()
        with pytest.raises(ConnectionClosed):
            await kept.log("info", "leaked")
        await kept.progress(1, 2)  # no token, and nowhere to go: nothing, and no error
        held.release.set()
        found = messages_of(await other)
    logs = [m["params"]["data"] for m in found if m.get("method") == "notifications/message"]
    assert logs == ["released"]
    assert found[-1]["id"] == 7


async def test_many_calls_leave_nothing_behind() -> None:
    app = make_server(Held()).http_app()
    hdrs = {**modern(name="add"), "host": "127.0.0.1"}
    payloads = [msgspec.json.encode(call("add", {"a": i, "b": 1}, rid=i)) for i in range(2000)]

    async def calls(n: int) -> None:
        for payload in payloads[:n]:
            sent = await asgi_request(app, "POST", hdrs, payload)
            assert b'"structuredContent"' in body_of(sent)

    await calls(200)  # warm caches and free lists
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        await calls(2000)
        await asyncio.sleep(0)  # cancelled timers leave the loop's heap when it next runs
        gc.collect()
        left = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert not app._own_calls and not app.server.sessions and len(app.sessions) == 0
    assert not [o for o in gc.get_objects() if isinstance(o, RequestPeer)]
    assert left < 64 * 1024, left  # caches, not 2,000 calls' worth


async def test_an_answered_call_is_let_go_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A quick call's POST (its `receive`, through it uvicorn's request cycle) is freed when
    its answer is out, not kept until the watcher's next look: under load that would keep a
    few hundred requests' objects alive and push them through the garbage collector."""
    # No watcher's look in this test, however slow the machine: nothing but the end of its
    # call may let a POST go.
    monkeypatch.setattr(own_calls, "WATCH_AFTER", 3600.0)
    app = make_server(Held()).http_app()
    hdrs = {**modern(name="add"), "host": "127.0.0.1"}
    sent: list[Any] = []

    async def post(body: bytes) -> weakref.ref[Any]:
        pending = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive() -> Any:
            return pending.pop() if pending else {"type": "http.disconnect"}

        async def send(message: Any) -> None:
            sent.append(message)

        scope = {"type": "http", "method": "POST", "path": "/mcp", "query_string": b""}
        scope["headers"] = [(k.encode(), v.encode()) for k, v in hdrs.items()]
        await app(scope, receive, send)
        return weakref.ref(receive)

    released = [await post(msgspec.json.encode(call("add", {"a": i, "b": 1}))) for i in range(3)]
    assert [ref() for ref in released] == [None, None, None]
    assert b"".join(m.get("body", b"") for m in sent).count(b'"structuredContent"') == 3


_META = (
    b'"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28",'
    b'"io.modelcontextprotocol/clientCapabilities":{}}'
)


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        # not UTF-8, inside the tool's arguments
        (b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add",'
         b'"arguments":{"a":"\xff"},' + _META + b"}}", 400, -32700),
        # nested past max_json_depth (256) in the arguments
        (b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add",'
         b'"arguments":{"a":' + b"[" * 300 + b"]" * 300 + b"}," + _META + b"}}", 400, -32600),
        # cut short
        (b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{' + _META, 400, -32700),
        # terms of the wrong type
        (b'{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"add",'
         b'"_meta":{"io.modelcontextprotocol/protocolVersion":7,'
         b'"io.modelcontextprotocol/clientCapabilities":[]}}}', 400, -32602),
    ],
)  # fmt: skip
async def test_hostile_bodies_are_refused_and_the_endpoint_serves_on(
    raw: bytes, status: int, code: int
) -> None:
    """What a broken or hostile 2026 client sends reaches the one-request path: each gets its
    JSON-RPC error with its status, no handler runs, and the next call is served."""
    app = make_server(Held()).http_app()
    hdrs = {**modern(name="add"), "host": "127.0.0.1"}
    sent = await asgi_request(app, "POST", hdrs, raw)
    answer = msgspec.json.decode(body_of(sent))
    assert (sent[0]["status"], answer["error"]["code"]) == (status, code), answer
    ok = await asgi_request(app, "POST", hdrs, msgspec.json.encode(call("add", {"a": 1, "b": 2})))
    assert b'"structuredContent":{"result":3}' in body_of(ok)
    assert not app._own_calls
