"""A session copy that changed nothing keeps its record alive (a quarter of the idle timeout
after the last write) with the store's `touch`, for every session store mcpkit ships: no
write of the record, so what another process wrote into it stays, even a write that lands
right after the copy last read it. (Before `touch`, the copy read the record and wrote it
back, and a write landing between the two was undone.)"""

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
from _serving import WAIT, open_session, serving
from redis.asyncio import Redis

from mcpkit import Server
from mcpkit.stores.redis import RedisSessionStore
from mcpkit.stores.sessions import MemorySessionStore, SessionRecord, TouchableSessionStore
from mcpkit.stores.sqlite import SqliteDatabase, SqliteSessionStore


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
) -> AsyncIterator[TouchableSessionStore]:
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
            await app.hosting.save(copy)  # what a request to the copy ends with
            assert store.meanwhile is None  # the copy read the record, then the write landed
            stored = await kept.get(sid)
            assert stored is not None and stored.log_level == "error"  # not undone
            assert store.puts == puts  # kept alive, not written
            assert await kept.expire(before) == []  # and alive
            assert copy.handle.record.last_seen >= before
            assert not copy.handle.dirty  # nothing of its own to write
