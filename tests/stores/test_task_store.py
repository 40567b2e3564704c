"""MemoryTaskStore: the spec's task lifecycle (basic/utilities/tasks), expiry, bounds,
pagination, isolation between owners, and what a hostile requestor can send."""

from __future__ import annotations

import asyncio
import tracemalloc
from typing import Any, Literal

import pytest

from mcpkit.errors import LocalProtocolError, McpError
from mcpkit.protocol import codes
from mcpkit.stores import MemoryTaskStore, TaskOutcome, is_terminal

OK = TaskOutcome(result={"content": [{"type": "text", "text": "done"}], "isError": False})
BOOM = TaskOutcome(error={"code": -32603, "message": "boom"})


class FakeWallClock:
    """Wall-clock seconds that move only when told."""

    def __init__(self, now: float = 1_764_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def make(**kwargs: Any) -> tuple[MemoryTaskStore, FakeWallClock]:
    clock = FakeWallClock()
    return MemoryTaskStore(clock=clock, **kwargs), clock


async def test_create_starts_working_with_spec_fields() -> None:
    store, _ = make(poll_interval=500)
    task = await store.create("alice", ttl=60_000)
    assert task.status == "working"
    assert task.ttl == 60_000 and task.poll_interval == 500
    assert task.created_at == task.last_updated_at == "2025-11-24T16:00:00.000Z"
    assert len(task.task_id) >= 32  # 192 random bits, url-safe
    assert await store.get("alice", task.task_id) == task
    assert await store.outcome("alice", task.task_id) is None


async def test_ttl_defaults_and_is_capped() -> None:
    store, _ = make(default_ttl=1_000, max_ttl=5_000)
    assert (await store.create("a")).ttl == 1_000
    assert (await store.create("a", ttl=999_999_999)).ttl == 5_000


@pytest.mark.parametrize("ttl", [0, -1, -(2**63)])
async def test_non_positive_ttl_is_invalid_params(ttl: int) -> None:
    store, _ = make()
    with pytest.raises(McpError) as info:
        await store.create("a", ttl=ttl)
    assert info.value.code == codes.INVALID_PARAMS and "ttl" in info.value.message


async def test_working_and_input_required_alternate() -> None:
    store, clock = make()
    task = await store.create("a")
    clock.now += 1.5
    moved = await store.set_status("a", task.task_id, "input_required", "need a city")
    assert moved.status == "input_required" and moved.status_message == "need a city"
    assert moved.last_updated_at == "2025-11-24T16:00:01.500Z"
    assert moved.created_at == task.created_at
    back = await store.set_status("a", task.task_id, "working")
    assert back.status == "working" and back.status_message is None


@pytest.mark.parametrize("start", ["working", "input_required"])
@pytest.mark.parametrize(
    ("status", "outcome"), [("completed", OK), ("failed", BOOM), ("failed", OK)]
)
async def test_finish_from_any_live_state(
    start: Literal["working", "input_required"],
    status: Literal["completed", "failed"],
    outcome: TaskOutcome,
) -> None:
    store, _ = make()
    task = await store.create("a")
    await store.set_status("a", task.task_id, start)
    done = await store.finish("a", task.task_id, status, outcome, "why")
    assert done.status == status and done.status_message == "why"
    assert await store.outcome("a", task.task_id) == outcome


@pytest.mark.parametrize("start", ["working", "input_required"])
async def test_cancel_from_any_live_state(start: Literal["working", "input_required"]) -> None:
    store, _ = make()
    task = await store.create("a")
    await store.set_status("a", task.task_id, start)
    cancelled = await store.cancel("a", task.task_id, "by request")
    assert cancelled.status == "cancelled" and cancelled.status_message == "by request"
    assert await store.get("a", task.task_id) == cancelled


async def _terminal(store: MemoryTaskStore, how: str) -> str:
    task_id = (await store.create("a")).task_id
    if how == "cancelled":
        await store.cancel("a", task_id)
    else:
        await store.finish("a", task_id, how, OK if how == "completed" else BOOM)  # type: ignore[arg-type]
    return task_id


@pytest.mark.parametrize("how", ["completed", "failed", "cancelled"])
async def test_a_terminal_task_never_changes(how: str) -> None:
    store, clock = make()
    task_id = await _terminal(store, how)
    before = await store.get("a", task_id)
    outcome = await store.outcome("a", task_id)
    clock.now += 1
    assert (await store.set_status("a", task_id, "working")) == before
    assert (await store.set_status("a", task_id, "input_required")) == before
    assert (await store.finish("a", task_id, "completed", OK)) == before
    assert (await store.finish("a", task_id, "failed", BOOM)) == before
    with pytest.raises(McpError) as info:
        await store.cancel("a", task_id)
    assert info.value.code == codes.INVALID_PARAMS
    assert info.value.message == f"Cannot cancel task: already in terminal status {how!r}"
    assert await store.get("a", task_id) == before
    assert await store.outcome("a", task_id) == outcome
    assert is_terminal(before.status)


async def test_cancelled_task_keeps_no_late_outcome() -> None:
    store, _ = make()
    task_id = await _terminal(store, "cancelled")
    await store.finish("a", task_id, "completed", OK)
    assert await store.outcome("a", task_id) is None


async def test_local_misuse_is_refused() -> None:
    store, _ = make()
    task_id = (await store.create("a")).task_id
    with pytest.raises(LocalProtocolError):
        await store.set_status("a", task_id, "completed")  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError):
        await store.finish("a", task_id, "cancelled", OK)  # type: ignore[arg-type]
    with pytest.raises(LocalProtocolError):
        await store.finish("a", task_id, "completed", TaskOutcome())
    with pytest.raises(LocalProtocolError):
        await store.finish("a", task_id, "completed", TaskOutcome(result={}, error={}))
    assert (await store.get("a", task_id)).status == "working"
    with pytest.raises(LocalProtocolError):
        MemoryTaskStore(default_ttl=10, max_ttl=5)
    with pytest.raises(LocalProtocolError):
        MemoryTaskStore(max_tasks=0)


async def test_expiry_after_ttl_from_created_at() -> None:
    store, clock = make()
    task_id = (await store.create("a", ttl=10_000)).task_id
    clock.now += 5
    await store.set_status("a", task_id, "input_required")  # updates do not extend the ttl
    clock.now += 4.999
    assert (await store.get("a", task_id)).status == "input_required"
    clock.now += 0.001
    with pytest.raises(McpError) as info:
        await store.get("a", task_id)
    assert info.value.code == codes.INVALID_PARAMS and "not found" in info.value.message
    assert len(store) == 0


async def test_purge_expired_frees_every_expired_task() -> None:
    store, clock = make()
    for ttl in (1_000, 2_000, 3_000):
        await store.create("a", ttl=ttl)
    await store.create("b", ttl=60_000)
    clock.now += 2.5
    assert await store.purge_expired() == 2
    assert len(store) == 2
    assert [t.ttl for t in (await store.list("a"))[0]] == [3_000]
    clock.now += 100
    assert await store.purge_expired() == 2 and len(store) == 0
    assert await store.purge_expired() == 0


async def test_expired_terminal_task_is_gone_with_its_outcome() -> None:
    store, clock = make()
    task_id = (await store.create("a", ttl=1_000)).task_id
    await store.finish("a", task_id, "completed", OK)
    clock.now += 1
    for call in (store.get, store.outcome, store.cancel):
        with pytest.raises(McpError):
            await call("a", task_id)


async def test_total_and_per_owner_bounds() -> None:
    store, clock = make(max_tasks=3, max_tasks_per_owner=2, default_ttl=1_000)
    await store.create("a")
    await store.create("a")
    with pytest.raises(McpError) as info:
        await store.create("a")
    assert info.value.code == codes.INTERNAL_ERROR
    assert "max_tasks_per_owner" in info.value.message
    await store.create("b")
    with pytest.raises(McpError) as info:
        await store.create("c")
    assert "max_tasks" in info.value.message
    clock.now += 1  # expiry makes room again, without an explicit purge
    assert (await store.create("c")).status == "working"
    assert len(store) == 1


async def test_at_a_bound_the_oldest_finished_task_makes_room() -> None:
    # A cap must not lock everyone out until tasks expire: finished tasks nobody fetched go
    # first, oldest first, of the same owner at its own bound, of anyone at the total one.
    store, _ = make(max_tasks=3, max_tasks_per_owner=2)
    a1, a2 = (await store.create("a")).task_id, (await store.create("a")).task_id
    await store.cancel("a", a2)
    a3 = (await store.create("a")).task_id  # a2 (cancelled) made room, not a1 (working)
    assert {t.task_id for t in (await store.list("a"))[0]} == {a1, a3}
    b1 = (await store.create("b")).task_id
    await store.cancel("a", a1)
    await store.create("c")  # the total bound: a1, the oldest finished, goes
    with pytest.raises(McpError):
        await store.get("a", a1)
    assert (await store.get("b", b1)).status == "working"


async def test_list_paginates_oldest_first() -> None:
    store, _ = make(page_size=2)
    ids = [(await store.create("a")).task_id for _ in range(5)]
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        page, cursor = await store.list("a", cursor)
        pages += 1
        seen += [t.task_id for t in page]
        if cursor is None:
            break
    assert seen == ids and pages == 3


async def test_list_cursor_survives_expiry_of_listed_tasks() -> None:
    store, clock = make(page_size=2)
    first = [(await store.create("a", ttl=1_000)).task_id for _ in range(2)]
    later = [(await store.create("a", ttl=60_000)).task_id for _ in range(3)]
    page, cursor = await store.list("a")
    assert [t.task_id for t in page] == first and cursor is not None
    clock.now += 1  # the first page expires: the next page must neither skip nor repeat
    page, cursor = await store.list("a", cursor)
    assert [t.task_id for t in page] == later[:2]
    page, cursor = await store.list("a", cursor)
    assert [t.task_id for t in page] == later[2:] and cursor is None


async def test_exact_page_has_no_next_cursor() -> None:
    store, _ = make(page_size=2)
    for _ in range(2):
        await store.create("a")
    page, cursor = await store.list("a")
    assert len(page) == 2 and cursor is None
    assert await store.list("nobody") == ([], None)


@pytest.mark.parametrize(
    "cursor", ["x" * 1_000_000, "bogus", "!!!", "o:1", "bzotMQ", "9" * 5000, "\x00"]
)
async def test_hostile_cursor_is_invalid_params(cursor: str) -> None:
    store, _ = make()
    await store.create("a")
    with pytest.raises(McpError) as info:
        await store.list("a", cursor)
    assert info.value.code == codes.INVALID_PARAMS
    assert len(info.value.message) < 200


async def test_owners_cannot_see_or_touch_each_others_tasks() -> None:
    store, _ = make()
    mine = (await store.create("alice")).task_id
    theirs = (await store.create("bob")).task_id
    assert [t.task_id for t in (await store.list("alice"))[0]] == [mine]
    assert [t.task_id for t in (await store.list("bob"))[0]] == [theirs]
    for call in (store.get, store.outcome, store.cancel):
        with pytest.raises(McpError) as foreign:
            await call("alice", theirs)
        with pytest.raises(McpError) as unknown:
            await call("alice", "no-such-task")
        # a foreign task reads exactly like an unknown one: ids cannot be probed
        assert foreign.value.code == unknown.value.code == codes.INVALID_PARAMS
    with pytest.raises(McpError):
        await store.set_status("alice", theirs, "input_required")
    with pytest.raises(McpError):
        await store.finish("alice", theirs, "completed", OK)
    with pytest.raises(McpError):
        await store.wait("alice", theirs, timeout=1)
    assert (await store.get("bob", theirs)).status == "working"


@pytest.mark.parametrize("task_id", ["", "x" * 100_000, "\u0000\ud800", "../../etc"])
async def test_hostile_task_ids_are_not_found(task_id: str) -> None:
    store, _ = make()
    with pytest.raises(McpError) as info:
        await store.get("a", task_id)
    assert info.value.code == codes.INVALID_PARAMS
    assert len(info.value.message) < 200


async def test_task_ids_are_unique() -> None:
    store, _ = make(max_tasks_per_owner=2000)
    ids = {(await store.create("a")).task_id for _ in range(2000)}
    assert len(ids) == 2000


async def test_wait_returns_at_terminal_state() -> None:
    store, _ = make()
    task_id = (await store.create("a")).task_id
    waiter = asyncio.create_task(store.wait("a", task_id, timeout=10))
    await asyncio.sleep(0)
    assert not waiter.done()
    await store.set_status("a", task_id, "working", "still going")  # not settled: keep waiting
    await asyncio.sleep(0)
    assert not waiter.done()
    await store.finish("a", task_id, "completed", OK)
    assert (await asyncio.wait_for(waiter, 5)).status == "completed"


async def test_wait_returns_at_input_required_and_cancel() -> None:
    store, _ = make()
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


async def test_wait_is_bounded() -> None:
    store, _ = make()
    task_id = (await store.create("a")).task_id
    task = await store.wait("a", task_id, timeout=0.01)
    assert task.status == "working"


async def test_wait_on_a_task_that_expired_meanwhile_is_not_found() -> None:
    store, clock = make()
    task_id = (await store.create("a", ttl=1_000)).task_id
    waiter = asyncio.create_task(store.wait("a", task_id, timeout=0.05))
    await asyncio.sleep(0)
    clock.now += 1
    with pytest.raises(McpError):
        await asyncio.wait_for(waiter, 5)


async def test_memory_is_returned_after_expiry() -> None:
    store, clock = make(max_tasks=20_000, max_tasks_per_owner=20_000, default_ttl=1_000)
    big = TaskOutcome(result={"content": [{"type": "text", "text": "y" * 1_000}]})
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(5_000):
            task_id = (await store.create(f"owner{i % 50}")).task_id
            await store.finish(f"owner{i % 50}", task_id, "completed", big)
        full = tracemalloc.get_traced_memory()[0]
        clock.now += 1
        assert await store.purge_expired() == 5_000
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert full - before > 1_000_000  # the results really were held
    # ...and are all released, heap and owner index included: what stays is noise of the
    # process (a few hundred bytes once in a while), far under 5% of what was held.
    assert after - before < (full - before) / 20
    assert len(store) == 0 and await store.list("owner0") == ([], None)
