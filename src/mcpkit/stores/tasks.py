"""The task store interface (spec: basic/utilities/tasks) and its in-memory implementation.

A task belongs to an owner: an opaque string naming the authorization context (or, without
one, the session) that created it. Every call names the owner, and a task of another owner
is answered exactly like an unknown one, so ids cannot be probed ("Task Isolation and
Access Control").
"""

from __future__ import annotations

import asyncio
import copy
import heapq
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal, Protocol, runtime_checkable

import msgspec

from mcpkit.errors import LocalProtocolError, McpError
from mcpkit.protocol import codes
from mcpkit.protocol.pagination import encode_cursor
from mcpkit.stores.task_rules import (
    already_terminal,
    check_new_status,
    check_task_limits,
    decode_task_cursor,
    granted_ttl,
    iso_stamp,
    new_task_id,
    too_many_tasks,
)
from mcpkit.types import Task, TaskStatus

__all__ = [
    "LAPSED",
    "LeasedTaskStore",
    "MemoryTaskStore",
    "TaskOutcome",
    "TaskStore",
    "is_terminal",
    "lapsed_outcome",
    "task_not_found",
]

# "Task Status Lifecycle": working and input_required move freely between each other and to
# these three; these three never change again.
_TERMINAL: frozenset[str] = frozenset({"completed", "failed", "cancelled"})


def is_terminal(status: str) -> bool:
    """Whether `status` is completed, failed or cancelled (no further change allowed)."""
    return status in _TERMINAL


def task_not_found(task_id: str) -> McpError:
    """The -32602 error the spec shows for an unknown, foreign or purged task ("Error Handling")."""
    return McpError(
        codes.INVALID_PARAMS, f"Failed to retrieve task: Task not found ({task_id[:80]!r})"
    )


class TaskOutcome(msgspec.Struct, frozen=True, omit_defaults=True):
    """What the underlying request returned: exactly one of `result` (the JSON result object)
    or `error` (the JSON-RPC error object: code, message, data), kept as JSON so that durable
    stores hold it as it is and `tasks/result` returns it unchanged ("Result Retrieval")."""

    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None


class TaskStore(Protocol):
    """Tasks of many owners. Lookups of unknown, expired or foreign tasks raise `task_not_found`;
    a status or outcome a method does not take raises `LocalProtocolError`. What a store
    returns is the caller's own (a copy, as a store a network away returns). `mcpkit.testing.
    stores.TaskStoreChecks` is the behaviour every implementation must have."""

    async def create(self, owner: str, *, ttl: int | None = None) -> Task:
        """Start a task in `working`; `ttl` is the requested lifetime in ms (may be overridden)."""
        ...

    async def get(self, owner: str, task_id: str) -> Task: ...

    async def list(self, owner: str, cursor: str | None = None) -> tuple[list[Task], str | None]:
        """One page of the owner's tasks, oldest first, and the cursor of the next page."""
        ...

    async def set_status(
        self,
        owner: str,
        task_id: str,
        status: Literal["working", "input_required"],
        message: str | None = None,
    ) -> Task:
        """Move between working and input_required; a terminal task is left as it is."""
        ...

    async def finish(
        self,
        owner: str,
        task_id: str,
        status: Literal["completed", "failed"],
        outcome: TaskOutcome,
        message: str | None = None,
    ) -> Task:
        """Store the final outcome; a task cancelled meanwhile stays cancelled, outcome dropped."""
        ...

    async def cancel(self, owner: str, task_id: str, message: str | None = None) -> Task:
        """Move to cancelled; -32602 if the task is already terminal ("Task Cancellation")."""
        ...

    async def outcome(self, owner: str, task_id: str) -> TaskOutcome | None:
        """The stored outcome, or None while running (and for a cancelled task)."""
        ...

    async def wait(self, owner: str, task_id: str, timeout: float) -> Task:
        """The task once terminal or input_required, or as it is after `timeout` seconds."""
        ...

    async def purge_expired(self) -> int:
        """Delete every task whose ttl has elapsed since createdAt; return how many."""
        ...


#: The status message of a task failed because the process running it stopped (a lease lapsed).
LAPSED: Final = "The process running the task stopped before it finished"


def lapsed_outcome() -> TaskOutcome:
    """The outcome a `LeasedTaskStore` stores for a task whose lease lapsed: -32603, `LAPSED`."""
    return TaskOutcome(error={"code": codes.INTERNAL_ERROR, "message": LAPSED})


@runtime_checkable
class LeasedTaskStore(TaskStore, Protocol):
    """A task store that several processes share (SQLite, Redis), where the process running a
    task may die with it unfinished. Each live task holds a lease: `create` grants one of
    `lease` seconds, and the process running the task renews it (`TaskRunner` calls `renew`
    every `lease / 4` seconds, for all its tasks at once). A task still working or
    input_required whose lease lapsed is failed by the store, with `lapsed_outcome()` and
    `LAPSED` as its status message, before any read returns it (`get`, `list`, `wait`,
    `outcome`): a client never sees a task left `working` forever by a killed process.

    `renew` also tells the runner which of its tasks it should stop: those cancelled (or
    failed, expired or deleted) by another process, since `tasks/cancel` may reach any of
    them. `mcpkit.testing.stores.LeasedTaskStoreChecks` is the behaviour."""

    lease: float

    async def renew(self, task_ids: Collection[str]) -> set[str]:
        """Extend to `lease` seconds from now the lease of each of `task_ids` still live;
        answer the ids among them that are not live (terminal, expired or unknown)."""
        ...


_encoder = msgspec.json.Encoder()
_outcome_decoder = msgspec.json.Decoder(TaskOutcome)


def check_outcome(outcome: TaskOutcome) -> None:
    if (outcome.result is None) == (outcome.error is None):
        raise LocalProtocolError("a TaskOutcome holds exactly one of result and error")


@dataclass(slots=True)
class _Record:
    task: Task
    owner: str
    seq: int
    created: float
    outcome: bytes | None = None  # encoded, as a shared store keeps it: read, it is a copy
    changed: asyncio.Event | None = field(default=None)

    @property
    def expires(self) -> float | None:
        ttl = self.task.ttl
        return None if ttl is None else self.created + ttl / 1000

    def touch(self, now: float, **changes: Any) -> None:
        self.task = msgspec.structs.replace(self.task, last_updated_at=iso_stamp(now), **changes)
        if self.changed is not None:  # wake every waiter; the next wait makes a new event
            self.changed.set()
            self.changed = None


class MemoryTaskStore:
    """Tasks in this process's memory, bounded in number and lifetime.

    `clock` returns wall-clock seconds since the epoch (createdAt is wall time); tests pass
    a fake one. `ttl` requests above `max_ttl` (ms) are lowered to it; without a request
    `default_ttl` applies. `max_tasks` bounds the store, `max_tasks_per_owner` each owner
    ("Resource Management"); at a bound, `create` deletes the oldest finished task, and
    refuses with -32603 only when every task it covers is still working.
    """

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.time,
        default_ttl: int = 3_600_000,
        max_ttl: int = 86_400_000,
        poll_interval: int | None = 1_000,
        max_tasks: int = 10_000,
        max_tasks_per_owner: int = 1_000,
        page_size: int = 100,
    ) -> None:
        check_task_limits(default_ttl, max_ttl, max_tasks, max_tasks_per_owner, page_size)
        self._clock = clock
        self._default_ttl = default_ttl
        self._max_ttl = max_ttl
        self._poll_interval = poll_interval
        self._max_tasks = max_tasks
        self._max_per_owner = max_tasks_per_owner
        self._page_size = page_size
        self._records: dict[str, _Record] = {}
        self._by_owner: dict[str, dict[str, None]] = {}  # insertion order = creation order
        self._expiry: list[tuple[float, str]] = []  # a heap of (expires, task id)
        self._seq = 0

    def __len__(self) -> int:
        return len(self._records)

    async def create(self, owner: str, *, ttl: int | None = None) -> Task:
        now = self._clock()
        self._purge(now)
        ttl = granted_ttl(ttl, self._default_ttl, self._max_ttl)
        self._make_room(owner)
        task_id = new_task_id()
        stamp = iso_stamp(now)
        task = Task(
            task_id=task_id,
            status="working",
            created_at=stamp,
            last_updated_at=stamp,
            ttl=ttl,
            poll_interval=self._poll_interval,
        )
        self._seq += 1
        record = _Record(task=task, owner=owner, seq=self._seq, created=now)
        self._records[task_id] = record
        self._by_owner.setdefault(owner, {})[task_id] = None
        expires = record.expires
        if expires is not None:
            heapq.heappush(self._expiry, (expires, task_id))
        return copy.copy(task)

    async def get(self, owner: str, task_id: str) -> Task:
        return copy.copy(self._find(owner, task_id).task)

    async def list(self, owner: str, cursor: str | None = None) -> tuple[list[Task], str | None]:
        after = decode_task_cursor(cursor)
        now = self._clock()
        self._purge(now)
        page: list[Task] = []
        for task_id in self._by_owner.get(owner, {}):
            record = self._records[task_id]
            if record.seq <= after:
                continue
            if len(page) == self._page_size:
                return page, encode_cursor(self._records[page[-1].task_id].seq)
            page.append(copy.copy(record.task))
        return page, None

    async def set_status(
        self,
        owner: str,
        task_id: str,
        status: Literal["working", "input_required"],
        message: str | None = None,
    ) -> Task:
        record = self._find(owner, task_id)
        check_new_status(status, ("working", "input_required"), "set_status")
        if not is_terminal(record.task.status):
            record.touch(self._clock(), status=status, status_message=message)
        return copy.copy(record.task)

    async def finish(
        self,
        owner: str,
        task_id: str,
        status: Literal["completed", "failed"],
        outcome: TaskOutcome,
        message: str | None = None,
    ) -> Task:
        record = self._find(owner, task_id)
        check_new_status(status, ("completed", "failed"), "finish")
        check_outcome(outcome)
        if is_terminal(record.task.status):  # cancelled stays cancelled ("Task Cancellation")
            return copy.copy(record.task)
        record.outcome = _encoder.encode(outcome)
        record.touch(self._clock(), status=status, status_message=message)
        return copy.copy(record.task)

    async def cancel(self, owner: str, task_id: str, message: str | None = None) -> Task:
        record = self._find(owner, task_id)
        status = record.task.status
        if is_terminal(status):
            raise already_terminal(status)
        record.touch(self._clock(), status="cancelled", status_message=message)
        return copy.copy(record.task)

    async def outcome(self, owner: str, task_id: str) -> TaskOutcome | None:
        data = self._find(owner, task_id).outcome
        return None if data is None else _outcome_decoder.decode(data)

    async def wait(self, owner: str, task_id: str, timeout: float) -> Task:
        record = self._find(owner, task_id)
        try:
            async with asyncio.timeout(timeout):
                while not _settled(record.task.status):
                    if record.changed is None:
                        record.changed = asyncio.Event()
                    await record.changed.wait()
        except TimeoutError:
            pass
        return copy.copy(self._find(owner, task_id).task)  # raises if it expired meanwhile

    async def purge_expired(self) -> int:
        return self._purge(self._clock())

    def _purge(self, now: float) -> int:
        removed = 0
        while self._expiry and self._expiry[0][0] <= now:
            _, task_id = heapq.heappop(self._expiry)
            record = self._records.pop(task_id, None)
            if record is not None:
                removed += 1
                self._drop_owned(record.owner, task_id)
        if removed > len(self._records):  # dicts and lists never shrink on their own
            self._records = dict(self._records)
            self._expiry = list(self._expiry)
        return removed

    def _make_room(self, owner: str) -> None:
        """Room for one task more of `owner`: at a bound, the oldest finished task (of this
        owner at `max_tasks_per_owner`, of anyone at `max_tasks`) is deleted before its ttl,
        since a limit must not lock everyone out until tasks expire; -32603 naming the bound
        when every task it covers is still working."""
        for bound, setting, ids in (
            (self._max_per_owner, "max_tasks_per_owner", self._by_owner.get(owner, {})),
            (self._max_tasks, "max_tasks", self._records),
        ):
            if len(ids) < bound:
                continue
            done = next((i for i in ids if is_terminal(self._records[i].task.status)), None)
            if done is None:
                raise too_many_tasks(bound, setting)
            record = self._records.pop(done)
            self._drop_owned(record.owner, done)

    def _drop_owned(self, owner: str, task_id: str) -> None:
        owned = self._by_owner[owner]
        del owned[task_id]
        if not owned:
            del self._by_owner[owner]

    def _find(self, owner: str, task_id: str) -> _Record:
        record = self._records.get(task_id)
        if record is None or record.owner != owner:
            raise task_not_found(task_id)
        expires = record.expires
        if expires is not None and expires <= self._clock():
            self._purge(self._clock())
            raise task_not_found(task_id)
        return record


def _settled(status: TaskStatus) -> bool:
    return is_terminal(status) or status == "input_required"


if TYPE_CHECKING:  # mypy and pyright prove the memory store implements the interface
    _implements: type[TaskStore] = MemoryTaskStore
