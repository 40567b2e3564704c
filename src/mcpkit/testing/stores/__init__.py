"""Conformance checks for stores: the behaviour every `SessionStore`, `EventStore` and
`TaskStore` (`mcpkit.stores`) has, what a `LeasedTaskStore` (a task store that processes
share), a `TouchableSessionStore` and a `RememberingSessionStore` have besides
(`LeasedTaskStoreChecks`, `TouchableSessionStoreChecks`, `RememberingSessionStoreChecks`),
what the leases of processes sharing a store do (`LivenessChecks`), and what a
`KeyValueStore` does (`KeyValueChecks`), as classes of `async def test_...` methods to
inherit. The in-memory stores pass them in mcpkit's own tests, and a store of your own
(SQLite, Redis) passes the same ones by saying how to make it:

```python
from mcpkit.stores import MemoryEventStore
from mcpkit.testing.stores import EventStoreChecks


class TestMyEventStore(EventStoreChecks):
    async def make_store(self, window):
        return MemoryEventStore(max_events=window)
```

Each class has `make_store` (a new, empty store for one check; `TaskStoreChecks` also hands
it a `ManualClock` the store must read the time from, and `TaskSettings`) and
`close_store` (release it; by default nothing). mcpkit's pytest plugin runs the checks and
rewrites their asserts, so that a failure shows the values compared. docs/testing.md,
"Checking a store".
"""

from __future__ import annotations

from mcpkit.testing.stores._common import ManualClock
from mcpkit.testing.stores._event_checks import EventStoreChecks
from mcpkit.testing.stores._kv_checks import KeyValueChecks
from mcpkit.testing.stores._lease_checks import LeasedTaskStoreChecks
from mcpkit.testing.stores._liveness_checks import LivenessChecks
from mcpkit.testing.stores._session_checks import (
    RememberingSessionStoreChecks,
    SessionStoreChecks,
    TouchableSessionStoreChecks,
)
from mcpkit.testing.stores._task_checks import TaskSettings, TaskStoreChecks

__all__ = [
    "EventStoreChecks",
    "KeyValueChecks",
    "LeasedTaskStoreChecks",
    "LivenessChecks",
    "ManualClock",
    "RememberingSessionStoreChecks",
    "SessionStoreChecks",
    "TaskSettings",
    "TaskStoreChecks",
    "TouchableSessionStoreChecks",
]
