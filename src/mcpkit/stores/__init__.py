"""State that must outlive a request: one small interface per kind, with an in-memory store."""

from __future__ import annotations

from mcpkit.stores.tasks import (
    MemoryTaskStore,
    TaskOutcome,
    TaskStore,
    is_terminal,
    task_not_found,
)

__all__ = ["MemoryTaskStore", "TaskOutcome", "TaskStore", "is_terminal", "task_not_found"]
