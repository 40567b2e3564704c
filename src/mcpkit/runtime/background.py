"""Fire-and-forget tasks that are kept alive until they finish (asyncio holds only weak
references to tasks, so an unreferenced one may be collected mid-way)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

__all__ = ["BackgroundTasks"]


class BackgroundTasks:
    """Tasks started with `spawn`, referenced until done; `cancel_all` ends the rest."""

    __slots__ = ("_tasks",)

    def __init__(self) -> None:
        # Held only while tasks run: every idle connection has one of these.
        self._tasks: set[asyncio.Task[Any]] | None = None

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coro)
        if self._tasks is None:
            self._tasks = set()
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        if self._tasks is not None:
            self._tasks.discard(task)
            if not self._tasks:
                self._tasks = None

    def cancel_all(self) -> None:
        for task in list(self._tasks or ()):
            task.cancel()

    def __len__(self) -> int:
        return len(self._tasks or ())
