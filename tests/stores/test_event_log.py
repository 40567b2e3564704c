"""MemoryEventStore's own behaviour: a window bounded in bytes as well as in events, refused
when it could hold nothing. What every event store does (replay order, windows, holes,
forgetting) is checked in test_store_checks.py."""

from __future__ import annotations

import pytest

from mcpkit.stores import MemoryEventStore


async def test_the_window_is_bounded_in_bytes_too() -> None:
    store = MemoryEventStore(max_events=100, max_bytes=10)
    for seq in range(1, 5):
        await store.append("s", seq, b"abcd")
    assert await store.replay_after("s", 2) == [(3, b"abcd"), (4, b"abcd")]
    await store.append("s", 5, b"x" * 11)  # one event over the bound is not kept either
    assert await store.replay_after("s", 4) is None
    assert await store.replay_after("s", 5) == []


def test_a_window_that_holds_nothing_is_refused() -> None:
    for window in ({"max_events": 0}, {"max_bytes": 0}):
        with pytest.raises(ValueError, match="at least 1"):
            MemoryEventStore(**window)


async def test_the_store_counts_the_streams_it_keeps() -> None:
    store = MemoryEventStore()
    for stream_id in ("a", "b"):
        await store.append(stream_id, 1, b"m")
    assert len(store) == 2
    await store.forget("a")
    assert len(store) == 1
