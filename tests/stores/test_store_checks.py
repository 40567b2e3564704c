"""The in-memory stores pass the checks every store must (mcpkit.testing.stores), as a SQLite
or Redis store will: round trips, copies, deletion, expiry, replay order and window, bounds,
the task lifecycle."""

from __future__ import annotations

import dataclasses

from mcpkit.stores import MemoryEventStore, MemorySessionStore, MemoryTaskStore
from mcpkit.stores.liveness import MemoryLiveness
from mcpkit.testing.stores import (
    EventStoreChecks,
    LivenessChecks,
    ManualClock,
    RememberingSessionStoreChecks,
    TaskSettings,
    TaskStoreChecks,
)


class TestMemorySessionStore(RememberingSessionStoreChecks):
    async def make_store(self) -> MemorySessionStore:
        return MemorySessionStore()


class TestMemoryEventStore(EventStoreChecks):
    async def make_store(self, window: int) -> MemoryEventStore:
        return MemoryEventStore(max_events=window)


class TestMemoryTaskStore(TaskStoreChecks):
    async def make_store(self, clock: ManualClock, settings: TaskSettings) -> MemoryTaskStore:
        return MemoryTaskStore(clock=clock, **dataclasses.asdict(settings))


class TestMemoryLiveness(LivenessChecks):
    async def make_liveness(self) -> MemoryLiveness:
        return MemoryLiveness()
