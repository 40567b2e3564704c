"""MemoryTaskStore's own behaviour: its settings refused when they make no sense, its ids, and
the memory it gives back. What every task store does (the spec's lifecycle, expiry, bounds,
pagination, isolation, waiting) is checked in test_store_checks.py."""

from __future__ import annotations

import tracemalloc

import pytest

from mcpkit.errors import LocalProtocolError
from mcpkit.stores import MemoryTaskStore, TaskOutcome
from mcpkit.testing.stores import ManualClock


def test_settings_that_make_no_sense_are_refused() -> None:
    for settings in (
        {"default_ttl": 10, "max_ttl": 5},
        {"default_ttl": 0},
        {"max_tasks": 0},
        {"max_tasks_per_owner": 0},
        {"page_size": 0},
    ):
        with pytest.raises(LocalProtocolError):
            MemoryTaskStore(**settings)


async def test_task_ids_carry_192_random_bits() -> None:
    store = MemoryTaskStore()
    task = await store.create("a")
    assert len(task.task_id) == 32  # 24 bytes, URL-safe base64: unguessable ("Security")


async def test_expired_tasks_leave_the_store_when_touched() -> None:
    clock = ManualClock()
    store = MemoryTaskStore(clock=clock)
    for ttl in (1_000, 60_000):
        await store.create("a", ttl=ttl)
    assert len(store) == 2
    clock.advance(1)
    await store.list("a")  # any call that reads the time purges what expired
    assert len(store) == 1


async def test_memory_is_returned_after_expiry() -> None:
    clock = ManualClock()
    store = MemoryTaskStore(
        clock=clock, max_tasks=20_000, max_tasks_per_owner=20_000, default_ttl=1_000
    )
    big = TaskOutcome(result={"content": [{"type": "text", "text": "y" * 1_000}]})
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for i in range(5_000):
            task_id = (await store.create(f"owner{i % 50}")).task_id
            await store.finish(f"owner{i % 50}", task_id, "completed", big)
        full = tracemalloc.get_traced_memory()[0]
        clock.advance(1)
        assert await store.purge_expired() == 5_000
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert full - before > 1_000_000  # the results really were held
    # ...and are all released, heap and owner index included: what stays is noise of the
    # process (a few hundred bytes once in a while), far under 5% of what was held.
    assert after - before < (full - before) / 20
    assert len(store) == 0 and await store.list("owner0") == ([], None)
