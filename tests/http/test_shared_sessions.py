"""Two apps (two processes, as far as the store and the broker can tell) sharing a Redis
store serve one 2025-11-25 session: what a request to one changes in the session's record
(the log level, a subscription) reaches the copy the other holds, through the broker's
SESSION_CHANGED, a DELETE served by one ends the copy the other holds, a cancel sent
to one stops the call the other runs, news either announces reaches the stream the other
holds, and a rate limit counts the requests both serve."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from _redis_server import RedisServer
from _serving import ACCEPT, VERSION, WAIT, serving

from mcpkit import Client, Context, Server
from mcpkit.errors import McpError
from mcpkit.server.middleware.rate_limit import RATE_LIMITED, RateLimit
from mcpkit.transports.deployment.app import McpHttpApp
from mcpkit.transports.deployment.relay import STOPPED as STOPPED_CALL
from mcpkit.transports.http.stream_storing import session_tag

STOPPED: dict[str, asyncio.Event] = {}


def notes(url: str) -> Server:
    server = Server("notes", store=url)

    @server.resource("notes://today")
    def today() -> str:
        return "nothing yet"

    @server.tool()
    def echo(text: str) -> str:
        return text

    @server.tool()
    async def count(n: int, ctx: Context) -> str:
        for i in range(1, n + 1):
            await ctx.progress(i, total=n)
            await asyncio.sleep(0.05)
        return f"counted {n}"

    @server.tool()
    async def wait(name: str) -> str:
        try:
            await asyncio.sleep(600)
        finally:
            STOPPED[name].set()
        return "never"

    return server


def of_session(sid: str) -> dict[str, str]:
    """The headers of a POST or GET of session `sid`, as its client sends them."""
    return {"accept": ACCEPT, "mcp-session-id": sid, "mcp-protocol-version": VERSION}


@dataclass
class Two:
    """Two apps of the `notes` server on one Redis database: two processes, as far as the
    store and the broker can tell."""

    here: Server
    there: Server
    app_here: McpHttpApp
    base_here: str
    base_there: str
    app_there: McpHttpApp


@contextlib.asynccontextmanager
async def two_processes(redis_server: RedisServer, db: int) -> AsyncIterator[Two]:
    url = f"redis://127.0.0.1:{redis_server.port}/{db}"
    here, there = notes(url), notes(url)
    app_here, app_there = here.http_app(), there.http_app()
    try:
        async with serving(app_here) as base_here, serving(app_there) as base_there:
            yield Two(here, there, app_here, base_here, base_there, app_there)
    finally:
        await here.store.aclose()
        await there.store.aclose()


async def until(check: Callable[[], bool]) -> None:
    for _ in range(int(WAIT / 0.02)):  # bounded: WAIT seconds
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("not within the wait")


async def test_a_change_made_through_one_process_reaches_the_others_copy(
    redis_server: RedisServer,
) -> None:
    async with (
        asyncio.timeout(WAIT * 2),
        two_processes(redis_server, 6) as two,
        httpx.AsyncClient() as http,
    ):
        async with Client(f"{two.base_here}/mcp", protocol="2025-11-25") as client:
            sid = client.session_id
            assert sid is not None
            (held,) = two.here.sessions

            async def post_there(method: str, params: dict[str, object]) -> int:
                answer = await http.post(
                    f"{two.base_there}/mcp",
                    json={"jsonrpc": "2.0", "id": 9, "method": method, "params": params},
                    headers=of_session(sid),
                )
                return answer.status_code

            assert await post_there("logging/setLevel", {"level": "error"}) == 200
            await until(lambda: held.log_level == "error")
            assert await post_there("resources/subscribe", {"uri": "notes://today"}) == 200
            await until(lambda: held.subscriptions == {"notes://today"})

            ended = await http.delete(
                f"{two.base_there}/mcp",
                headers={"mcp-session-id": sid, "mcp-protocol-version": VERSION},
            )
            assert ended.status_code == 200
            await until(lambda: two.app_here.sessions.get(sid) is None)
            assert two.here.sessions == set()


async def test_a_cancel_sent_to_one_process_stops_the_call_another_runs(
    redis_server: RedisServer,
) -> None:
    STOPPED["a"] = asyncio.Event()
    sent: list[bytes] = []
    async with (
        asyncio.timeout(WAIT * 2),
        two_processes(redis_server, 7) as two,
        httpx.AsyncClient() as http,
        Client(
            f"{two.base_here}/mcp",
            protocol="2025-11-25",
            on_message=lambda way, data: sent.append(data) if way == "sent" else None,
        ) as client,
    ):
        call = asyncio.get_running_loop().create_task(client.call_tool("wait", {"name": "a"}))
        await until(lambda: any(b'"tools/call"' in m for m in sent))
        (raw,) = [m for m in sent if b'"tools/call"' in m]
        request_id = json.loads(raw)["id"]
        cancelled = await http.post(
            f"{two.base_there}/mcp",
            json={
                "jsonrpc": "2.0",
                "method": "notifications/cancelled",
                "params": {"requestId": request_id, "reason": "changed my mind"},
            },
            headers=of_session(str(client.session_id)),
        )
        assert cancelled.status_code == 202
        await asyncio.wait_for(STOPPED["a"].wait(), WAIT)  # stopped where it ran
        call.cancel()


async def test_news_announced_by_one_process_reaches_a_stream_another_holds(
    redis_server: RedisServer,
) -> None:
    got: asyncio.Queue[str] = asyncio.Queue()
    async with (
        asyncio.timeout(WAIT * 2),
        two_processes(redis_server, 8) as two,
        httpx.AsyncClient() as http,
        Client(
            f"{two.base_here}/mcp",
            protocol="2025-11-25",
            on_notification=lambda method, params: got.put_nowait(method),
        ) as client,  # its GET stream is held here
    ):
        subscribed = await http.post(
            f"{two.base_there}/mcp",  # the subscription goes to the other process
            json={
                "jsonrpc": "2.0",
                "id": 5,
                "method": "resources/subscribe",
                "params": {"uri": "notes://today"},
            },
            headers=of_session(str(client.session_id)),
        )
        assert subscribed.status_code == 200
        (held,) = two.here.sessions
        await until(lambda: held.subscriptions == {"notes://today"})

        two.there.add_tool(lambda: "hi", name="hello")  # announced by the other process
        assert await asyncio.wait_for(got.get(), WAIT) == "notifications/tools/list_changed"
        await two.there.notify_resource_updated("notes://today")
        assert await asyncio.wait_for(got.get(), WAIT) == "notifications/resources/updated"


async def test_a_rate_limit_counts_across_processes_through_the_store(
    redis_server: RedisServer,
) -> None:
    async with asyncio.timeout(WAIT * 2), two_processes(redis_server, 10) as two:
        for server in (two.here, two.there):
            server.add_middleware(RateLimit(0.001, 2, methods={"tools/call"}))
        async with (
            Client(f"{two.base_here}/mcp") as first,  # 2026-07-28: the bucket is the address
            Client(f"{two.base_there}/mcp") as second,
        ):
            await first.call_tool("echo", {"text": "1"})
            await second.call_tool("echo", {"text": "2"})
            with pytest.raises(McpError) as refused:
                await first.call_tool("echo", {"text": "3"})  # the third, whichever process
            assert refused.value.code == RATE_LIMITED


async def _events(lines: AsyncIterator[str]) -> AsyncIterator[tuple[str, str]]:
    """(id, data) of each SSE event with data."""
    event_id, data = "", ""
    async for line in lines:
        if line.startswith("id:"):
            event_id = line[3:].strip()
        elif line.startswith("data:"):
            data = line[5:].strip()
        elif not line and data:
            yield event_id, data
            event_id, data = "", ""


async def test_a_stream_resumed_on_another_process_replays_then_follows_it(
    redis_server: RedisServer,
) -> None:
    async with (
        asyncio.timeout(WAIT * 2),
        two_processes(redis_server, 11) as two,
        httpx.AsyncClient(timeout=WAIT) as http,
        Client(f"{two.base_here}/mcp", protocol="2025-11-25") as client,
    ):
        headers = of_session(str(client.session_id))
        call = {
            "jsonrpc": "2.0",
            "id": 7,
            "method": "tools/call",
            "params": {"name": "count", "arguments": {"n": 10}, "_meta": {"progressToken": "p"}},
        }
        async with http.stream("POST", f"{two.base_here}/mcp", json=call, headers=headers) as cut:
            first_id, first = await anext(_events(cut.aiter_lines()))  # then the client is cut
        assert json.loads(first)["params"]["progress"] == 1
        # The other copy answers a call of its own first: it holds streams too (in this one
        # process, with the same process tag), and still knows the cut one is not its own.
        echo = {**call, "id": 8, "params": {"name": "echo", "arguments": {"text": "hi"}}}
        assert (await http.post(f"{two.base_there}/mcp", json=echo, headers=headers)).is_success

        resumed = {**headers, "last-event-id": first_id}
        got: list[tuple[str, dict[str, Any]]] = []
        async with http.stream("GET", f"{two.base_there}/mcp", headers=resumed) as again:
            assert again.status_code == 200
            async for event_id, data in _events(again.aiter_lines()):
                got.append((event_id, json.loads(data)))
        # Every event after the cut, none twice, numbered as the producer numbered them, and
        # the response last: it ended the relayed stream.
        stream, _, n = first_id.rpartition(".")
        assert [event_id for event_id, _ in got] == [
            f"{stream}.{i}" for i in range(int(n) + 1, int(n) + 11)
        ]
        assert [m["params"]["progress"] for _, m in got[:-1]] == list(range(2, 11))
        assert got[-1][1]["result"]["content"][0]["text"] == "counted 10"

        # Another session's stream is no stream of this one, wherever it is resumed.
        async with Client(f"{two.base_there}/mcp", protocol="2025-11-25") as other:
            foreign = {
                **headers,
                "mcp-session-id": str(other.session_id),
                "last-event-id": first_id,
            }
            assert (await http.get(f"{two.base_there}/mcp", headers=foreign)).status_code == 410


async def test_a_shutdown_ends_the_streams_it_relays_at_once(redis_server: RedisServer) -> None:
    """A process relaying a call's stream that another one produces begins to shut down: the
    relay ends at once with a `retry`, for the client to resume it on a process that goes
    on serving, rather than holding the shutdown for the calls' grace (the call runs on)."""
    async with (
        asyncio.timeout(WAIT * 2),
        two_processes(redis_server, 13) as two,
        httpx.AsyncClient(timeout=WAIT) as http,
        Client(f"{two.base_here}/mcp", protocol="2025-11-25") as client,
    ):
        headers = of_session(str(client.session_id))
        call = {
            "jsonrpc": "2.0",
            "id": 9,
            "method": "tools/call",
            "params": {"name": "count", "arguments": {"n": 6000}, "_meta": {"progressToken": "p"}},
        }  # five minutes of progress: it outlives the test unless the relay ends by itself
        async with http.stream("POST", f"{two.base_here}/mcp", json=call, headers=headers) as cut:
            first_id, _ = await anext(_events(cut.aiter_lines()))  # then the client is cut
        resumed = {**headers, "last-event-id": first_id}
        async with http.stream("GET", f"{two.base_there}/mcp", headers=resumed) as relayed:
            assert relayed.status_code == 200
            lines = relayed.aiter_lines()
            await anext(_events(lines))  # the relay follows the producer
            two.app_there.close_streams()  # what a SIGTERM to `there` does first
            rest = [line async for line in lines]
        assert any(line.startswith("retry:") for line in rest), rest
        assert not any('"result"' in line for line in rest)  # the call goes on, elsewhere


async def test_a_forged_stream_of_a_process_that_never_ran_ends_at_once(
    redis_server: RedisServer,
) -> None:
    """A Last-Event-ID made up by the client, with its own session's tag, a producer that
    never ran and a request id of its choosing: the relay finds nothing in the log, no lease
    for the producer, and answers that request id with the error of a stopped process, to
    this session alone; one past what the log could hold is 410, and so is a GET stream of
    that process with nothing to replay."""
    async with (
        asyncio.timeout(WAIT * 2),
        two_processes(redis_server, 12) as two,
        httpx.AsyncClient(timeout=WAIT) as http,
        Client(f"{two.base_here}/mcp", protocol="2025-11-25") as client,
    ):
        sid = str(client.session_id)
        forged = session_tag(sid) + "ZZZZZZZZ_9_" + base64.urlsafe_b64encode(b'"mine"').decode()
        headers = {**of_session(sid), "last-event-id": f"{forged.rstrip('=')}.0"}
        got: list[dict[str, Any]] = []
        async with http.stream("GET", f"{two.base_there}/mcp", headers=headers) as relayed:
            assert relayed.status_code == 200
            async for _, data in _events(relayed.aiter_lines()):
                got.append(json.loads(data))
        assert got == [
            {"jsonrpc": "2.0", "id": "mine", "error": {"code": -32603, "message": STOPPED_CALL}}
        ]
        late = {**headers, "last-event-id": f"{forged.rstrip('=')}.5"}
        assert (await http.get(f"{two.base_there}/mcp", headers=late)).status_code == 410
        # A GET stream of a process that stopped, nothing left of it: 410 at once, so the
        # client opens a new GET stream rather than follow an empty one.
        get_stream = {**headers, "last-event-id": f"{session_tag(sid)}ZZZZZZZZ_3.0"}
        assert (await http.get(f"{two.base_there}/mcp", headers=get_stream)).status_code == 410
