"""Tasks in a store that processes share (SQLite here): a `tasks/cancel` answered by one
process stops the work where it runs, and a task whose process died is failed once its lease
lapses, never left `working`. Two `SqliteDatabase`s on one file stand for two processes.
Nor is a task nobody can reach left `working` with no work: the start that created it was
cancelled while the store wrote it (its id reached nobody), or its work was stopped before
it ever ran (a shutdown, or a cancel, the moment after it was created); nor one made after
the runner shut down, by a start that was still waiting on its store.

The stores read the time from a `ManualClock`: a lease lapses when the test moves the clock
past it, never because a busy machine ran a renewal late (the runner renews every quarter of
a lease of real time, so LEASE is short only to keep the tests quick)."""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from pathlib import Path
from typing import Any

from mcpkit.stores.sqlite import SqliteDatabase
from mcpkit.stores.sqlite_tasks import SqliteTaskStore
from mcpkit.stores.task_runner import UNANSWERED, TaskRun, TaskRunner
from mcpkit.stores.tasks import LAPSED, MemoryTaskStore
from mcpkit.testing.stores import ManualClock
from mcpkit.types import CreateTaskResult, RequestId, Task

LEASE = 0.4  # seconds: the runner renews every 0.1 (of real time)
WAIT = 10.0  # seconds: a bound on hangs, never a measurement


class Requestor:
    """The requestor's connection: keeps the task status notifications it is sent."""

    closed = False

    def __init__(self) -> None:
        self.statuses: list[str] = []

    async def request(
        self,
        method: str,
        params: Any = None,
        *,
        timeout: float | None = None,
        related: RequestId | None = None,
        result_type: Any = None,
    ) -> Any:
        raise AssertionError("these tasks ask nothing")

    async def notify(
        self, method: str, params: Any = None, *, related: RequestId | None = None
    ) -> None:
        assert method == "notifications/tasks/status"
        self.statuses.append(params["status"])


class RenewingMovesTheClock(SqliteTaskStore):
    """A store whose clock moves on three quarters of a lease after each renewal: as many
    leases pass as the test waits renewals for, and while the runner renews none lapses,
    however late a busy machine runs it. `renewed` is set at each renewal."""

    def __init__(self, db: SqliteDatabase, clock: ManualClock) -> None:
        super().__init__(db, clock=clock, lease=LEASE)
        self.clock = clock
        self.renewals = 0
        self.renewed = asyncio.Event()

    async def renew(self, task_ids: Collection[str]) -> set[str]:
        ended = await super().renew(task_ids)
        self.clock.advance(0.75 * self.lease)
        self.renewals += 1
        self.renewed.set()
        return ended

    async def renewals_reach(self, count: int) -> None:
        while self.renewals < count:
            self.renewed.clear()
            await self.renewed.wait()


async def test_a_cancel_answered_by_another_process_stops_the_work(tmp_path: Path) -> None:
    clock = ManualClock()  # still: the task's lease cannot lapse before the cancel
    here, there = SqliteDatabase(tmp_path / "t.db"), SqliteDatabase(tmp_path / "t.db")
    running = SqliteTaskStore(here, lease=LEASE, clock=clock)
    elsewhere = TaskRunner(SqliteTaskStore(there, lease=LEASE, clock=clock))
    runner = TaskRunner(running)
    started, stopped = asyncio.Event(), asyncio.Event()

    async def slow(run: TaskRun) -> dict[str, Any]:
        started.set()
        try:
            await asyncio.sleep(3600)
        finally:
            stopped.set()
        raise AssertionError("cancelled before the end")

    requestor = Requestor()
    task_id = (await runner.start("alice", None, requestor, slow)).task.task_id
    async with asyncio.timeout(WAIT):
        await started.wait()
        assert (await elsewhere.cancel("alice", task_id)).status == "cancelled"
        await stopped.wait()  # the next renewal learns of it
    assert (await running.get("alice", task_id)).status == "cancelled"
    assert requestor.statuses == ["cancelled"]
    await runner.aclose()
    await elsewhere.aclose()
    await here.aclose()
    await there.aclose()


async def test_a_task_of_a_process_that_died_fails_once_its_lease_lapses(tmp_path: Path) -> None:
    clock = ManualClock()
    dead = SqliteDatabase(tmp_path / "t.db")
    task_id = (await SqliteTaskStore(dead, lease=LEASE, clock=clock).create("alice")).task_id
    await dead.aclose()  # the process is gone: nobody renews the lease

    alive = SqliteDatabase(tmp_path / "t.db")
    store = SqliteTaskStore(alive, lease=LEASE, clock=clock)
    assert (await store.get("alice", task_id)).status == "working"
    clock.advance(LEASE / 2)
    assert (await store.get("alice", task_id)).status == "working"  # not lapsed yet
    clock.advance(LEASE)
    async with asyncio.timeout(WAIT):  # a waiter's read fails it before returning it
        task = await store.wait("alice", task_id, timeout=3600)
    assert (task.status, task.status_message) == ("failed", LAPSED)
    await alive.aclose()


async def test_a_running_task_keeps_its_lease_and_its_result(tmp_path: Path) -> None:
    clock = ManualClock()
    db = SqliteDatabase(tmp_path / "t.db")
    store = RenewingMovesTheClock(db, clock)
    runner = TaskRunner(store)

    async def outlives_the_lease(run: TaskRun) -> dict[str, Any]:
        await store.renewals_reach(4)  # three leases on the store's clock
        return {"content": [], "isError": False}

    started = clock()
    task_id = (await runner.start("alice", None, Requestor(), outlives_the_lease)).task.task_id
    watcher = SqliteTaskStore(SqliteDatabase(tmp_path / "t.db"), lease=LEASE, clock=clock)
    async with asyncio.timeout(WAIT):
        task = await watcher.wait("alice", task_id, timeout=3600)
    assert task.status == "completed"
    assert clock() - started > 2 * LEASE  # it outlived its first lease, and the next
    assert await watcher.outcome("alice", task_id) is not None
    await runner.aclose()
    await watcher.db.aclose()
    await db.aclose()


class SlowToAnswer(SqliteTaskStore):
    """A store a network away: `create` has written the task while its answer is still on
    its way (until `answer` is set)."""

    def __init__(self, db: SqliteDatabase) -> None:
        super().__init__(db, lease=LEASE, clock=ManualClock())
        self.written: list[Task] = []
        self.answer = asyncio.Event()

    async def create(self, owner: str, *, ttl: int | None = None) -> Task:
        task = await super().create(owner, ttl=ttl)
        self.written.append(task)
        await self.answer.wait()
        return task


async def never_runs(run: TaskRun) -> dict[str, Any]:
    raise AssertionError("the work of a task nobody can reach ran")


async def start_held(
    tmp_path: Path,
) -> tuple[SqliteDatabase, SlowToAnswer, TaskRunner, asyncio.Future[CreateTaskResult]]:
    """A start of `never_runs` whose store has written the task, its answer held back."""
    db = SqliteDatabase(tmp_path / "t.db")
    store = SlowToAnswer(db)
    runner = TaskRunner(store)
    starting = asyncio.ensure_future(runner.start("alice", None, Requestor(), never_runs))
    async with asyncio.timeout(WAIT):
        while not store.written:
            await asyncio.sleep(0.001)
    return db, store, runner, starting


async def test_a_start_cancelled_while_the_store_writes_the_task_cancels_it(
    tmp_path: Path,
) -> None:
    db, store, runner, starting = await start_held(tmp_path)
    async with asyncio.timeout(WAIT):
        starting.cancel()  # the request creating the task goes, its answer to nobody
        await asyncio.sleep(0.01)
        store.answer.set()  # the store's answer comes after all
        await asyncio.wait((starting,))
    assert starting.cancelled()
    task = await store.get("alice", store.written[0].task_id)
    assert (task.status, task.status_message) == ("cancelled", UNANSWERED)
    assert len(runner) == 0
    await runner.aclose()
    await db.aclose()


async def test_a_shutdown_before_the_work_ran_still_ends_its_task() -> None:
    store = MemoryTaskStore()
    runner = TaskRunner(store)
    shut = (await runner.start("alice", None, Requestor(), never_runs)).task.task_id
    await runner.aclose()  # at once: the work has not had its first step
    task = await store.get("alice", shut)
    assert task.status == "failed"
    assert task.status_message == "The receiver shut down before the task finished"
    assert len(runner) == 0


async def test_a_cancel_before_the_work_ran_still_ends_its_run() -> None:
    store = MemoryTaskStore()
    runner = TaskRunner(store)
    requestor = Requestor()
    cancelled = (await runner.start("alice", None, requestor, never_runs)).task.task_id
    run = runner.running(cancelled)
    assert run is not None
    await runner.cancel("alice", cancelled)
    async with asyncio.timeout(WAIT):
        await run.finished.wait()  # a tasks/result waiting for it is answered
    assert (await store.get("alice", cancelled)).status == "cancelled"
    assert requestor.statuses == ["cancelled"]
    assert len(runner) == 0


async def test_a_shutdown_while_the_store_writes_a_task_fails_it(tmp_path: Path) -> None:
    db, store, runner, starting = await start_held(tmp_path)
    async with asyncio.timeout(WAIT):
        await runner.aclose()  # the server stops while its store still writes the task
        store.answer.set()
        made = await starting
    assert (made.task.status, made.task.status_message) == (
        "failed",
        "The receiver shut down before the task finished",
    )
    task = await store.get("alice", made.task.task_id)
    assert task.status == "failed"
    assert len(runner) == 0  # no work registered after the shutdown: never_runs never ran
    # The same runner serves again once its server does (a server's lifespan, re-entered).
    again = await runner.start("alice", None, Requestor(), answers_at_once)
    run = runner.running(again.task.task_id)
    assert run is not None
    async with asyncio.timeout(WAIT):
        await run.finished.wait()
    assert (await store.get("alice", again.task.task_id)).status == "completed"
    await runner.aclose()
    await db.aclose()


async def answers_at_once(run: TaskRun) -> dict[str, Any]:
    return {"content": []}
