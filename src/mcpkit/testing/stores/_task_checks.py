"""The behaviour every `mcpkit.stores.tasks.TaskStore` has (spec: basic/utilities/tasks), as
checks to inherit: the lifecycle, expiry, bounds, pagination, isolation between owners,
waiting, and what a hostile requestor can send."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Literal

from mcpkit.errors import LocalProtocolError, McpError
from mcpkit.protocol import codes
from mcpkit.stores.tasks import TaskOutcome, TaskStore, is_terminal
from mcpkit.testing.stores._common import ManualClock, raised

__all__ = ["TaskSettings", "TaskStoreChecks"]

OK = TaskOutcome(result={"content": [{"type": "text", "text": "done"}], "isError": False})
BOOM = TaskOutcome(error={"code": -32603, "message": "boom", "data": {"where": ["x", 1]}})
_LIVE: tuple[Literal["working", "input_required"], ...] = ("working", "input_required")
_FINISHED: tuple[Literal["completed", "failed"], ...] = ("completed", "failed")
#: What ManualClock() reads, as a task's createdAt.
_START = "2025-11-24T16:00:00.000Z"


@dataclass(frozen=True, slots=True)
class TaskSettings:
    """What a task store is made with for one check, named and meant as `MemoryTaskStore`
    takes them (`MemoryTaskStore(clock=clock, **dataclasses.asdict(settings))`): ttls in
    ms (`default_ttl` when a request names none, `max_ttl` the most granted),
    `poll_interval` (ms) put on every task, `max_tasks` in the store and
    `max_tasks_per_owner`, and `page_size` tasks per `list` page."""

    default_ttl: int = 3_600_000
    max_ttl: int = 86_400_000
    poll_interval: int | None = 1_000
    max_tasks: int = 10_000
    max_tasks_per_owner: int = 1_000
    page_size: int = 100


class TaskStoreChecks:
    """Checks any `TaskStore` passes. Subclass it in a test module under a name pytest
    collects (`class TestMyTaskStore(TaskStoreChecks)`) and define `make_store`; each check
    is an `async def test_...` method, run by mcpkit's pytest plugin."""

    async def make_store(self, clock: ManualClock, settings: TaskSettings) -> TaskStore:
        """A new, empty store with `settings`, reading wall-clock time from `clock` (the
        checks move it to expire tasks). Override it."""
        raise NotImplementedError("define make_store() in your subclass of TaskStoreChecks")

    async def close_store(self, store: TaskStore) -> None:
        """Release what `make_store` took (a connection, a file, keys); by default nothing."""

    @asynccontextmanager
    async def _store(self, **settings: int) -> AsyncGenerator[tuple[TaskStore, ManualClock], None]:
        clock = ManualClock()
        store = await self.make_store(clock, TaskSettings(**settings))
        try:
            yield store, clock
        finally:
            await self.close_store(store)

    # ------------------------------------------------------------------ lifecycle

    async def test_create_starts_working_with_the_spec_fields(self) -> None:
        async with self._store(poll_interval=500) as (store, _):
            task = await store.create("alice", ttl=60_000)
            assert task.status == "working" and task.status_message is None
            assert task.ttl == 60_000 and task.poll_interval == 500
            assert task.created_at == task.last_updated_at == _START
            assert await store.get("alice", task.task_id) == task
            assert await store.outcome("alice", task.task_id) is None

    async def test_ttl_defaults_and_is_capped(self) -> None:
        async with self._store(default_ttl=1_000, max_ttl=5_000) as (store, _):
            assert (await store.create("a")).ttl == 1_000
            assert (await store.create("a", ttl=999_999_999)).ttl == 5_000
            assert (await store.create("a", ttl=2_000)).ttl == 2_000

    async def test_a_ttl_that_is_not_positive_is_invalid_params(self) -> None:
        async with self._store() as (store, _):
            for ttl in (0, -1, -(2**63)):
                error = await raised(store.create("a", ttl=ttl), McpError)
                assert error.code == codes.INVALID_PARAMS and "ttl" in error.message

    async def test_working_and_input_required_alternate(self) -> None:
        async with self._store() as (store, clock):
            task = await store.create("a")
            clock.advance(1.5)
            moved = await store.set_status("a", task.task_id, "input_required", "need a city")
            assert moved.status == "input_required" and moved.status_message == "need a city"
            assert moved.last_updated_at == "2025-11-24T16:00:01.500Z"
            assert moved.created_at == task.created_at
            back = await store.set_status("a", task.task_id, "working")
            assert back.status == "working" and back.status_message is None
            assert await store.get("a", task.task_id) == back

    async def test_a_live_task_finishes_with_its_outcome(self) -> None:
        async with self._store() as (store, _):
            ends: list[tuple[Literal["completed", "failed"], TaskOutcome]] = [
                ("completed", OK),
                ("failed", BOOM),
                ("failed", OK),  # a tool result with isError (the runner says so)
            ]
            for start in _LIVE:
                for status, outcome in ends:
                    task = await store.create("a")
                    await store.set_status("a", task.task_id, start)
                    done = await store.finish("a", task.task_id, status, outcome, "why")
                    assert done.status == status and done.status_message == "why"
                    assert await store.get("a", task.task_id) == done
                    assert await store.outcome("a", task.task_id) == outcome

    async def test_a_live_task_can_be_cancelled(self) -> None:
        async with self._store() as (store, _):
            for start in _LIVE:
                task = await store.create("a")
                await store.set_status("a", task.task_id, start)
                cancelled = await store.cancel("a", task.task_id, "by request")
                assert cancelled.status == "cancelled"
                assert cancelled.status_message == "by request"
                assert await store.get("a", task.task_id) == cancelled
                assert await store.outcome("a", task.task_id) is None

    async def test_a_terminal_task_never_changes(self) -> None:
        async with self._store() as (store, clock):
            for how in ("completed", "failed", "cancelled"):
                task_id = await _terminal(store, how)
                before = await store.get("a", task_id)
                outcome = await store.outcome("a", task_id)
                clock.advance(1)
                for live in _LIVE:
                    assert await store.set_status("a", task_id, live) == before
                assert await store.finish("a", task_id, "completed", OK) == before
                assert await store.finish("a", task_id, "failed", BOOM) == before
                error = await raised(store.cancel("a", task_id), McpError)
                assert error.code == codes.INVALID_PARAMS
                assert error.message == f"Cannot cancel task: already in terminal status {how!r}"
                assert await store.get("a", task_id) == before and is_terminal(before.status)
                assert await store.outcome("a", task_id) == outcome

    async def test_a_cancelled_task_keeps_no_late_outcome(self) -> None:
        async with self._store() as (store, _):
            task_id = await _terminal(store, "cancelled")
            await store.finish("a", task_id, "completed", OK)
            assert await store.outcome("a", task_id) is None
            assert (await store.get("a", task_id)).status == "cancelled"

    async def test_local_misuse_is_refused_and_changes_nothing(self) -> None:
        async with self._store() as (store, _):
            task_id = (await store.create("a")).task_id
            # A status each call does not take (the types say so; a caller may not check)...
            await raised(
                store.set_status("a", task_id, "completed"),  # type: ignore[arg-type]  # misuse
                LocalProtocolError,
            )
            await raised(
                store.finish("a", task_id, "cancelled", OK),  # type: ignore[arg-type]  # misuse
                LocalProtocolError,
            )
            # ...and an outcome that is not exactly one of a result and an error.
            for outcome in (TaskOutcome(), TaskOutcome(result={}, error={})):
                await raised(store.finish("a", task_id, "completed", outcome), LocalProtocolError)
            assert (await store.get("a", task_id)).status == "working"

    # --------------------------------------------------------------------- copies

    async def test_what_a_store_returns_is_a_copy(self) -> None:
        async with self._store() as (store, _):
            created = await store.create("a")
            task_id = created.task_id
            created.status = "completed"
            got = await store.get("a", task_id)
            assert got.status == "working"
            got.status_message = "changed by a caller"
            assert (await store.get("a", task_id)).status_message is None
            result = {"content": [{"type": "text", "text": "done"}]}
            await store.finish("a", task_id, "completed", TaskOutcome(result=result))
            result["content"].append({"type": "text", "text": "changed by a caller"})
            outcome = await store.outcome("a", task_id)
            assert outcome is not None and outcome.result is not None
            assert len(outcome.result["content"]) == 1
            outcome.result["content"].clear()
            again = await store.outcome("a", task_id)
            assert again is not None and again.result is not None
            assert len(again.result["content"]) == 1

    # --------------------------------------------------------------------- expiry

    async def test_a_task_expires_ttl_after_it_was_created(self) -> None:
        async with self._store() as (store, clock):
            task_id = (await store.create("a", ttl=10_000)).task_id
            clock.advance(5)
            await store.set_status("a", task_id, "input_required")  # no longer life for it
            clock.advance(4.999)
            assert (await store.get("a", task_id)).status == "input_required"
            clock.advance(0.001)
            error = await raised(store.get("a", task_id), McpError)
            assert error.code == codes.INVALID_PARAMS and "not found" in error.message
            assert await store.list("a") == ([], None)

    async def test_purge_expired_deletes_every_expired_task(self) -> None:
        async with self._store() as (store, clock):
            for ttl in (1_000, 2_000, 3_000):
                await store.create("a", ttl=ttl)
            await store.create("b", ttl=60_000)
            clock.advance(2.5)
            assert await store.purge_expired() == 2
            assert [t.ttl for t in (await store.list("a"))[0]] == [3_000]
            clock.advance(100)
            assert await store.purge_expired() == 2
            assert await store.purge_expired() == 0
            assert await store.list("b") == ([], None)

    async def test_an_expired_task_is_gone_with_its_outcome(self) -> None:
        async with self._store() as (store, clock):
            task_id = (await store.create("a", ttl=1_000)).task_id
            await store.finish("a", task_id, "completed", OK)
            clock.advance(1)
            for call in (store.get, store.outcome, store.cancel):
                await raised(call("a", task_id), McpError)

    # --------------------------------------------------------------------- bounds

    async def test_the_total_and_per_owner_bounds(self) -> None:
        async with self._store(max_tasks=3, max_tasks_per_owner=2, default_ttl=1_000) as (
            store,
            clock,
        ):
            await store.create("a")
            await store.create("a")
            error = await raised(store.create("a"), McpError)
            assert error.code == codes.INTERNAL_ERROR and "max_tasks_per_owner" in error.message
            await store.create("b")
            error = await raised(store.create("c"), McpError)
            assert error.code == codes.INTERNAL_ERROR and "max_tasks" in error.message
            clock.advance(1)  # expiry makes room again, without an explicit purge
            assert (await store.create("c")).status == "working"

    async def test_at_a_bound_the_oldest_finished_task_makes_room(self) -> None:
        # A cap must not lock everyone out until tasks expire: finished tasks nobody fetched
        # go first, oldest first, of the same owner at its own bound, of anyone at the total.
        async with self._store(max_tasks=3, max_tasks_per_owner=2) as (store, _):
            a1, a2 = (await store.create("a")).task_id, (await store.create("a")).task_id
            await store.cancel("a", a2)
            a3 = (await store.create("a")).task_id  # a2 (cancelled) made room, not a1
            assert {t.task_id for t in (await store.list("a"))[0]} == {a1, a3}
            b1 = (await store.create("b")).task_id
            await store.cancel("a", a1)
            await store.create("c")  # the total bound: a1, the oldest finished, goes
            await raised(store.get("a", a1), McpError)
            assert (await store.get("b", b1)).status == "working"

    # ----------------------------------------------------------------- pagination

    async def test_list_pages_go_oldest_first(self) -> None:
        async with self._store(page_size=2) as (store, _):
            ids = [(await store.create("a")).task_id for _ in range(5)]
            seen: list[str] = []
            cursor: str | None = None
            for _ in range(3):
                page, cursor = await store.list("a", cursor)
                seen += [t.task_id for t in page]
                if cursor is None:
                    break
            assert seen == ids and cursor is None

    async def test_a_cursor_survives_the_expiry_of_listed_tasks(self) -> None:
        async with self._store(page_size=2) as (store, clock):
            first = [(await store.create("a", ttl=1_000)).task_id for _ in range(2)]
            later = [(await store.create("a", ttl=60_000)).task_id for _ in range(3)]
            page, cursor = await store.list("a")
            assert [t.task_id for t in page] == first and cursor is not None
            clock.advance(1)  # the first page expires: the next must neither skip nor repeat
            page, cursor = await store.list("a", cursor)
            assert [t.task_id for t in page] == later[:2]
            page, cursor = await store.list("a", cursor)
            assert [t.task_id for t in page] == later[2:] and cursor is None

    async def test_an_exact_page_has_no_next_cursor(self) -> None:
        async with self._store(page_size=2) as (store, _):
            for _ in range(2):
                await store.create("a")
            page, cursor = await store.list("a")
            assert len(page) == 2 and cursor is None
            assert await store.list("nobody") == ([], None)

    async def test_a_hostile_cursor_is_invalid_params(self) -> None:
        async with self._store() as (store, _):
            await store.create("a")
            for cursor in ("x" * 1_000_000, "bogus", "!!!", "o:1", "bzotMQ", "9" * 5000, "\x00"):
                error = await raised(store.list("a", cursor), McpError)
                assert error.code == codes.INVALID_PARAMS and len(error.message) < 200

    # ------------------------------------------------------------------ isolation

    async def test_owners_cannot_see_or_touch_each_others_tasks(self) -> None:
        async with self._store() as (store, _):
            mine = (await store.create("alice")).task_id
            theirs = (await store.create("bob")).task_id
            assert [t.task_id for t in (await store.list("alice"))[0]] == [mine]
            assert [t.task_id for t in (await store.list("bob"))[0]] == [theirs]
            for call in (store.get, store.outcome, store.cancel):
                foreign = await raised(call("alice", theirs), McpError)
                unknown = await raised(call("alice", "no-such-task"), McpError)
                # A foreign task reads exactly like an unknown one: ids cannot be probed.
                assert foreign.code == unknown.code == codes.INVALID_PARAMS
            await raised(store.set_status("alice", theirs, "input_required"), McpError)
            await raised(store.finish("alice", theirs, "completed", OK), McpError)
            await raised(store.wait("alice", theirs, timeout=1), McpError)
            assert (await store.get("bob", theirs)).status == "working"

    async def test_hostile_task_ids_are_not_found(self) -> None:
        async with self._store() as (store, _):
            real = (await store.create("a")).task_id
            for task_id in ("", "x" * 100_000, "\u0000\ud800", "../../etc", "*", "%", real[:-1]):
                error = await raised(store.get("a", task_id), McpError)
                assert error.code == codes.INVALID_PARAMS and len(error.message) < 200

    async def test_task_ids_are_unique(self) -> None:
        async with self._store(max_tasks_per_owner=2_000) as (store, _):
            ids = {(await store.create("a")).task_id for _ in range(2_000)}
            assert len(ids) == 2_000

    async def test_tasks_created_and_finished_at_once(self) -> None:
        async with self._store() as (store, _):
            owners = ["alice", "bob"] * 20
            tasks = await asyncio.gather(*(store.create(owner) for owner in owners))
            assert len({t.task_id for t in tasks}) == len(tasks)
            await asyncio.gather(
                *(
                    store.finish(o, t.task_id, "completed", OK)
                    for o, t in zip(owners, tasks, strict=True)
                )
            )
            for owner in ("alice", "bob"):
                listed, _ = await store.list(owner)
                mine = {t.task_id for o, t in zip(owners, tasks, strict=True) if o == owner}
                assert {t.task_id for t in listed} == mine
                assert {t.status for t in listed} == {"completed"}

    # -------------------------------------------------------------------- waiting

    async def test_wait_returns_once_the_task_is_terminal(self) -> None:
        async with self._store() as (store, _):
            task_id = (await store.create("a")).task_id
            waiter = asyncio.create_task(store.wait("a", task_id, timeout=10))
            await asyncio.sleep(0)
            await store.set_status("a", task_id, "working", "still going")  # not settled
            await asyncio.sleep(0)
            assert not waiter.done()
            await store.finish("a", task_id, "completed", OK)
            assert (await asyncio.wait_for(waiter, 5)).status == "completed"

    async def test_wait_returns_at_input_required_and_at_cancel(self) -> None:
        async with self._store() as (store, _):
            task_id = (await store.create("a")).task_id
            waiters = [asyncio.create_task(store.wait("a", task_id, timeout=10)) for _ in range(3)]
            await asyncio.sleep(0)
            await store.set_status("a", task_id, "input_required")
            for task in await asyncio.wait_for(asyncio.gather(*waiters), 5):
                assert task.status == "input_required"
            assert (await store.wait("a", task_id, timeout=10)).status == "input_required"
            await store.set_status("a", task_id, "working")
            waiter = asyncio.create_task(store.wait("a", task_id, timeout=10))
            await asyncio.sleep(0)
            await store.cancel("a", task_id)
            assert (await asyncio.wait_for(waiter, 5)).status == "cancelled"

    async def test_wait_is_bounded_by_its_timeout(self) -> None:
        async with self._store() as (store, _):
            task_id = (await store.create("a")).task_id
            assert (await store.wait("a", task_id, timeout=0.01)).status == "working"

    async def test_wait_on_a_task_that_expired_meanwhile_is_not_found(self) -> None:
        async with self._store() as (store, clock):
            task_id = (await store.create("a", ttl=1_000)).task_id
            waiter = asyncio.create_task(store.wait("a", task_id, timeout=0.05))
            await asyncio.sleep(0)
            clock.advance(1)
            await raised(asyncio.wait_for(waiter, 5), McpError)


async def _terminal(store: TaskStore, how: str) -> str:
    """A task of owner "a" that ended `how`: completed, failed or cancelled."""
    task_id = (await store.create("a")).task_id
    if how == "cancelled":
        await store.cancel("a", task_id)
    else:
        status = _FINISHED[0] if how == "completed" else _FINISHED[1]
        await store.finish("a", task_id, status, OK if how == "completed" else BOOM)
    return task_id
