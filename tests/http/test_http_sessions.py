"""Session registry rules: the cap on live sessions and idle expiry, with a fake clock, through
the app in-process (no server, no sleeps) and through the registry with plain calls."""

from __future__ import annotations

import asyncio
import gc
import tracemalloc
from typing import NoReturn

import httpx
import pytest
from _serving import INITIALIZE, ONLY_MCPKIT, WAIT, headers, open_session

from mcpkit import Server
from mcpkit.transports.http.app import McpHttpApp
from mcpkit.transports.http.sessions import MemorySessionRegistry

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


async def test_past_max_sessions_initialize_gets_503_until_one_expires() -> None:
    clock = Clock()
    app = McpHttpApp(Server("cap"), max_sessions=2, session_idle_timeout=60, clock=clock)
    async with asyncio.timeout(WAIT), in_process(app) as client:
        await open_session(client, URL)
        await open_session(client, URL)
        refused = await client.post(URL, json=INITIALIZE, headers=headers())
        assert refused.status_code == 503 and "max_sessions" in refused.json()["error"]["message"]
        clock.now += 61  # both idle: the next initialize makes room by expiring them
        await open_session(client, URL)
        assert len(app.sessions) == 1


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

        def broken(*args: object, **kwargs: object) -> NoReturn:
            raise RuntimeError("a bug in the protocol session")

        monkeypatch.setattr(session.handle.connection.session, "receive_body", broken)
        # The POST whose body broke it gets the session's end, as any later one does.
        assert (await client.post(URL, json=PING, headers=headers(sid))).status_code == 404
        assert app.sessions.get(sid) is None and len(server.sessions) == 0
        assert not session.channel.writable and session.handle.connection.closed
        assert (await client.post(URL, json=PING, headers=headers(sid))).status_code == 404
    assert "a bug in the protocol session" in caplog.text
