"""The Redis stores (`mcpkit.stores.redis`) against a real redis-server: they pass the checks
every store must, two of them on one Redis behave as two processes sharing it, Redis's memory
comes back to where it was once sessions end, and no id from a peer reaches another's keys."""

from __future__ import annotations

import asyncio
import dataclasses
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import pytest
from _redis_server import RedisServer
from redis.asyncio import BlockingConnectionPool, Redis

from mcpkit.protocol.events import StrayResponse
from mcpkit.stores.broker import Change, SharedBroker
from mcpkit.stores.event_log import EventStore
from mcpkit.stores.liveness import Liveness
from mcpkit.stores.redis import (
    RedisBroker,
    RedisBuckets,
    RedisEventStore,
    RedisLiveness,
    RedisSecrets,
    RedisSessionStore,
    RedisTaskStore,
)
from mcpkit.stores.sessions import SessionRecord, SessionStore
from mcpkit.stores.task_runner import TaskRun, TaskRunner
from mcpkit.stores.tasks import LAPSED, LeasedTaskStore, TaskOutcome, TaskStore
from mcpkit.testing.stores import (
    EventStoreChecks,
    LeasedTaskStoreChecks,
    LivenessChecks,
    ManualClock,
    RememberingSessionStoreChecks,
    TaskSettings,
    TaskStoreChecks,
)
from mcpkit.types import RequestId

OK = TaskOutcome(result={"content": [], "isError": False})
S = TypeVar("S")
WAIT = 10.0  # seconds: a bound on hangs, not a measurement


def connect(server: RedisServer) -> Redis:
    """A client with a pool of its own (what another process would have), at most 32
    connections: past them a command waits for one, as a server's pool should (redis-py's
    default pool raises MaxConnectionsError beyond 100 commands at once)."""
    pool = BlockingConnectionPool.from_url(server.url, max_connections=32, timeout=WAIT)
    return Redis.from_pool(pool)


def new_prefix() -> str:
    """Keys of one test's own: tests share the server, never a key."""
    return f"test-{secrets.token_hex(6)}:"


async def keys_of(client: Redis, prefix: str) -> list[bytes]:
    # The prefix is hex and ':', so no pattern character: it matches exactly those keys.
    return [key async for key in client.scan_iter(match=prefix + "*", count=1000)]


async def assert_every_key_expires(client: Redis, prefix: str) -> None:
    """Every key under `prefix` has a TTL: Redis frees what nobody deletes."""
    for key in await keys_of(client, prefix):
        assert await client.pttl(key) > 0, key


class RedisCase:
    """What a class of Redis checks shares: the server, and per store its own client and
    prefix, all released (and the keys deleted) when the check closes the store."""

    server: RedisServer
    opened: dict[int, tuple[Redis, str]]

    @pytest.fixture(autouse=True)
    def _redis(self, redis_server: RedisServer) -> None:
        self.server = redis_server
        self.opened = {}

    def open(self, make: Callable[[Redis, str], S]) -> S:
        prefix = new_prefix()
        client = connect(self.server)
        store = make(client, prefix)
        self.opened[id(store)] = (client, prefix)
        return store

    async def close(self, store: object) -> None:
        client, prefix = self.opened.pop(id(store))
        try:
            if isinstance(store, RedisEventStore | RedisTaskStore):
                await store.aclose()
            await assert_every_key_expires(client, prefix)
            keys = await keys_of(client, prefix)
            if keys:
                await client.delete(*keys)
        finally:
            await client.aclose()


class TestRedisSessionStore(RedisCase, RememberingSessionStoreChecks):
    async def make_store(self) -> SessionStore:
        return self.open(lambda client, prefix: RedisSessionStore(client, prefix=prefix))

    async def close_store(self, store: SessionStore) -> None:
        await self.close(store)


class TestRedisEventStore(RedisCase, EventStoreChecks):
    async def make_store(self, window: int) -> EventStore:
        return self.open(
            lambda client, prefix: RedisEventStore(client, max_events=window, prefix=prefix)
        )

    async def close_store(self, store: EventStore) -> None:
        await self.close(store)


class TestRedisTaskStore(RedisCase, TaskStoreChecks):
    async def make_store(self, clock: ManualClock, settings: TaskSettings) -> TaskStore:
        return self.open(
            lambda client, prefix: RedisTaskStore(
                client, clock=clock, prefix=prefix, **dataclasses.asdict(settings)
            )
        )

    async def close_store(self, store: TaskStore) -> None:
        await self.close(store)


class TestRedisLiveness(RedisCase, LivenessChecks):
    async def make_liveness(self) -> Liveness:
        return self.open(lambda client, prefix: RedisLiveness(client, prefix=prefix))

    async def close_liveness(self, liveness: Liveness) -> None:
        await self.close(liveness)


class TestRedisTaskLeases(RedisCase, LeasedTaskStoreChecks):
    async def make_leased_store(self, clock: ManualClock, lease: float) -> LeasedTaskStore:
        return self.open(
            lambda client, prefix: RedisTaskStore(client, clock=clock, lease=lease, prefix=prefix)
        )

    async def close_leased_store(self, store: LeasedTaskStore) -> None:
        await self.close(store)


# ------------------------------------------------------------- two processes, one Redis


@asynccontextmanager
async def client_of(server: RedisServer) -> AsyncIterator[Redis]:
    """A client to close at the end: what another process would have."""
    client = connect(server)
    try:
        yield client
    finally:
        await client.aclose()


async def until(condition: Callable[[], bool]) -> None:
    """Return once `condition()` holds, looking every few ms; fail after WAIT seconds."""
    async with asyncio.timeout(WAIT):
        while not condition():
            await asyncio.sleep(0.005)


class WatchedStore(RedisTaskStore):
    """A task store that says when it has read a task (so a test knows a `wait` is under way)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.read = asyncio.Event()

    async def get(self, owner: str, task_id: str) -> Any:
        task = await super().get(owner, task_id)
        self.read.set()
        return task


async def test_a_wait_returns_when_another_process_finishes_the_task(
    redis_server: RedisServer,
) -> None:
    prefix = new_prefix()
    async with client_of(redis_server) as one, client_of(redis_server) as other:
        # Reading again every 60 s: only the news by pub/sub can end the wait in time.
        here = WatchedStore(one, prefix=prefix, watch_interval=60)
        there = RedisTaskStore(other, prefix=prefix)
        task_id = (await here.create("alice")).task_id
        waiter = asyncio.create_task(here.wait("alice", task_id, timeout=60))
        await asyncio.wait_for(here.read.wait(), WAIT)
        await there.set_status("alice", task_id, "working", "half way")  # not settled
        await there.finish("alice", task_id, "completed", OK)
        task = await asyncio.wait_for(waiter, WAIT)
        assert task.status == "completed"
        assert await here.outcome("alice", task_id) == OK
        await here.aclose()
        await there.aclose()
        await one.delete(*await keys_of(one, prefix))


async def test_a_cancel_in_one_process_is_reported_by_renew_in_another(
    redis_server: RedisServer,
) -> None:
    prefix = new_prefix()
    async with client_of(redis_server) as one, client_of(redis_server) as other:
        running, elsewhere = (
            RedisTaskStore(one, prefix=prefix),
            RedisTaskStore(other, prefix=prefix),
        )
        task_id = (await running.create("alice")).task_id
        kept = (await running.create("alice")).task_id
        assert await running.renew([task_id, kept]) == set()
        await elsewhere.cancel("alice", task_id, "by request")
        assert await running.renew([task_id, kept]) == {task_id}
        assert (await running.get("alice", task_id)).status_message == "by request"
        await one.delete(*await keys_of(one, prefix))


class Requestor:
    """The requestor's connection: keeps the task status notifications it is sent."""

    closed = False

    def __init__(self) -> None:
        self.statuses: list[str] = []

    async def request(self, method: str, params: Any = None, **options: Any) -> Any:
        raise AssertionError("these tasks ask nothing")

    async def notify(
        self, method: str, params: Any = None, *, related: RequestId | None = None
    ) -> None:
        self.statuses.append(params["status"])


async def test_a_cancel_answered_by_another_process_stops_the_work(
    redis_server: RedisServer,
) -> None:
    prefix, lease = new_prefix(), 0.4  # the runner renews every 0.1 s
    # A still clock: the lease cannot lapse before the cancel, however late a busy machine
    # runs a renewal (the task would be failed, and the cancel refused).
    clock = ManualClock()
    async with client_of(redis_server) as one, client_of(redis_server) as other:
        runner = TaskRunner(RedisTaskStore(one, prefix=prefix, lease=lease, clock=clock))
        elsewhere = RedisTaskStore(other, prefix=prefix, lease=lease, clock=clock)
        started, stopped = asyncio.Event(), asyncio.Event()

        async def slow(run: TaskRun) -> dict[str, Any]:
            started.set()
            try:
                await asyncio.sleep(60)
            finally:
                stopped.set()
            raise AssertionError("cancelled before the end")

        requestor = Requestor()
        task_id = (await runner.start("alice", None, requestor, slow)).task.task_id
        await asyncio.wait_for(started.wait(), WAIT)
        assert (await elsewhere.cancel("alice", task_id)).status == "cancelled"
        await asyncio.wait_for(stopped.wait(), WAIT)  # the next renewal learns of it
        await until(lambda: requestor.statuses == ["cancelled"])
        await runner.aclose()
        await one.delete(*await keys_of(one, prefix))


async def test_a_waiter_elsewhere_hears_that_a_dead_process_lease_lapsed(
    redis_server: RedisServer,
) -> None:
    prefix, lease = new_prefix(), 0.3
    async with client_of(redis_server) as one:
        task_id = (await RedisTaskStore(one, prefix=prefix, lease=lease).create("a")).task_id
    # That process is gone: nobody renews the lease, nobody writes the task again.
    async with client_of(redis_server) as other:
        store = RedisTaskStore(other, prefix=prefix, lease=lease, watch_interval=0.05)
        task = await asyncio.wait_for(store.wait("a", task_id, timeout=60), WAIT)
        assert (task.status, task.status_message) == ("failed", LAPSED)
        await store.aclose()
        await other.delete(*await keys_of(other, prefix))


async def test_appends_of_two_processes_to_one_stream_keep_its_order_and_window(
    redis_server: RedisServer,
) -> None:
    prefix = new_prefix()
    async with client_of(redis_server) as one, client_of(redis_server) as other:
        here = RedisEventStore(one, prefix=prefix, max_events=50)
        there = RedisEventStore(other, prefix=prefix, max_events=50)
        await asyncio.gather(
            *((here if seq % 2 else there).append("s", seq, b"%d" % seq) for seq in range(1, 201))
        )
        assert await here.replay_after("s", 150) == [(n, b"%d" % n) for n in range(151, 201)]
        assert await there.replay_after("s", 149) is None
        await here.aclose()
        await there.aclose()
        await one.delete(*await keys_of(one, prefix))


async def test_waiters_and_brokers_hear_again_once_their_subscription_is_cut(
    redis_server: RedisServer,
) -> None:
    prefix = new_prefix()
    async with client_of(redis_server) as one, client_of(redis_server) as other:
        here = WatchedStore(one, prefix=prefix, watch_interval=60)
        there = RedisTaskStore(other, prefix=prefix)
        broker = RedisBroker(one, channel=prefix + "changes")
        heard: list[Change] = []
        broker.subscribe(heard.append)
        await asyncio.wait_for(broker.start(), WAIT)
        task_id = (await here.create("alice")).task_id
        waiter = asyncio.create_task(here.wait("alice", task_id, timeout=60))
        await asyncio.wait_for(here.read.wait(), WAIT)

        here.read.clear()
        await other.client_kill_filter(_type="pubsub")  # as a restart of Redis would
        # Subscribed again, the store has its waiter read the task again (news published
        # meanwhile is lost)...
        await asyncio.wait_for(here.read.wait(), WAIT)
        await there.finish("alice", task_id, "completed", OK)
        assert (await asyncio.wait_for(waiter, WAIT)).status == "completed"
        # ...and the broker hears changes again.
        async with asyncio.timeout(WAIT):
            while not heard:
                await other.publish(prefix + "changes", b'x ["notifications/tools/list_changed"]')
                await asyncio.sleep(0.02)
        await broker.aclose()
        await here.aclose()
        await one.delete(*await keys_of(one, prefix))


# --------------------------------------------------------------------------- the broker


async def test_a_change_reaches_every_process_once(redis_server: RedisServer) -> None:
    channel = new_prefix() + "changes"
    async with client_of(redis_server) as one, client_of(redis_server) as other:
        here, there = RedisBroker(one, channel=channel), RedisBroker(other, channel=channel)
        assert isinstance(here, SharedBroker)  # what a server tells apart when it takes it
        heard_here: list[Change] = []
        heard_there: list[Change] = []
        here.subscribe(heard_here.append)
        stop = there.subscribe(heard_there.append)
        await asyncio.wait_for(asyncio.gather(here.start(), there.start()), WAIT)

        change = Change("notifications/tools/list_changed")
        here.publish(change)
        assert heard_here == [change]  # this process's handlers at once
        await until(lambda: heard_there == [change])
        # The answer goes out after `there` heard `change`, so Redis sent `here` the echo of
        # `change` before it: once `here` has the answer, it has skipped its own echo.
        answer = Change("notifications/resources/updated", "notes://1")
        there.publish(answer)
        await until(lambda: len(heard_here) == 2)
        assert heard_here == [change, answer]
        assert heard_there == [change, answer]

        stop()
        here.publish(change)
        await until(lambda: len(heard_here) == 3)
        await here.aclose()
        await there.aclose()
        assert heard_there == [change, answer]


async def test_the_broker_ignores_what_is_not_a_change_and_goes_on(
    redis_server: RedisServer,
) -> None:
    channel = new_prefix() + "changes"
    async with client_of(redis_server) as client:
        broker = RedisBroker(client, channel=channel)
        heard: list[Change] = []
        broker.subscribe(heard.append)

        def broken(change: Change) -> None:
            raise RuntimeError("a broken handler")

        broker.subscribe(broken)
        await asyncio.wait_for(broker.start(), WAIT)
        for garbage in (b"", b"no-space", b"x [1,2,3]", b"x \xff\xfe", b"x " + b"[" * 10_000):
            await client.publish(channel, garbage)
        await client.publish(channel, b'other ["notifications/prompts/list_changed",null]')
        await until(lambda: heard == [Change("notifications/prompts/list_changed")])
        await broker.aclose()
        broker.publish(Change("notifications/tools/list_changed"))  # closed: local only
        assert len(heard) == 2


async def test_a_response_reaches_the_process_whose_request_it_answers(
    redis_server: RedisServer,
) -> None:
    channel = new_prefix() + "changes"
    async with client_of(redis_server) as one, client_of(redis_server) as other:
        asker = RedisBroker(one, channel=channel, request_id_prefix="a1b2c3d4e5f60718")
        receiver = RedisBroker(other, channel=channel, request_id_prefix="ffff0000ffff0000")
        taken: list[tuple[str, bytes]] = []
        asker.subscribe_responses(lambda sid, data: taken.append((sid, data)))
        await asyncio.wait_for(asyncio.gather(asker.start(), receiver.start()), WAIT)

        answer = b'{"jsonrpc":"2.0","id":"a1b2c3d4e5f60718-3","result":{}}'
        receiver.forward_response("sess-1", StrayResponse("a1b2c3d4e5f60718-3", answer))
        await until(lambda: taken == [("sess-1", answer)])

        # What names no other process is dropped where it was received, and counted.
        for rid, sid in [
            (7, "sess-1"),  # an integer id: no process's prefix
            ("ffff0000ffff0000-9", "sess-1"),  # the receiver's own: nothing awaits it
            ("x" * 65 + "-1", "sess-1"),  # longer than any prefix
            ("a\x00b-1", "sess-1"),  # not printable
            ("no-dash-in-a-number", "sess-1"),
            ("a1b2c3d4e5f60718-4", "sess\n2"),  # a session id that would split the message
        ]:
            receiver.forward_response(sid, StrayResponse(rid, b"{}"))
        assert receiver.stray_responses == 6
        receiver.forward_response("sess-2", StrayResponse("a1b2c3d4e5f60718-5", answer))
        await until(lambda: len(taken) == 2)
        assert taken[-1] == ("sess-2", answer)  # only what was sent, in order
        await asker.aclose()
        await receiver.aclose()


# ----------------------------------------------------------------------------- memory


async def test_redis_memory_comes_back_once_a_thousand_sessions_ended(
    redis_server: RedisServer,
) -> None:
    prefix, clock = new_prefix(), ManualClock()
    async with client_of(redis_server) as client:
        sessions = RedisSessionStore(client, prefix=prefix)
        events = RedisEventStore(client, prefix=prefix, max_events=4)
        tasks = RedisTaskStore(client, prefix=prefix, clock=clock, max_tasks_per_owner=2)
        ids = [f"session-{n}" for n in range(1_000)]

        async def serve(n: int, session_id: str) -> None:
            await sessions.put(SessionRecord(id=session_id, created=1_000.0 + n))
            for seq in range(1, 7):
                await events.append(f"{session_id}.0", seq, b"event %d" % seq)
            task_id = (await tasks.create(session_id, ttl=60_000)).task_id
            if n % 2:
                await tasks.finish(session_id, task_id, "completed", OK)

        for start in range(0, len(ids), 100):
            await asyncio.gather(
                *(serve(n, i) for n, i in enumerate(ids) if start <= n < start + 100)
            )
        assert len(await keys_of(client, prefix)) > 4_000

        # Half the sessions are deleted, the others expire; every stream is forgotten, and
        # every task outlives its ttl.
        for session_id in ids[:500]:
            await sessions.delete(session_id)
        assert sorted(await sessions.expire(before=3_000.0)) == sorted(ids[500:])
        await asyncio.gather(*(events.forget(f"{i}.0") for i in ids))
        clock.advance(60)
        assert await tasks.purge_expired() == 1_000
        # Left: the marks of the sessions deleted (`ended`), which Redis frees after the
        # records' own TTL (tests/stores: `test_redis_frees_what_nobody_deleted`).
        marks = {f"{prefix}ended-session:{i}".encode() for i in ids[:500]}
        left = await keys_of(client, prefix)
        assert set(left) == marks and len(left) == 500
        ttl = sessions.idle_ttl * 1000
        assert all(0 < ttl_left <= ttl for ttl_left in [await client.pttl(k) for k in left])
        await client.delete(*left)
        await events.aclose()
        await tasks.aclose()


async def test_redis_frees_what_nobody_deleted(redis_server: RedisServer) -> None:
    prefix = new_prefix()
    async with client_of(redis_server) as client:
        sessions = RedisSessionStore(client, prefix=prefix, idle_ttl=1)
        events = RedisEventStore(client, prefix=prefix, ttl=1)
        expired_before = await expired_keys(client)
        for n in range(1_000):
            await sessions.put(SessionRecord(id=f"s-{n}", created=float(n)))
            await events.append(f"s-{n}.0", 1, b"event")
        for n in range(100):  # their marks (`ended`) too
            await sessions.delete(f"ended-{n}")
        await until_no_keys(client, prefix)  # the process "died": Redis frees them itself
        # Counted by what Redis expired, not by the keys seen after the writes: those take
        # longer than the 1 s TTL on a busy machine, and the first keys are gone by then.
        # A record per session and their index, a window and its bounds per stream, a mark
        # per session deleted.
        assert await expired_keys(client) - expired_before >= 1_000 + 1 + 2 * 1_000 + 100
        assert await sessions.expire(before=10_000.0) == []
        await events.aclose()


async def expired_keys(client: Redis) -> int:
    """How many keys the server has expired since it started (other tests' too)."""
    stats: dict[str, Any] = await client.info("stats")
    return int(stats["expired_keys"])


async def until_no_keys(client: Redis, prefix: str) -> None:
    async with asyncio.timeout(WAIT):
        while await keys_of(client, prefix):
            await asyncio.sleep(0.05)


# ------------------------------------------------------------------------------ hostile


ODD_IDS = ["a", "a:b", "a:", "*", "a*", "a?", "[a]", "session:a", "events:a", "stream:a", "#a"]
ODD_IDS += ["x" * 100_000, "x" * 100_001, "é", "\x00", " a", ""]


async def test_no_id_reaches_the_keys_of_another(redis_server: RedisServer) -> None:
    prefix = new_prefix()
    async with client_of(redis_server) as client:
        sessions = RedisSessionStore(client, prefix=prefix)
        events = RedisEventStore(client, prefix=prefix)
        for n, odd in enumerate(ODD_IDS):
            await sessions.put(SessionRecord(id=odd, created=float(n)))
            await events.append(odd, 1, b"%d" % n)
        # An id of any length costs a key of bounded length.
        assert max(len(key) for key in await keys_of(client, prefix)) < len(prefix) + 80
        # A record per session and their index; a window and its bounds per stream.
        assert len(await keys_of(client, prefix)) == 3 * len(ODD_IDS) + 1
        for n, odd in enumerate(ODD_IDS):
            record = await sessions.get(odd)
            assert record is not None and record.created == float(n), odd[:20]
            assert await events.replay_after(odd, 0) == [(1, b"%d" % n)], odd[:20]
        for gone in ODD_IDS[::2]:
            await sessions.delete(gone)
            await events.forget(gone)
        for n, odd in enumerate(ODD_IDS):
            assert (await sessions.get(odd) is None) == (n % 2 == 0), odd[:20]
            assert (await events.replay_after(odd, 1) is None) == (n % 2 == 0), odd[:20]
        # Ids no JSON can hold are nobody's, and break nothing.
        for broken in ("\ud800", "a\udfff:*"):
            assert await sessions.get(broken) is None
            await sessions.delete(broken)
            await events.append(broken, 1, b"kept")
            assert await events.replay_after(broken, 0) == [(1, b"kept")]
            await events.forget(broken)
        assert sorted(await sessions.expire(before=1e9)) == sorted(ODD_IDS[1::2])
        await events.aclose()
        await client.delete(*await keys_of(client, prefix))


async def test_a_client_that_decodes_replies_is_refused(redis_server: RedisServer) -> None:
    client = Redis.from_url(redis_server.url, decode_responses=True)
    try:
        for make in (RedisSessionStore, RedisEventStore, RedisTaskStore):
            with pytest.raises(ValueError, match="decode_responses=False"):
                make(client)
    finally:
        await client.aclose()


async def test_a_bucket_is_shared_and_spent_once_per_token(redis_server: RedisServer) -> None:
    prefix = new_prefix()
    async with client_of(redis_server) as one, client_of(redis_server) as other:
        here, there = RedisBuckets(one, prefix=prefix), RedisBuckets(other, prefix=prefix)
        # 20 takes at once from two "processes", on a bucket of 5 that refills 1 a minute.
        waits = await asyncio.gather(*(b.take("alice", 1 / 60, 5) for b in (here, there) * 10))
        assert sum(w == 0.0 for w in waits) == 5
        assert all(50 < w <= 60 for w in waits if w)  # the next token: about a minute away
        assert await here.take("bob", 1 / 60, 5) == 0.0  # another key, another bucket
        assert await there.take("x" * 100_000, 1000, 1) == 0.0  # a long key is hashed
        keys = await one.keys(prefix.encode() + b"*")
        assert len(keys) == 3 and all(len(k) < 300 for k in keys)
        ttls = [await one.pttl(k) for k in keys]
        assert all(ttl > 0 for ttl in ttls)  # each goes once it would be full


async def test_processes_agree_on_a_secret_drawn_once(redis_server: RedisServer) -> None:
    prefix = new_prefix()
    async with client_of(redis_server) as one, client_of(redis_server) as other:
        here, there = RedisSecrets(one, prefix=prefix), RedisSecrets(other, prefix=prefix)
        drawn = await asyncio.gather(*(s.secret("k") for s in (here, there) * 5))
        assert len(set(drawn)) == 1 and len(drawn[0]) == 32  # whoever asked first drew it
        assert await there.secret("other") != drawn[0]
        keys = await one.keys(prefix.encode() + b"*")
        assert len(keys) == 2
        assert [await one.pttl(k) for k in keys] == [-1, -1]  # a deployment's constant
        await one.delete(*keys)


async def test_a_server_older_than_redis_7_is_named_at_start(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with client_of(redis_server) as client:
        broker = RedisBroker(client, channel=new_prefix() + "changes")
        try:
            assert await broker.start(timeout=WAIT)  # Redis 7 here: nothing said
            assert "mcpkit's Redis stores need Redis 7" not in caplog.text

            async def old(section: str | None = None) -> dict[str, Any]:
                return {"redis_version": "6.2.14"}

            monkeypatch.setattr(client, "info", old)
            assert await broker.start(timeout=WAIT)
            assert "the Redis server is version 6.2.14; mcpkit's Redis stores need Redis 7" in (
                caplog.text
            )
        finally:
            await broker.aclose()
