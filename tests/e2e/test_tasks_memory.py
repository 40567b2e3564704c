"""Memory of the task machinery (stores.tasks, stores.task_runner): 10,000 tasks created and
completed are held in a bounded sum, and once their ttl has elapsed the store is empty and
what they held is given back. Measured with tracemalloc, never timed."""

from __future__ import annotations

import asyncio
import gc
import threading
import tracemalloc
from typing import Any

import pytest

from mcpkit.stores.task_runner import TaskRun, TaskRunner
from mcpkit.stores.tasks import MemoryTaskStore
from mcpkit.types import RequestId

TASKS = 10_000
WAIT = 10.0  # seconds for one task to start or answer: a bound on hangs, not a measurement


class GonePeer:
    """A requestor whose connection is closed: nothing is sent to it."""

    closed = True

    async def request(
        self,
        method: str,
        params: Any = None,
        *,
        timeout: float | None = None,
        related: RequestId | None = None,
        result_type: Any = None,
    ) -> Any:
        raise AssertionError("nothing is asked of a closed peer")

    async def notify(
        self, method: str, params: Any = None, *, related: RequestId | None = None
    ) -> None:
        raise AssertionError("nothing is sent to a closed peer")


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


async def work(run: TaskRun) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": run.id}], "isError": False}


# Each task bounded, not the whole (the plugin's 30 s): 30,000 tasks under tracemalloc take
# several times longer on a busy machine, and that is not a hang.
@pytest.mark.mcpkit_timeout(0)
async def test_ten_thousand_tasks_then_expired_leave_the_store_empty() -> None:
    clock = Clock()
    store = MemoryTaskStore(clock=clock, max_tasks=TASKS, max_tasks_per_owner=TASKS)
    runner = TaskRunner(store)
    peer = GonePeer()
    await _one_round(runner, peer, clock, 10)  # warm up: interned strings, caches, the loop
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.take_snapshot()
        before = _traced()
        held = await _one_round(runner, peer, clock, TASKS, before)
        gc.collect()
        after = _traced()
        left = tracemalloc.take_snapshot().compare_to(start, "filename")
        # `left`, kept for below, is the comparison's and not the second round's
        settled = _snapshot()
        await _one_round(runner, peer, clock, TASKS)
        gc.collect()
        second = _snapshot().compare_to(settled, "filename")
    finally:
        tracemalloc.stop()
    assert len(store) == 0 and len(runner) == 0
    # What asyncio keeps at its high-water mark: the table of all tasks (a WeakSet).
    asyncio_own = sum(d.size_diff for d in left if _in_asyncio(d.traceback[0].filename))
    # The second round's growth, less asyncio's: its ready queue and task table keep the
    # highest size they reached, which a busy machine (tasks finishing later, more of them
    # waiting at once) sets in either round.
    grown = {d.traceback[0].filename: d.size_diff for d in second if d.size_diff}
    again = sum(size for name, size in grown.items() if not _in_asyncio(name))
    print(
        f"\n{TASKS} completed tasks held {held / TASKS:.0f} bytes each ({held / 1e6:.1f} MB); "
        f"after expiry {after - before:+d} bytes, of which asyncio's task table "
        f"{asyncio_own:+d}; a second round {again:+d} (by file: {grown})"
    )
    assert held < TASKS * 4_000  # a task, its result and the store's indexes: bounded
    assert after - before - asyncio_own < 64_000  # given back (less a few freelists)
    # And a second round of as many adds nothing per task: anything a task left behind would
    # be an object of 16 bytes or more, 160 KB for the round; a few KB are caches that keep
    # their highest size (what another thread allocates meanwhile lands in other files too).
    assert again < 40_000, grown


# What other threads allocate meanwhile is not the tasks': under pytest-xdist, execnet's
# thread receives the next tests while this one runs.
_OTHER_THREADS = (
    tracemalloc.Filter(False, "*/execnet/*"),
    tracemalloc.Filter(False, "*/xdist/*"),
    tracemalloc.Filter(False, threading.__file__),
    tracemalloc.Filter(False, tracemalloc.__file__),  # a snapshot kept to compare with
)


def _snapshot() -> tracemalloc.Snapshot:
    """What is traced now, less other threads' (`_OTHER_THREADS`) and the snapshots' own."""
    return tracemalloc.take_snapshot().filter_traces(_OTHER_THREADS)


def _traced() -> int:
    """The bytes traced now, less other threads' (`_OTHER_THREADS`)."""
    return sum(stat.size for stat in _snapshot().statistics("filename"))


def _in_asyncio(filename: str) -> bool:
    return "asyncio" in filename or filename.endswith("_weakrefset.py")


async def _one_round(
    runner: TaskRunner, peer: GonePeer, clock: Clock, n: int, before: int = 0
) -> int:
    """Create `n` tasks, fetch every result, then let them expire; the bytes held at the top."""
    store = runner.store
    ids: list[str] = []
    for _ in range(n):
        async with asyncio.timeout(WAIT):
            ids.append((await runner.start("owner", 60_000, peer, work)).task.task_id)
    for number, task_id in enumerate(ids):
        async with asyncio.timeout(WAIT):
            result = await runner.result("owner", task_id, peer, number)
        assert result["content"][0]["text"] == task_id
    held = tracemalloc.get_traced_memory()[0] - before if tracemalloc.is_tracing() else 0
    assert len(runner) == 0 and len(store) == n  # `def __len__`: MemoryTaskStore
    del ids
    clock.now += 61
    assert await store.purge_expired() == n
    return held
