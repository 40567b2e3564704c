"""One URL names every store a server uses (`mcpkit.stores.url`): what each URL opens, what a
malformed one is told, how `Server(store=...)`, `use_store` and `http_app(store=...)` hand
the stores to the task runner and the HTTP app, and the proxy's refusal of a shared store."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from _processes import starts
from _redis_server import RedisServer

from mcpkit import McpError, Server
from mcpkit.proxy import ProxyServer
from mcpkit.stores import MemoryTaskStore
from mcpkit.stores.broker import MemoryBroker
from mcpkit.stores.liveness import MemorySecrets, process_tag
from mcpkit.stores.redis import RedisBroker, RedisEventStore, RedisSessionStore, RedisTaskStore
from mcpkit.stores.sqlite import (
    SqliteDatabase,
    SqliteEventStore,
    SqliteLiveness,
    SqliteSecrets,
    SqliteSessionStore,
)
from mcpkit.stores.sqlite_tasks import SqliteTaskStore
from mcpkit.stores.url import Stores, check_store_url, open_store
from mcpkit.testing.stores import ManualClock

WAIT = 10.0  # seconds: a bound on hangs, never a measurement


async def test_memory_is_the_default_and_keeps_nothing_outside_the_process() -> None:
    stores = Server("s").store
    assert stores.url == "memory://" and not stores.shared
    assert isinstance(stores.tasks, MemoryTaskStore) and isinstance(stores.broker, MemoryBroker)
    assert stores.sessions is None and stores.events is None
    await stores.aclose()


async def test_a_sqlite_url_opens_one_file_for_every_store(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "state.db"  # its folder is made
    stores = open_store(f"sqlite:///{path}?lease=5")
    assert stores.shared and path.exists()
    assert isinstance(stores.tasks, SqliteTaskStore) and stores.tasks.lease == 5
    assert isinstance(stores.sessions, SqliteSessionStore)
    assert isinstance(stores.events, SqliteEventStore)
    task = await stores.tasks.create("alice")
    await stores.aclose()
    again = open_store(f"sqlite:///{path}")
    assert isinstance(again.tasks, SqliteTaskStore) and again.tasks.lease == 30
    assert (await again.tasks.get("alice", task.task_id)).status == "working"
    await again.aclose()


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("ftp://x", "unknown store 'ftp://x': use one of memory://, sqlite:///path"),
        ("memory://elsewhere", "unknown store"),
        ("sqlite://state.db", "a SQLite store names a file: sqlite:///relative/path.db"),
        ("sqlite:///", "a SQLite store names a file"),
        ("sqlite:///s.db?lease=abc", "lease='abc' must be a number of seconds above 0"),
        ("sqlite:///s.db?lease=0", "lease='0' must be"),
        ("sqlite:///s.db?lease=inf", "lease='inf' must be"),
        ("sqlite:///s.db?db=1", "unknown store option 'db'"),
        ("redis://:secret@h:1/0?color=red", "unknown store option 'color'"),
        ("", "unknown store"),
    ],
)
def test_a_malformed_url_is_told_what_is_accepted(url: str, says: str) -> None:
    with pytest.raises(ValueError) as raised:
        check_store_url(url)
    assert says in str(raised.value)
    assert "secret" not in str(raised.value)  # a password never reaches a message or a log


async def test_the_server_hands_its_store_to_the_task_runner_and_the_http_app(
    tmp_path: Path,
) -> None:
    server = Server("s", store=f"sqlite:///{tmp_path / 'a.db'}")
    assert server.task_runner.store is server.store.tasks
    app = server.http_app()
    assert app.session_store is server.store.sessions
    with pytest.raises(RuntimeError, match="already serves: give its store before it starts"):
        server.use_store("memory://")
    await server.store.aclose()

    other = Server("t")
    app = other.http_app(store=f"sqlite:///{tmp_path / 'b.db'}")  # as `mcpkit run --store`
    assert isinstance(other.store.tasks, SqliteTaskStore)
    assert app.session_store is other.store.sessions
    mine = SqliteSessionStore(app.session_store.db)  # type: ignore[union-attr]
    assert other.http_app(session_store=mine).session_store is mine  # an explicit one wins
    await other.store.aclose()


async def test_changes_go_through_the_broker_of_the_store_in_use() -> None:
    server = Server("s")
    seen: list[str] = []
    broker = MemoryBroker()
    broker.subscribe(lambda change: seen.append(change.method))
    server.use_store(Stores(url="mine://", tasks=MemoryTaskStore(), broker=broker))
    await server.notify_resource_updated("notes://today")
    assert seen == ["notifications/resources/updated"]


async def test_a_proxy_refuses_a_shared_store_and_says_why(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'p.db'}"
    with pytest.raises(ValueError, match="a proxy cannot use the shared store sqlite:///"):
        ProxyServer(["true"], store=url)
    proxy = ProxyServer(["true"], store="memory://")
    with pytest.raises(ValueError, match="run one proxy process with the default memory://"):
        proxy.use_store(url)
    with pytest.raises(ValueError, match="cannot use the shared store"):
        proxy.http_app(store=url)
    assert not (tmp_path / "p.db").exists()  # refused before anything was opened


async def test_a_redis_url_opens_every_store_on_one_client_and_closes_quietly(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    stores = open_store(f"redis://:{'hunter2'}@127.0.0.1:{redis_server.port}/5?lease=7")
    assert stores.shared and "hunter2" not in stores.url and "***" in stores.url
    assert isinstance(stores.tasks, RedisTaskStore) and stores.tasks.lease == 7
    assert isinstance(stores.sessions, RedisSessionStore)
    assert isinstance(stores.events, RedisEventStore)
    assert isinstance(stores.broker, RedisBroker)
    await stores.aclose()

    stores = open_store(f"redis://127.0.0.1:{redis_server.port}/5")
    with caplog.at_level(logging.WARNING, logger="mcpkit"):
        task = await stores.tasks.create("alice")
        assert (await stores.tasks.wait("alice", task.task_id, 0.05)).status == "working"
        await stores.aclose()
        await asyncio.sleep(0.3)  # a listener left running would log its lost subscription
    assert caplog.records == []


class SteppedLiveness:
    """A `SqliteLiveness` on a clock that moves on three quarters of a lease after each
    beat: as many leases pass as the test waits beats for, and while a server beats its lease
    never lapses, however late a busy machine runs a renewal. `leases` are the lengths the
    beats asked for."""

    def __init__(self, db: SqliteDatabase) -> None:
        self.clock = ManualClock()
        self.inner = SqliteLiveness(db, clock=self.clock)
        self.leases: set[float] = set()
        self.beats = 0
        self._beaten = asyncio.Event()

    async def beat(self, process: str, lease: float) -> None:
        at = self.clock()  # the time the beat reads: no await between
        await self.inner.beat(process, lease)
        self.clock.advance(max(0.0, at + 0.75 * lease - self.clock()))
        self.leases.add(lease)
        self.beats += 1
        self._beaten.set()

    async def alive(self, process: str) -> bool:
        return await self.inner.alive(process)

    async def end(self, process: str) -> None:
        await self.inner.end(process)

    async def beats_reach(self, count: int) -> None:
        async with asyncio.timeout(WAIT):
            while self.beats < count:
                self._beaten.clear()
                await self._beaten.wait()


@starts(3)
async def test_a_serving_process_holds_its_lease_in_a_shared_store(tmp_path: Path) -> None:
    """While a server serves from a shared store, other processes see this one alive (the
    relays of its streams wait for it); once it stops, at once not (they end its calls)."""
    server = Server("s", store=f"sqlite:///{tmp_path / 'state.db'}?lease=0.4")
    liveness = server.store.liveness
    assert isinstance(liveness, SqliteLiveness) and server.store.lease == 0.4
    # Its table, read on a clock that only the beats move: the test sees leases pass without
    # waiting for them, and no renewal that a busy machine ran late lets one lapse.
    stepped = SteppedLiveness(liveness.db)
    stores = server.use_store(dataclasses.replace(server.store, liveness=stepped))
    me = process_tag()
    assert not await stepped.alive(me)
    async with server.running():
        assert await stepped.alive(me)
        start = stepped.clock()
        await stepped.beats_reach(4)
        assert stepped.clock() - start > 2 * 0.4  # past twice the lease: renewed meanwhile
        assert await stepped.alive(me)
    assert not await stepped.alive(me)
    assert stepped.leases == {0.4}  # the URL's lease
    # Two servers of one process on one store: the lease goes with the last of them.
    other = Server("o", store=stores)
    async with server.running():
        async with other.running():
            assert await stepped.alive(me)
        assert await stepped.alive(me)
    assert not await stepped.alive(me)
    await stores.aclose()
    assert Server("m").store.liveness is None  # memory: nothing is known of other processes


async def test_a_start_whose_lifespan_fails_gives_its_lease_up(tmp_path: Path) -> None:
    """The lease is taken before the user's lifespan hook runs; when the hook raises, the
    server serves nobody, so the lease goes and its renewal stops (a later start that works
    renews it once, not twice)."""

    @contextlib.asynccontextmanager
    async def broken(server: Server) -> AsyncIterator[None]:
        raise RuntimeError("no database")
        yield

    server = Server("s", store=f"sqlite:///{tmp_path / 'state.db'}?lease=30", lifespan=broken)
    liveness = server.store.liveness
    assert isinstance(liveness, SqliteLiveness)
    stepped = SteppedLiveness(liveness.db)
    stores = server.use_store(dataclasses.replace(server.store, liveness=stepped))
    me = process_tag()
    with pytest.raises(RuntimeError, match="no database"):
        async with server.running():
            pass
    assert not await stepped.alive(me)
    assert [t for t in asyncio.all_tasks() if t.get_coro().__name__ == "_keep_beating"] == []
    await stores.aclose()


@starts(3)
async def test_servers_on_one_shared_store_seal_request_state_with_one_key(
    tmp_path: Path,
) -> None:
    """Two processes on one store, no key configured: each opens what the other sealed. A
    key given to a server stays its own."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    one, two = Server("a", store=url), Server("b", store=url)
    mine = Server("c", store=url, request_state_key="k" * 32)
    assert not one.state_seal.shared
    async with one.running(), two.running(), mine.running():
        sealed = one.state_seal.seal("digest", None, {"answers": [1]})
        assert two.state_seal.open(sealed, "digest", None).content == {"answers": [1]}
        assert one.state_seal.shared and two.state_seal.shared
        with pytest.raises(McpError, match="sealed with another key"):
            mine.state_seal.open(sealed, "digest", None)
    for server in (one, two, mine):
        await server.store.aclose()


async def test_secrets_are_drawn_once_per_store(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    first, second = SqliteDatabase(path), SqliteDatabase(path)
    try:
        key = await SqliteSecrets(first).secret("k")
        assert len(key) == 32
        assert await SqliteSecrets(second).secret("k") == key
        assert await SqliteSecrets(second).secret("other") != key
    finally:
        await first.aclose()
        await second.aclose()
    memory = MemorySecrets()
    assert await memory.secret("k") == await memory.secret("k")
