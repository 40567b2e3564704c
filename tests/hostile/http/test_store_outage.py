"""A store outage never hangs a client (issue 39): with a Redis store that is hung (SIGSTOP)
or dead, every store call made inside a request has a deadline (the store URL's `?timeout=`).
A call already streaming is answered (its stream is just no longer resumable), one that needs
the store gets a JSON-RPC error, a request that needs it before a response starts (an
initialize, a session restored from its record, a resumption from the shared log) gets 503
with Retry-After and a JSON body naming the store and the setting, `/readyz` says not ready
until the store answers again, a session whose record an empty Redis lost is 404 (so its
client initializes again), and no task's exception is left unretrieved."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from _redis_server import RedisServer, redis_server_running
from _serving import INITIALIZE, headers, messages_of, open_session, serving

from mcpkit import Server
from mcpkit.stores.deadline import StoreUnavailable
from mcpkit.transports.deployment.relay import follow
from mcpkit.transports.http.sse_stream import Stream

#: The store's deadline in these tests (`?timeout=`), seconds.
TIMEOUT = 1.0
#: A bound on every outcome: the deadline and then some, never a measure.
BOUND = TIMEOUT + 10
ECHO = {
    "jsonrpc": "2.0",
    "id": 2,
    "method": "tools/call",
    "params": {"name": "echo", "arguments": {"text": "still here"}},
}
AS_TASK = {
    "jsonrpc": "2.0",
    "id": 3,
    "method": "tools/call",
    "params": {"name": "later", "arguments": {}, "task": {"ttl": 60_000}},
}
LIST = {"jsonrpc": "2.0", "id": 4, "method": "tools/list"}


def served(url: str) -> Server:
    server = Server("outage", store=url)

    @server.tool()
    def echo(text: str) -> str:
        return text

    @server.tool(task=True)
    async def later() -> str:
        return "done"

    return server


class Outage:
    """The test's own redis-server (a stopped one would stall every other test's): `hang()`
    stops it (SIGSTOP), `kill()` ends it, `resume()` lets a stopped one go on."""

    def __init__(self, server: RedisServer) -> None:
        self.server = server
        info: dict[str, Any] = redis.Redis(port=server.port).info("server")
        self.pid = int(info["process_id"])
        self.stopped = False

    @property
    def url(self) -> str:
        return f"{self.server.url}?timeout={TIMEOUT:g}"

    def hang(self) -> None:
        os.kill(self.pid, signal.SIGSTOP)
        self.stopped = True

    def resume(self) -> None:
        if self.stopped:
            os.kill(self.pid, signal.SIGCONT)
            self.stopped = False

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)
        self.stopped = False


@contextlib.contextmanager
def own_redis(folder: Path) -> Iterator[Outage]:
    with redis_server_running(folder) as server:
        outage = Outage(server)
        try:
            yield outage
        finally:
            outage.resume()  # never leave a stopped process behind


@contextlib.asynccontextmanager
async def apps(*servers: Server) -> AsyncIterator[list[str]]:
    """Each server's HTTP app served (one process each, as far as the store can tell)."""
    async with contextlib.AsyncExitStack() as stack:
        for server in servers:  # closed once every app has stopped
            stack.push_async_callback(server.store.aclose)
        yield [await stack.enter_async_context(serving(s.http_app())) for s in servers]


@contextlib.contextmanager
def watching_tasks() -> Iterator[list[str]]:
    """Collect what the loop's exception handler is told ("Task exception was never
    retrieved", among others) while the block runs; collected garbage first, at the end."""
    loop = asyncio.get_running_loop()
    found: list[str] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _, context: found.append(str(context.get("message"))))
    try:
        yield found
        gc.collect()  # a failed task nobody holds says so when it is collected
    finally:
        loop.set_exception_handler(previous)


def answer_of(response: httpx.Response, request_id: int) -> dict[str, Any]:
    (answer,) = [m for m in messages_of(response) if m.get("id") == request_id]
    return answer


async def test_a_call_while_the_store_hangs_is_answered_within_the_deadline(
    tmp_path: Path,
) -> None:
    with own_redis(tmp_path) as redis_server, watching_tasks() as unretrieved:
        async with (
            apps(served(redis_server.url)) as (base,),
            httpx.AsyncClient(timeout=BOUND) as http,
        ):
            sid = await open_session(http, f"{base}/mcp")
            redis_server.hang()
            try:
                async with asyncio.timeout(BOUND):
                    called = await http.post(f"{base}/mcp", json=ECHO, headers=headers(sid))
                    assert called.status_code == 200
                    answer = answer_of(called, 2)
                    assert answer["result"]["content"][0]["text"] == "still here"
                    # Its events were not kept: a resumption is refused, never replayed with
                    # a hole in it.
                    last = [line for line in called.text.splitlines() if line.startswith("id:")]
                    resumed = await http.get(
                        f"{base}/mcp",
                        headers=headers(sid, **{"last-event-id": last[-1][3:].strip()}),
                    )
                    assert resumed.status_code == 410

                    # A call that needs the store gets a JSON-RPC error naming its kind and
                    # the setting, not its address.
                    queued = await http.post(f"{base}/mcp", json=AS_TASK, headers=headers(sid))
                    error = answer_of(queued, 3)["error"]
                    assert "redis store does not answer" in error["message"]
                    assert "timeout setting" in error["message"]
                    assert str(redis_server.server.port) not in queued.text
            finally:
                redis_server.resume()
            assert (await http.post(f"{base}/mcp", json=ECHO, headers=headers(sid))).is_success
    assert unretrieved == []


@pytest.mark.parametrize("how", ["hung", "dead"])
async def test_a_request_needing_the_store_while_it_is_down_is_503_naming_it(
    tmp_path: Path, how: str
) -> None:
    with own_redis(tmp_path) as redis_server, watching_tasks() as unretrieved:
        here, there = served(redis_server.url), served(redis_server.url)
        async with apps(here, there) as (base, elsewhere), httpx.AsyncClient() as http:
            sid = await open_session(http, f"{base}/mcp")
            redis_server.hang() if how == "hung" else redis_server.kill()
            try:
                async with asyncio.timeout(BOUND):
                    opened = await http.post(f"{base}/mcp", json=INITIALIZE, headers=headers())
                    # The session lives elsewhere: only its record can tell this process.
                    restored = await http.post(f"{elsewhere}/mcp", json=LIST, headers=headers(sid))
            finally:
                redis_server.resume()
            for refused in (opened, restored):
                assert refused.status_code == 503
                assert int(refused.headers["retry-after"]) >= 1
                error = refused.json()["error"]
                assert error["data"]["store"] == "redis"
                assert error["data"]["setting"] == "timeout"
                assert str(redis_server.server.port) not in refused.text
            assert "mcp-session-id" not in opened.headers
            assert len(here.sessions) == 1  # the refused initialize kept no session
    assert unretrieved == []


async def test_a_session_an_empty_store_lost_is_404_and_its_client_starts_again(
    tmp_path: Path,
) -> None:
    with own_redis(tmp_path) as redis_server:
        here, there = served(redis_server.url), served(redis_server.url)
        async with apps(here, there) as (base, elsewhere), httpx.AsyncClient() as http:
            sid = await open_session(http, f"{base}/mcp")
            redis_server.hang()
            async with asyncio.timeout(BOUND):
                down = await http.post(f"{elsewhere}/mcp", json=LIST, headers=headers(sid))
            assert down.status_code == 503
            redis_server.kill()  # restarted empty, on the port the apps know
            with redis_server_running(tmp_path, redis_server.server.port):
                async with asyncio.timeout(BOUND):
                    gone = await http.post(f"{elsewhere}/mcp", json=LIST, headers=headers(sid))
                    assert gone.status_code == 404  # the spec's signal to initialize again
                    fresh = await open_session(http, f"{elsewhere}/mcp")
                    listed = await http.post(f"{elsewhere}/mcp", json=LIST, headers=headers(fresh))
                assert "echo" in str(answer_of(listed, 4)["result"])


async def test_readyz_says_not_ready_while_the_store_does_not_answer(tmp_path: Path) -> None:
    with own_redis(tmp_path) as redis_server:
        async with apps(served(redis_server.url)) as (base,), httpx.AsyncClient() as http:
            assert (await http.get(f"{base}/readyz")).status_code == 200
            redis_server.hang()
            try:
                async with asyncio.timeout(BOUND):
                    down = await http.get(f"{base}/readyz")
            finally:
                redis_server.resume()
            assert down.status_code == 503
            assert down.json() == {"status": "store unavailable"}
            assert "retry-after" in down.headers
            assert (await http.get(f"{base}/healthz")).status_code == 200
            assert (await http.get(f"{base}/readyz")).status_code == 200


async def test_a_resumption_from_the_shared_log_while_the_store_is_down_is_503(
    tmp_path: Path,
) -> None:
    with own_redis(tmp_path) as redis_server, watching_tasks() as unretrieved:
        here, there = served(redis_server.url), served(redis_server.url)
        async with apps(here, there) as (base, elsewhere), httpx.AsyncClient() as http:
            sid = await open_session(http, f"{base}/mcp")
            called = await http.post(f"{base}/mcp", json=ECHO, headers=headers(sid))
            last = [line[3:].strip() for line in called.text.splitlines() if line[:3] == "id:"]
            # The other process holds a copy of the session too, so only the log is missing.
            assert (await http.post(f"{elsewhere}/mcp", json=LIST, headers=headers(sid))).is_success
            resume = headers(sid, **{"last-event-id": last[0]})
            redis_server.hang()
            try:
                async with asyncio.timeout(BOUND):
                    down = await http.get(f"{elsewhere}/mcp", headers=resume)
            finally:
                redis_server.resume()
            assert down.status_code == 503 and "retry-after" in down.headers
            async with asyncio.timeout(BOUND):
                again = await http.get(f"{elsewhere}/mcp", headers=resume)
            assert again.status_code == 200
            assert answer_of(again, 2)["result"]["content"][0]["text"] == "still here"
    assert unretrieved == []


class DownLog:
    """An event log whose store stopped answering (`StoreUnavailable` at every read)."""

    async def append(self, stream_id: str, seq: int, data: bytes) -> None:
        raise StoreUnavailable("the store redis://h/0 did not answer within 1 s")

    async def replay_after(self, stream_id: str, seq: int) -> list[tuple[int, bytes]] | None:
        raise StoreUnavailable("the store redis://h/0 did not answer within 1 s")

    async def forget(self, stream_id: str) -> None:
        raise StoreUnavailable("the store redis://h/0 did not answer within 1 s")


async def test_a_relay_whose_log_stops_answering_ends_its_stream() -> None:
    """A stream relayed from another process's log ends when the log cannot be read, so the
    client resumes it later (503 until the store answers), instead of the relay's task dying
    and the response waiting forever."""
    stream = Stream("AAAAAAAAbbbbbbbb_1")
    async with asyncio.timeout(BOUND):
        await follow(DownLog(), stream, "AAAAAAAAbbbbbbbb_1", 0)
    assert stream.ended
