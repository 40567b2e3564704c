"""State that must outlive a request: one small interface per kind, each with an in-memory
implementation. `mcpkit.testing.stores` checks that an implementation behaves as the
interface says."""

from __future__ import annotations

from mcpkit.stores.event_log import EventStore, MemoryEventStore
from mcpkit.stores.kv import KeyValueStore, MemoryKeyValueStore
from mcpkit.stores.sessions import (
    MemorySessionStore,
    RememberingSessionStore,
    SessionRecord,
    SessionStore,
    TouchableSessionStore,
)
from mcpkit.stores.tasks import (
    LeasedTaskStore,
    MemoryTaskStore,
    TaskOutcome,
    TaskStore,
    is_terminal,
    task_not_found,
)

__all__ = [
    "LeasedTaskStore",
    "EventStore",
    "KeyValueStore",
    "MemoryEventStore",
    "MemoryKeyValueStore",
    "MemorySessionStore",
    "MemoryTaskStore",
    "RememberingSessionStore",
    "SessionRecord",
    "SessionStore",
    "TaskOutcome",
    "TaskStore",
    "TouchableSessionStore",
    "is_terminal",
    "task_not_found",
]
