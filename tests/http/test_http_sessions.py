"""Session registry rules: the cap on live sessions and idle expiry, with a fake clock, through
the app in-process (no server, no sleeps) and through the registry with plain calls."""

from __future__ import annotations

import asyncio
import gc
import tracemalloc

import httpx
import pytest
from _serving import INITIALIZE, ONLY_MCPKIT, WAIT, headers, open_session, serving

from mcpkit import Server
from mcpkit.protocol.events import RequestInfo
from mcpkit.protocol.outbox import BodyRead
from mcpkit.protocol.receiving import Receiving
from mcpkit.runtime.connection import Connection
from mcpkit.transports.deployment.app import McpHttpApp
from mcpkit.transports.http.live_sessions import MemorySessionRegistry

URL = "http://127.0.0.1/mcp"
PING = {"jsonrpc": "2.0", "id": 5, "method": "ping"}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Idle:
    def __init__(self, since: float | None) -> None:
        self.idle_since = since

    async def end(self) -> None:
        self.idle_since = None


def test_the_registry_caps_live_sessions() -> None:
    registry: MemorySessionRegistry[Idle] = MemorySessionRegistry(max_sessions=2, idle_timeout=5)
    assert registry.add("a", Idle(0)) and registry.add("b", Idle(0))
    assert registry.full() and not registry.add("c", Idle(0))
    assert registry.get("c") is None and len(registry) == 2
    assert registry.remove("a") is not None and registry.add("c", Idle(0))


def test_only_sessions_idle_for_the_timeout_expire() -> None:
    registry: MemorySessionRegistry[Idle] = MemorySessionRegistry(max_sessions=9, idle_timeout=5)
    registry.add("old", Idle(10))
    registry.add("new", Idle(14))
    registry.add("busy", Idle(None))  # serving a request or streaming: never expires
    assert [sid for sid, _ in registry.expired(15)] == ["old"]
    assert sorted(sid for sid, _ in registry.expired(1e9)) == ["new", "old"]
    assert len(registry) == 3  # expired() only lists; the app ends and removes


def in_process(app: McpHttpApp) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app))


async def test_an_idle_session_expires_and_then_gets_404() -> None:
    clock = Clock()
    server = Server("idle")
    app = McpHttpApp(server, session_idle_timeout=60, clock=clock)
    async with asyncio.timeout(WAIT), in_process(app) as client:
        sid = await open_session(client, URL)
        clock.now += 59
        assert await app.expire_idle() == 0
        assert (await client.post(URL, json=PING, headers=headers(sid))).status_code == 200
        clock.now += 59  # the ping restarted the idle time
        assert await app.expire_idle() == 0
        clock.now += 2
        assert await app.expire_idle() == 1
        assert len(app.sessions) == 0 and len(server.sessions) == 0
        assert (await client.post(URL, json=PING, headers=headers(sid))).status_code == 404


def test_the_longest_idle_session_is_the_one_to_end_when_full() -> None:
    registry: MemorySessionRegistry[Idle] = MemorySessionRegistry(max_sessions=9, idle_timeout=5)
    assert registry.longest_idle() is None
    registry.add("busy", Idle(None))  # a request running or a stream connected
    assert registry.longest_idle() is None
    registry.add("recent", Idle(14))
    registry.add("oldest", Idle(10))
    found = registry.longest_idle()
    assert found is not None and found[0] == "oldest"


async def test_past_max_sessions_initialize_ends_the_longest_idle_session() -> None:
    # Clients that never send DELETE (the official Inspector's CLI) must not lock others out
    # for the idle timeout: a full server ends the session idle the longest.
    clock = Clock()
    app = McpHttpApp(Server("cap"), max_sessions=2, session_idle_timeout=1800, clock=clock)
    async with asyncio.timeout(WAIT), in_process(app) as client:
        first = await open_session(client, URL)
        clock.now += 1
        second = await open_session(client, URL)
        clock.now += 1
        third = await open_session(client, URL)
        assert len(app.sessions) == 2
        assert (await client.post(URL, json=PING, headers=headers(first))).status_code == 404
        for live in (second, third):
            assert (await client.post(URL, json=PING, headers=headers(live))).status_code == 200


async def test_past_max_sessions_with_every_session_busy_initialize_gets_503() -> None:
    server = Server("busy")
    release = asyncio.Event()

    @server.tool()
    async def hold() -> str:
        await release.wait()
        return "done"

    app = McpHttpApp(server, max_sessions=2)
    call = {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "hold"}}
    async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as client:
        url = base + "/mcp"
        held = [await open_session(client, url) for _ in range(2)]
        calls = [
            asyncio.create_task(client.post(url, json=call, headers=headers(sid))) for sid in held
        ]
        while any(s.idle_since is not None for _, s in app.sessions.items()):
            await asyncio.sleep(0.01)  # bounded by the timeout above
        refused = await client.post(url, json=INITIALIZE, headers=headers())
        assert refused.status_code == 503 and refused.headers["retry-after"] == "5"
        assert "mcp-session-id" not in refused.headers
        assert "max_sessions" in refused.json()["error"]["message"]
        release.set()
        assert all(r.status_code == 200 for r in await asyncio.gather(*calls))
        await open_session(client, url)  # idle again: the longest idle makes room


async def test_sessions_opened_and_deleted_return_their_memory() -> None:
    app = McpHttpApp(Server("memory"))
    ours = ONLY_MCPKIT  # not the HTTP client's own caches, nor uvicorn's
    async with asyncio.timeout(25), in_process(app) as client:
        for _ in range(20):  # warm caches and free lists
            await client.delete(URL, headers=headers(await open_session(client, URL)))
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.take_snapshot().filter_traces(ours)
            for _ in range(300):
                await client.delete(URL, headers=headers(await open_session(client, URL)))
            gc.collect()
            after = tracemalloc.take_snapshot().filter_traces(ours)
        finally:
            tracemalloc.stop()
    assert len(app.sessions) == 0
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    # A live session holds about 15 KB: 300 leaked ones would be over 4 MB.
    assert grown < 16 * 1024, grown


async def test_a_session_whose_runtime_fails_is_forgotten(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    server = Server("ends")
    app = McpHttpApp(server)
    async with asyncio.timeout(WAIT), in_process(app) as client:
        sid = await open_session(client, URL)
        session = app.sessions.get(sid)
        assert session is not None

        broken_part = session.handle.connection.session.receiving
        read_body = Receiving.receive_body

        def broken(part: Receiving, data: bytes, info: RequestInfo | None = None) -> BodyRead:
            if part is broken_part:
                raise RuntimeError("a bug in the protocol session")
            return read_body(part, data, info)

        # (on the class: the part has slots; the app's other sessions read as before)
        monkeypatch.setattr(Receiving, "receive_body", broken)
        # The POST whose body broke it gets the session's end, as any later one does.
        assert (await client.post(URL, json=PING, headers=headers(sid))).status_code == 404
        assert app.sessions.get(sid) is None and len(server.sessions) == 0
        assert not session.writable and session.handle.connection.closed
        assert (await client.post(URL, json=PING, headers=headers(sid))).status_code == 404
    assert "a bug in the protocol session" in caplog.text


async def test_a_live_session_is_one_object_its_connection_writes_to() -> None:
    """The registry's entry, the session and the channel its connection writes to are one
    object: nothing binds a session to its channel but the session itself."""
    server = Server("s")
    app = server.http_app()
    async with asyncio.timeout(WAIT), app.lifespan(), in_process(app) as client:
        sid = await open_session(client, URL)
        session = app.sessions.get(sid)
        assert session is not None
        connection = session.handle.connection
        assert isinstance(connection, Connection) and connection.channel is session
        assert session.session_id == sid and session.revision == "2025-11-25"
        assert app.sessions.get(sid) is session
