"""Tasks through a proxy (basic/utilities/tasks): which caller made which task.

A protected proxy (`auth=`) may serve many identities from one upstream that sees them all as
one requestor (a URL opened with the proxy's own credentials, an in-process server): the
upstream cannot keep them apart ("Task Isolation and Access Control"), so the proxy does. It
remembers the tasks each identity created through it and answers `tasks/get`, `tasks/result`
and `tasks/cancel` only for those, and `tasks/list` with only those. Without `auth=` every
requestor is one owner, as on a plain server: a task id is all a caller needs, and `tasks/list`
is not offered (`ProxiedSession` leaves it out)."""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from mcpkit.errors import McpError
from mcpkit.protocol import codes
from mcpkit.protocol.events import RequestInfo, RequestReceived
from mcpkit.protocol.jsonrpc import field_of
from mcpkit.stores.tasks import task_not_found
from mcpkit.types import CreateTaskResult, ListTasksResult

if TYPE_CHECKING:
    from mcpkit.proxy.upstream_link import Downstream, Link

__all__ = ["MAX_OWNERS", "MAX_TASKS_PER_OWNER", "TaskOwners", "requestor"]

#: Identities remembered, least recently active forgotten first.
MAX_OWNERS = 10_000
#: Tasks remembered per identity, oldest forgotten first (a forgotten task is not found).
MAX_TASKS_PER_OWNER = 1_000

#: The requests that name one task by its id.
BY_ID = frozenset({"tasks/get", "tasks/result", "tasks/cancel"})


def requestor(info: RequestInfo | None) -> str | None:
    """The verified identity behind a request, as a key; None without a token."""
    from mcpkit.auth.server.resource import identity_of

    identity = identity_of(None if info is None else info.auth)
    return None if identity is None else json.dumps(identity)


class TaskOwners:
    """Which identity created which task, bounded (`MAX_OWNERS`, `MAX_TASKS_PER_OWNER`)."""

    def __init__(self, max_owners: int = MAX_OWNERS, max_tasks: int = MAX_TASKS_PER_OWNER) -> None:
        self.max_owners = max_owners
        self.max_tasks = max_tasks
        self._tasks: OrderedDict[str, OrderedDict[str, None]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._tasks)

    async def forward(self, link: Link, down: Downstream, ev: RequestReceived, params: Any) -> Any:
        """`link.forward` for the identity behind `ev`, kept to the tasks it created."""
        owner = requestor(ev.request_info) or ""
        method = ev.method
        if method in BY_ID:
            task_id = field_of(params, "task_id")
            if not isinstance(task_id, str):
                raise McpError(codes.INVALID_PARAMS, f"Invalid params: {method} needs a taskId")
            self.check(owner, task_id)
        result = await link.forward(down, ev, params)
        if method == "tasks/list":
            return self.visible(owner, result)
        if isinstance(result, CreateTaskResult):
            self.record(owner, result.task.task_id)
        return result

    def record(self, owner: str, task_id: str) -> None:
        tasks = self._tasks.get(owner)
        if tasks is None:
            tasks = self._tasks[owner] = OrderedDict()
            while len(self._tasks) > self.max_owners:
                self._tasks.popitem(last=False)
        else:
            self._tasks.move_to_end(owner)
        tasks[task_id] = None
        tasks.move_to_end(task_id)
        while len(tasks) > self.max_tasks:
            tasks.popitem(last=False)

    def check(self, owner: str, task_id: str) -> None:
        """-32602 for a task this identity did not create here, as for an unknown one
        ("Protocol Errors": invalid or nonexistent taskId), so nothing is learnt of others'."""
        tasks = self._tasks.get(owner)
        if tasks is None or task_id not in tasks:
            raise task_not_found(task_id)
        self._tasks.move_to_end(owner)

    def visible(self, owner: str, result: Any) -> ListTasksResult:
        """A `tasks/list` page with only this identity's tasks (a page may come back shorter,
        or empty with a `nextCursor`: the cursor is the upstream's, passed as it is)."""
        if isinstance(result, msgspec.Raw):
            result = msgspec.json.decode(result, type=ListTasksResult)
        assert isinstance(result, ListTasksResult)
        tasks: Mapping[str, None] = self._tasks.get(owner) or {}
        return msgspec.structs.replace(
            result, tasks=[task for task in result.tasks if task.task_id in tasks]
        )
