"""A session copy that changed nothing keeps its record alive (a quarter of the idle timeout
after the last write) with the store's `touch`, for every session store mcpkit ships: no
write of the record, so what another process wrote into it stays, even a write that lands
right after the copy last read it. (Before `touch`, the copy read the record and wrote it
back, and a write landing between the two was undone.) And a copy whose session another
process ended, its news not yet here, never writes the record back: the store remembers
the sessions it deleted (`RememberingSessionStore`), and the copy ends too."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from _redis_server import RedisServer
from _serving import WAIT, headers, open_session, serving
from redis.asyncio import Redis

from mcpkit import Server
from mcpkit.stores.redis import RedisSessionStore
from mcpkit.stores.sessions import (
    MemorySessionStore,
    RememberingSessionStore,
    SessionRecord,
    TouchableSessionStore,
)
from mcpkit.stores.sqlite import SqliteDatabase, SqliteSessionStore
from mcpkit.transports.deployment.app import McpHttpApp


class Interleaved:
    """`kept`, with what another process writes run right after this process's next read
    of a record (`get` or `touch`) answers, before anything else this process does: the
    window between a read and a write back. Counts this process's writes."""

    def __init__(self, kept: TouchableSessionStore) -> None:
        self.kept = kept
        self.puts = 0
        self.meanwhile: Callable[[], Awaitable[None]] | None = None

    async def _after_read(self) -> None:
        write, self.meanwhile = self.meanwhile, None
        if write is not None:
            await write()

    async def put(self, record: SessionRecord) -> None:
        self.puts += 1
        await self.kept.put(record)

    async def get(self, session_id: str) -> SessionRecord | None:
        found = await self.kept.get(session_id)
        await self._after_read()
        return found

    async def touch(self, session_id: str, seen: float) -> SessionRecord | None:
        found = await self.kept.touch(session_id, seen)
        await self._after_read()
        return found

    async def delete(self, session_id: str) -> None:
        await self.kept.delete(session_id)

    async def expire(self, before: float) -> list[str]:
        return await self.kept.expire(before)


@asynccontextmanager
async def store_of(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[RememberingSessionStore]:
    """A store of `kind`, as a deployment has it, released after the test."""
    if kind == "memory":
        yield MemorySessionStore()
    elif kind == "sqlite":
        db = SqliteDatabase(tmp_path / "state.db")
        try:
            yield SqliteSessionStore(db)
        finally:
            await db.aclose()
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        client = Redis.from_url(server.url)
        prefix = f"test-{secrets.token_hex(6)}:"
        try:
            yield RedisSessionStore(client, prefix=prefix)
        finally:
            keys = [key async for key in client.scan_iter(match=prefix + "*", count=1000)]
            if keys:
                await client.delete(*keys)
            await client.aclose()


@pytest.mark.parametrize("kind", ["memory", "sqlite", "redis"])
async def test_a_write_landing_after_the_copy_read_its_record_survives_its_keep_alive(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    async with store_of(kind, tmp_path, request) as kept:
        store = Interleaved(kept)
        app = Server("notes", "1").http_app(session_store=store)
        async with asyncio.timeout(WAIT), serving(app) as base, httpx.AsyncClient() as http:
            url = f"{base}/mcp"
            sid = await open_session(http, url)
            copy = app.sessions.get(sid)
            assert copy is not None
            assert copy.handle.record.log_level is None

            async def another_process_sets_the_level() -> None:  # (its news not here yet)
                elsewhere = await kept.get(sid)
                assert elsewhere is not None
                elsewhere.log_level = "error"
                elsewhere.last_seen = time.time()
                await kept.put(elsewhere)

            store.meanwhile = another_process_sets_the_level
            copy.handle.record.last_seen -= 3600  # time for the keep-alive
            puts = store.puts
            before = time.time()
            assert app.records is not None
            await app.records.save(copy)  # what a request to the copy ends with
            assert store.meanwhile is None  # the copy read the record, then the write landed
            stored = await kept.get(sid)
            assert stored is not None and stored.log_level == "error"  # not undone
            assert store.puts == puts  # kept alive, not written
            assert await kept.expire(before) == []  # and alive
            assert copy.handle.record.last_seen >= before
            assert not copy.handle.dirty  # nothing of its own to write


PING = {"jsonrpc": "2.0", "id": 7, "method": "ping"}
SET_ERRORS = {"jsonrpc": "2.0", "id": 8, "method": "logging/setLevel", "params": {"level": "error"}}


@asynccontextmanager
async def ended_elsewhere(
    store: RememberingSessionStore,
) -> AsyncIterator[tuple[httpx.AsyncClient, str, str, str, McpHttpApp]]:
    """Two processes on one store, the second holding a copy of a session that a DELETE
    served by the first has just ended; the second hears nothing of it (each server here
    has its own in-memory broker: the SESSION_CHANGED is on its way, forever). The client,
    the session's id, the endpoints of the first and of the second, and the second app."""
    one = Server("notes", "1").http_app(session_store=store)
    two = Server("notes", "1").http_app(session_store=store)
    async with (
        asyncio.timeout(WAIT * 2),
        serving(one) as base_one,
        serving(two) as base_two,
        httpx.AsyncClient() as http,
    ):
        url_one, url_two = f"{base_one}/mcp", f"{base_two}/mcp"
        sid = await open_session(http, url_one)
        assert (await http.post(url_two, json=PING, headers=headers(sid))).is_success
        assert two.sessions.get(sid) is not None  # the copy, restored from the record
        assert (await http.delete(url_one, headers=headers(sid))).status_code == 200
        assert await store.get(sid) is None and await store.ended(sid)
        yield http, sid, url_one, url_two, two


@pytest.mark.parametrize("kind", ["memory", "sqlite", "redis"])
async def test_a_copy_kept_alive_never_brings_back_a_session_another_process_ended(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Before the store remembered the sessions it deleted, the copy's keep-alive found no
    record and wrote it again (as it must when the store lost it): the ended session lived
    on in the store, and answered on every process. Now the copy ends, and so does the
    session, everywhere."""
    async with (
        store_of(kind, tmp_path, request) as store,
        ended_elsewhere(store) as (http, sid, url_one, url_two, two),
    ):
        copy = two.sessions.get(sid)
        assert copy is not None
        copy.handle.record.last_seen -= 3600  # time for the keep-alive
        # The copy answers (it has not heard), then finds its session ended, and ends.
        assert (await http.post(url_two, json=PING, headers=headers(sid))).is_success
        # (after the answer went out: until the copy ends, or writes the record again)
        while two.sessions.get(sid) is not None and await store.get(sid) is None:
            await asyncio.sleep(0.01)
        assert await store.get(sid) is None
        assert two.sessions.get(sid) is None
        for url in (url_one, url_two):
            assert (await http.post(url, json=PING, headers=headers(sid))).status_code == 404


@pytest.mark.parametrize("kind", ["memory", "sqlite", "redis"])
async def test_a_change_a_copy_writes_never_brings_back_a_session_another_process_ended(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The copy serves a request that changes the session, and writes its record: the store,
    whose session ended, writes nothing. The copy's next keep-alive ends it."""
    async with (
        store_of(kind, tmp_path, request) as store,
        ended_elsewhere(store) as (http, sid, url_one, url_two, two),
    ):
        assert (await http.post(url_two, json=SET_ERRORS, headers=headers(sid))).is_success
        assert await store.get(sid) is None
        assert (await http.post(url_one, json=PING, headers=headers(sid))).status_code == 404
        copy = two.sessions.get(sid)
        assert copy is not None and copy.handle.record.log_level == "error"
        copy.handle.record.last_seen -= 3600
        assert (await http.post(url_two, json=PING, headers=headers(sid))).is_success
        while two.sessions.get(sid) is not None:
            await asyncio.sleep(0.01)
        for url in (url_one, url_two):
            assert (await http.post(url, json=PING, headers=headers(sid))).status_code == 404
