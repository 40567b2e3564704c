"""Tasks in a store that processes share (SQLite here): a `tasks/cancel` answered by one
process stops the work where it runs, and a task whose process died is failed once its lease
lapses, never left `working`. Two `SqliteDatabase`s on one file stand for two processes."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from mcpkit.stores.sqlite import SqliteDatabase, SqliteTaskStore
from mcpkit.stores.task_runner import TaskRun, TaskRunner
from mcpkit.stores.tasks import LAPSED
from mcpkit.types import RequestId

LEASE = 0.4  # seconds: the runner renews every 0.1


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


async def test_a_cancel_answered_by_another_process_stops_the_work(tmp_path: Path) -> None:
    here, there = SqliteDatabase(tmp_path / "t.db"), SqliteDatabase(tmp_path / "t.db")
    running = SqliteTaskStore(here, lease=LEASE)
    runner, elsewhere = TaskRunner(running), TaskRunner(SqliteTaskStore(there, lease=LEASE))
    started, stopped = asyncio.Event(), asyncio.Event()

    async def slow(run: TaskRun) -> dict[str, Any]:
        started.set()
        try:
            await asyncio.sleep(30)
        finally:
            stopped.set()
        raise AssertionError("cancelled before the end")

    requestor = Requestor()
    task_id = (await runner.start("alice", None, requestor, slow)).task.task_id
    await asyncio.wait_for(started.wait(), 5)
    assert (await elsewhere.cancel("alice", task_id)).status == "cancelled"
    await asyncio.wait_for(stopped.wait(), 5 * LEASE)  # the next renewal learns of it
    assert (await running.get("alice", task_id)).status == "cancelled"
    assert requestor.statuses == ["cancelled"]
    await runner.aclose()
    await elsewhere.aclose()
    await here.aclose()
    await there.aclose()


async def test_a_task_of_a_process_that_died_fails_once_its_lease_lapses(tmp_path: Path) -> None:
    dead = SqliteDatabase(tmp_path / "t.db")
    task_id = (await SqliteTaskStore(dead, lease=LEASE).create("alice")).task_id
    await dead.aclose()  # the process is gone: nobody renews the lease

    alive = SqliteDatabase(tmp_path / "t.db")
    store = SqliteTaskStore(alive, lease=LEASE)
    assert (await store.get("alice", task_id)).status == "working"
    task = await asyncio.wait_for(store.wait("alice", task_id, timeout=30), 10 * LEASE)
    assert (task.status, task.status_message) == ("failed", LAPSED)
    await alive.aclose()


async def test_a_running_task_keeps_its_lease_and_its_result(tmp_path: Path) -> None:
    db = SqliteDatabase(tmp_path / "t.db")
    store = SqliteTaskStore(db, lease=LEASE)
    runner = TaskRunner(store)

    async def outlives_the_lease(run: TaskRun) -> dict[str, Any]:
        await asyncio.sleep(3 * LEASE)
        return {"content": [], "isError": False}

    task_id = (await runner.start("alice", None, Requestor(), outlives_the_lease)).task.task_id
    watcher = SqliteTaskStore(SqliteDatabase(tmp_path / "t.db"), lease=LEASE)
    task = await asyncio.wait_for(watcher.wait("alice", task_id, timeout=30), 10 * LEASE)
    assert task.status == "completed"
    assert await watcher.outcome("alice", task_id) is not None
    await runner.aclose()
    await watcher.db.aclose()
    await db.aclose()
