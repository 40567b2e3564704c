"""A request in a 2025-11-25 session over Streamable HTTP is served in its POST's own task,
as a 2026-07-28 request is (issue 40: the session is a source of terms and a router for its
streams, not the carrier of every request): the handler runs there, the peer's
`notifications/cancelled` and the session's end cancel it there without cancelling the
POST, and a request still running after the first moment has its response begun meanwhile,
so what it sends goes out before its answer. The app is driven in-process."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import msgspec
import pytest
from _inprocess import asgi_request, body_of
from _serving import INITIALIZE, WAIT, headers

from mcpkit import Context, Server
from mcpkit.transports.deployment.app import McpHttpApp
from mcpkit.transports.deployment.slow_readers import QueuedBytes
from mcpkit.transports.http._exchange import Meanwhile

_INITIALIZED = b'{"jsonrpc":"2.0","method":"notifications/initialized"}'


def call(name: str, rid: int = 2, **extra: Any) -> bytes:
    return msgspec.json.encode(
        {
            "jsonrpc": "2.0",
            "id": rid,
            "method": "tools/call",
            "params": {"name": name, "arguments": {}, **extra},
        }
    )


class Tools:
    """A server whose tools say which task served them, wait to be let go, or report
    progress before they answer."""

    def __init__(self) -> None:
        self.server = Server("session-calls")
        self.tasks: list[asyncio.Task[Any] | None] = []
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.cancelled = asyncio.Event()

        @self.server.tool()
        async def where() -> str:
            """Notes the task it runs in."""
            self.tasks.append(asyncio.current_task())
            return "here"

        @self.server.tool()
        async def wait() -> str:
            """Waits until let go."""
            self.started.set()
            try:
                await self.release.wait()
            except asyncio.CancelledError:
                self.cancelled.set()
                raise
            return "released"

        @self.server.tool()
        async def chatty(ctx: Context) -> str:
            """Reports progress 100 times (more than a stream queues), then waits."""
            for n in range(100):
                await ctx.progress(n + 1, 100)
            self.started.set()
            await self.release.wait()
            return "done"


async def post(
    app: McpHttpApp, body: bytes, sid: str | None = None
) -> tuple[list[dict[str, Any]], Mapping[bytes, bytes]]:
    async with asyncio.timeout(WAIT):
        sent = await asgi_request(app, "POST", headers(sid, host="127.0.0.1"), body)
    return sent, dict(sent[0]["headers"])


async def open_session(app: McpHttpApp) -> str:
    _, head = await post(app, msgspec.json.encode(INITIALIZE))
    sid = head[b"mcp-session-id"].decode()
    await post(app, _INITIALIZED, sid)
    return sid


@pytest.mark.parametrize("json_response", [False, True])
async def test_a_session_request_runs_in_its_posts_task(json_response: bool) -> None:
    tools = Tools()
    app = McpHttpApp(tools.server, json_response=json_response)
    sid = await open_session(app)
    sent, _ = await post(app, call("where"), sid)
    assert b'"here"' in body_of(sent)
    # `asgi_request` runs the app in this task, as a server runs it in the request's.
    assert tools.tasks == [asyncio.current_task()]


@pytest.mark.parametrize("json_response", [False, True])
async def test_only_an_answer_on_a_stream_is_charged_to_the_queued_bytes_budget(
    json_response: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An SSE answer is charged to `max_queued_bytes` while it is queued (a slow reader may
    leave it there); one JSON object is not: the task that writes it takes it as soon as it
    is queued, and what the server buffers of it counts as the connection's."""
    charged: list[int] = []
    charge = QueuedBytes.charge

    def noted(budget: QueuedBytes, reader: Any, size: int) -> None:
        charged.append(size)
        charge(budget, reader, size)

    monkeypatch.setattr(QueuedBytes, "charge", noted)
    tools = Tools()
    app = McpHttpApp(tools.server, json_response=json_response)
    sid = await open_session(app)
    charged.clear()
    sent, _ = await post(app, call("where"), sid)
    assert b'"here"' in body_of(sent)
    assert bool(charged) is not json_response
    assert not app.queued.holding  # (and none is held once it is written, either way)


@pytest.mark.parametrize("json_response", [False, True])
async def test_a_cancelled_session_request_ends_its_post_unanswered(json_response: bool) -> None:
    tools = Tools()
    app = McpHttpApp(tools.server, json_response=json_response)
    sid = await open_session(app)
    waiting = asyncio.get_running_loop().create_task(post(app, call("wait", 7), sid))
    async with asyncio.timeout(WAIT):
        await tools.started.wait()
    cancel = {"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 7}}
    sent, _ = await post(app, msgspec.json.encode(cancel), sid)
    assert sent[0]["status"] == 202
    async with asyncio.timeout(WAIT):
        answered, _ = await waiting  # the POST ends, and its task was not cancelled
        await tools.cancelled.wait()
    assert not waiting.cancelled() and b"released" not in body_of(answered)
    assert b'"result"' not in body_of(answered)
    # The id is free again: the request left the session when it was cancelled.
    tools.release.set()
    again, _ = await post(app, call("wait", 7), sid)
    assert b'"released"' in body_of(again)


async def test_an_ended_session_ends_its_running_request_and_post() -> None:
    tools = Tools()
    app = McpHttpApp(tools.server)
    sid = await open_session(app)
    waiting = asyncio.get_running_loop().create_task(post(app, call("wait"), sid))
    async with asyncio.timeout(WAIT):
        await tools.started.wait()
        deleted = await asgi_request(app, "DELETE", headers(sid, host="127.0.0.1"))
        answered, _ = await waiting
        await tools.cancelled.wait()
    assert deleted[0]["status"] == 200 and not waiting.cancelled()
    assert b'"result"' not in body_of(answered)


async def test_a_running_session_request_streams_what_it_sends_before_its_answer() -> None:
    tools = Tools()
    app = McpHttpApp(tools.server)
    sid = await open_session(app)
    progress = asyncio.Event()
    sent: list[dict[str, Any]] = []
    request = {"type": "http.request", "body": call("chatty", _meta={"progressToken": "p"})}
    pending = [{**request, "more_body": False}]
    done = asyncio.Event()

    async def receive() -> Any:
        if pending:
            return pending.pop()
        await done.wait()
        return {"type": "http.disconnect"}

    async def send(message: Any) -> None:
        sent.append(message)
        if b'"progress":100' in message.get("body", b""):
            progress.set()
        if message["type"] == "http.response.body" and not message.get("more_body"):
            done.set()

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/mcp",
        "headers": [(k.encode(), v.encode()) for k, v in headers(sid, host="127.0.0.1").items()],
        "client": ("127.0.0.1", 50000),
    }
    serving = asyncio.get_running_loop().create_task(app(scope, receive, send))
    async with asyncio.timeout(WAIT):
        # 100 progress messages out while the tool still runs: none waits for its answer.
        await progress.wait()
        assert not done.is_set()
        tools.release.set()
        await serving
    assert sent[0]["status"] == 200 and b'"done"' in body_of(sent)


async def test_meanwhile_runs_what_still_waits_and_not_what_was_taken_out() -> None:
    # What starts the response of a request still running (one timer for all of them).
    loop = asyncio.get_running_loop()
    ran: dict[str, float] = {}
    done = asyncio.Event()

    def run(key: str, value: int) -> str:
        ran[key] = loop.time()
        if len(ran) == 2:
            done.set()
        return key * value

    meanwhile = Meanwhile(0.02, run)
    added = loop.time()
    waiting = meanwhile.add("first", 1)
    timer = meanwhile.timer
    assert meanwhile.add("taken out", 2) is waiting
    assert meanwhile.timer is timer  # the turns run already: one timer
    async with asyncio.timeout(WAIT):
        await asyncio.sleep(0.01)  # a turn: what is added now goes in the next dict
        assert meanwhile.waiting is not waiting
        meanwhile.add("last", 3)
        assert waiting.pop("taken out") == 2
        await done.wait()
        assert set(ran) == {"first", "last"}
        assert meanwhile.ran == {"first": "first", "last": "lastlastlast"}
        # None runs before its time: `after` (0.02), less the clock's grain.
        assert ran["first"] - added >= 0.019 and ran["last"] - added >= 0.029
        while meanwhile.timer is not None:  # the turns stop once nothing waits
            await asyncio.sleep(0.01)
        meanwhile.add("again", 1)  # added once they stopped: armed again
        while "again" not in ran:
            await asyncio.sleep(0.01)
