"""The behaviour every `mcpkit.stores.tasks.LeasedTaskStore` has on top of a `TaskStore`'s: a
task whose process stopped renewing its lease is failed, never left `working`, and `renew`
names the tasks another process ended."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager

from mcpkit.stores.tasks import LAPSED, LeasedTaskStore, TaskOutcome, lapsed_outcome
from mcpkit.testing.stores._common import ManualClock

__all__ = ["LeasedTaskStoreChecks"]

_OK = TaskOutcome(result={"content": [], "isError": False})
_LEASE = 10.0


class LeasedTaskStoreChecks:
    """Checks any `LeasedTaskStore` passes, beside `TaskStoreChecks`. Subclass it in a test
    module under a name pytest collects and define `make_leased_store`."""

    async def make_leased_store(self, clock: ManualClock, lease: float) -> LeasedTaskStore:
        """A new, empty store granting leases of `lease` seconds, reading wall-clock time from
        `clock`, otherwise as the store is made by default. Override it."""
        raise NotImplementedError(
            "define make_leased_store() in your subclass of LeasedTaskStoreChecks"
        )

    async def close_leased_store(self, store: LeasedTaskStore) -> None:
        """Release what `make_leased_store` took; by default nothing."""

    @asynccontextmanager
    async def _leased(self) -> AsyncGenerator[tuple[LeasedTaskStore, ManualClock], None]:
        clock = ManualClock()
        store = await self.make_leased_store(clock, _LEASE)
        try:
            assert store.lease == _LEASE
            yield store, clock
        finally:
            await self.close_leased_store(store)

    async def test_a_task_whose_lease_lapses_is_failed_with_the_lapsed_outcome(self) -> None:
        async with self._leased() as (store, clock):
            working = (await store.create("a")).task_id
            asking = (await store.create("a")).task_id
            await store.set_status("a", asking, "input_required")
            clock.advance(_LEASE * 0.9)
            assert (await store.get("a", working)).status == "working"
            clock.advance(_LEASE * 0.2)
            for task_id in (working, asking):
                task = await store.get("a", task_id)
                assert (task.status, task.status_message) == ("failed", LAPSED)
                assert await store.outcome("a", task_id) == lapsed_outcome()

    async def test_every_read_fails_a_lapsed_task_first(self) -> None:
        async with self._leased() as (store, clock):
            listed = (await store.create("a")).task_id
            waited = (await store.create("a")).task_id
            fetched = (await store.create("a")).task_id
            clock.advance(_LEASE + 1)
            page, _ = await store.list("a")
            assert {t.task_id: t.status for t in page}[listed] == "failed"
            task = await asyncio.wait_for(store.wait("a", waited, timeout=30), 5)
            assert task.status == "failed"
            assert await store.outcome("a", fetched) == lapsed_outcome()

    async def test_renewing_keeps_a_task_alive(self) -> None:
        async with self._leased() as (store, clock):
            task_id = (await store.create("a")).task_id
            for _ in range(5):
                clock.advance(_LEASE * 0.75)
                assert await store.renew([task_id]) == set()
            assert (await store.get("a", task_id)).status == "working"
            await store.finish("a", task_id, "completed", _OK)
            clock.advance(_LEASE * 3)  # a finished task has no lease to lapse
            assert (await store.get("a", task_id)).status == "completed"
            assert await store.outcome("a", task_id) == _OK

    async def test_renew_names_the_tasks_whose_work_should_stop(self) -> None:
        async with self._leased() as (store, clock):
            live, cancelled, done, lapsed = [(await store.create("a")).task_id for _ in range(4)]
            await store.cancel("a", cancelled)
            await store.finish("a", done, "completed", _OK)
            clock.advance(_LEASE * 0.75)
            await store.renew([live, cancelled, done])  # `lapsed` is not renewed
            clock.advance(_LEASE * 0.5)
            stop = await store.renew([live, cancelled, done, lapsed, "no-such-task", ""])
            assert stop == {cancelled, done, lapsed, "no-such-task", ""}
            assert (await store.get("a", live)).status == "working"
            assert (await store.get("a", lapsed)).status == "failed"

    async def test_a_lapsed_task_keeps_its_failure_when_its_work_ends_late(self) -> None:
        async with self._leased() as (store, clock):
            task_id = (await store.create("a")).task_id
            clock.advance(_LEASE + 1)
            # The process was not dead after all, only stalled: what it stores now is too late.
            late = await store.finish("a", task_id, "completed", _OK)
            assert (late.status, late.status_message) == ("failed", LAPSED)
            assert await store.outcome("a", task_id) == lapsed_outcome()
            assert (await store.set_status("a", task_id, "working")).status == "failed"
            assert await store.renew([task_id]) == {task_id}
