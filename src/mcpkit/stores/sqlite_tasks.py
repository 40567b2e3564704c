"""Tasks in a `SqliteDatabase` (`SqliteTaskStore`): one row per task, so the processes of one
host, or a restarted server, share them and fail the tasks of a process that stopped
(`LeasedTaskStore`). The table is made with the others by `SqliteDatabase`
(`mcpkit.stores.sqlite_database`); the rules a task's life follows (ids, ttl, statuses,
limits) are `mcpkit.stores.task_rules`', and the outcome's form `mcpkit.stores.tasks`', shared
with the in-memory and Redis stores.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar

import msgspec

from mcpkit.protocol.pagination import encode_cursor
from mcpkit.stores.sqlite_database import SqliteDatabase
from mcpkit.stores.task_rules import (
    already_terminal,
    check_new_status,
    check_task_limits,
    decode_task_cursor,
    granted_ttl,
    is_task_id,
    iso_stamp,
    new_task_id,
    too_many_tasks,
)
from mcpkit.stores.tasks import (
    LAPSED,
    LeasedTaskStore,
    TaskOutcome,
    check_outcome,
    is_terminal,
    lapsed_outcome,
    task_not_found,
)
from mcpkit.types import Task

__all__ = ["SqliteTaskStore"]

_T = TypeVar("_T")

_SETTLED: Final = frozenset({"completed", "failed", "cancelled", "input_required"})
_encoder = msgspec.json.Encoder()
_outcome_decoder = msgspec.json.Decoder(TaskOutcome)
_LAPSED: Final = _encoder.encode(lapsed_outcome())


_TASK_COLUMNS: Final = "id, status, message, created_at, updated_at, ttl, poll"
_LIVE_STATUSES: Final = "('working', 'input_required')"
_MAX_RENEW = 500  # ids per statement: SQLite's bound on parameters is 32,766 since 3.32


def _task(row: tuple[Any, ...]) -> Task:
    task_id, status, message, created_at, updated_at, ttl, poll = row
    return Task(
        task_id=task_id,
        status=status,
        status_message=message,
        created_at=created_at,
        last_updated_at=updated_at,
        ttl=ttl,
        poll_interval=poll,
    )


class SqliteTaskStore:
    """`TaskStore` and `LeasedTaskStore` in a `SqliteDatabase`: one row per task, its fields
    as columns and its outcome as the JSON `TaskOutcome`, so that the processes of one host
    (or a restarted one) share their tasks. It takes `MemoryTaskStore`'s settings, and
    `lease` (seconds): a task whose process stops renewing it for that long is failed with
    `LAPSED` (`LeasedTaskStore`), at the latest by the next operation on the store. Every
    operation is one transaction that first deletes expired tasks and fails lapsed ones.

    `wait` is told at once of changes this store made, and reads the row again every
    `watch_interval` seconds for changes another process made."""

    def __init__(
        self,
        db: SqliteDatabase,
        *,
        clock: Callable[[], float] = time.time,
        default_ttl: int = 3_600_000,
        max_ttl: int = 86_400_000,
        poll_interval: int | None = 1_000,
        max_tasks: int = 10_000,
        max_tasks_per_owner: int = 1_000,
        page_size: int = 100,
        lease: float = 30.0,
        watch_interval: float = 0.25,
    ) -> None:
        check_task_limits(default_ttl, max_ttl, max_tasks, max_tasks_per_owner, page_size)
        if lease <= 0 or watch_interval <= 0:
            raise ValueError("lease and watch_interval must be positive numbers of seconds")
        self.db = db
        self.lease = lease
        self.watch_interval = watch_interval
        self._clock = clock
        self._default_ttl = default_ttl
        self._max_ttl = max_ttl
        self._poll_interval = poll_interval
        self._max_tasks = max_tasks
        self._max_per_owner = max_tasks_per_owner
        self._page_size = page_size
        self._changed: dict[str, asyncio.Event] = {}  # task id -> the event its waiters await

    # ------------------------------------------------------------------ the writes

    def _tidy(self, c: sqlite3.Connection, now: float) -> int:
        """Delete the expired tasks and fail the lapsed ones; how many were deleted."""
        gone = c.execute("DELETE FROM mcpkit_tasks WHERE expires <= ?", (now,)).rowcount
        c.execute(
            "UPDATE mcpkit_tasks SET status = 'failed', message = ?, updated_at = ?, "
            "outcome = ?, lease = NULL WHERE lease < ?",
            (LAPSED, iso_stamp(now), _LAPSED, now),
        )
        return gone

    def _row(self, c: sqlite3.Connection, owner: str, task_id: str) -> tuple[Any, ...]:
        if not is_task_id(task_id):
            raise task_not_found(task_id)
        row = c.execute(
            f"SELECT {_TASK_COLUMNS} FROM mcpkit_tasks WHERE id = ? AND owner = ?",
            (task_id, owner),
        ).fetchone()
        if row is None:  # unknown, another owner's, or expired (deleted by _tidy)
            raise task_not_found(task_id)
        return tuple(row)

    async def _run(self, work: Callable[[sqlite3.Connection, float], _T]) -> _T:
        def transaction(c: sqlite3.Connection) -> _T:
            now = self._clock()
            self._tidy(c, now)
            return work(c, now)

        return await self.db.run(transaction)

    def _wake(self, task_id: str) -> None:
        event = self._changed.pop(task_id, None)
        if event is not None:
            event.set()

    async def create(self, owner: str, *, ttl: int | None = None) -> Task:
        granted = granted_ttl(ttl, self._default_ttl, self._max_ttl)
        task_id = new_task_id()
        poll, lease = self._poll_interval, self.lease

        def work(c: sqlite3.Connection, now: float) -> Task:
            self._make_room(c, owner)
            stamp = iso_stamp(now)
            c.execute(
                "INSERT INTO mcpkit_tasks (id, owner, status, created_at, updated_at, ttl, "
                "poll, expires, lease) VALUES (?, ?, 'working', ?, ?, ?, ?, ?, ?)",
                (task_id, owner, stamp, stamp, granted, poll, now + granted / 1000, now + lease),
            )
            return _task((task_id, "working", None, stamp, stamp, granted, poll))

        return await self._run(work)

    def _make_room(self, c: sqlite3.Connection, owner: str) -> None:
        """As `MemoryTaskStore`: at a bound the oldest finished task goes, and only when every
        task the bound covers is live is the new one refused."""
        for bound, setting, where, args in (
            (self._max_per_owner, "max_tasks_per_owner", "owner = ?", (owner,)),
            (self._max_tasks, "max_tasks", "1", ()),
        ):
            count = c.execute(f"SELECT count(*) FROM mcpkit_tasks WHERE {where}", args)
            if int(count.fetchone()[0]) < bound:
                continue
            done = c.execute(
                f"SELECT seq FROM mcpkit_tasks WHERE {where} AND status NOT IN "
                f"{_LIVE_STATUSES} ORDER BY seq LIMIT 1",
                args,
            ).fetchone()
            if done is None:
                raise too_many_tasks(bound, setting)
            c.execute("DELETE FROM mcpkit_tasks WHERE seq = ?", (done[0],))

    async def set_status(
        self,
        owner: str,
        task_id: str,
        status: Literal["working", "input_required"],
        message: str | None = None,
    ) -> Task:
        def work(c: sqlite3.Connection, now: float) -> Task:
            row = self._row(c, owner, task_id)
            check_new_status(status, ("working", "input_required"), "set_status")
            if is_terminal(row[1]):
                return _task(row)
            stamp = iso_stamp(now)
            c.execute(
                "UPDATE mcpkit_tasks SET status = ?, message = ?, updated_at = ? WHERE id = ?",
                (status, message, stamp, task_id),
            )
            return _task((task_id, status, message, row[3], stamp, row[5], row[6]))

        task = await self._run(work)
        self._wake(task_id)
        return task

    async def finish(
        self,
        owner: str,
        task_id: str,
        status: Literal["completed", "failed"],
        outcome: TaskOutcome,
        message: str | None = None,
    ) -> Task:
        def work(c: sqlite3.Connection, now: float) -> Task:
            row = self._row(c, owner, task_id)
            check_new_status(status, ("completed", "failed"), "finish")
            check_outcome(outcome)
            if is_terminal(row[1]):  # cancelled (or lapsed) stays so ("Task Cancellation")
                return _task(row)
            stamp = iso_stamp(now)
            c.execute(
                "UPDATE mcpkit_tasks SET status = ?, message = ?, updated_at = ?, outcome = ?, "
                "lease = NULL WHERE id = ?",
                (status, message, stamp, _encoder.encode(outcome), task_id),
            )
            return _task((task_id, status, message, row[3], stamp, row[5], row[6]))

        task = await self._run(work)
        self._wake(task_id)
        return task

    async def cancel(self, owner: str, task_id: str, message: str | None = None) -> Task:
        def work(c: sqlite3.Connection, now: float) -> Task:
            row = self._row(c, owner, task_id)
            if is_terminal(row[1]):
                raise already_terminal(row[1])
            stamp = iso_stamp(now)
            c.execute(
                "UPDATE mcpkit_tasks SET status = 'cancelled', message = ?, updated_at = ?, "
                "lease = NULL WHERE id = ?",
                (message, stamp, task_id),
            )
            return _task((task_id, "cancelled", message, row[3], stamp, row[5], row[6]))

        task = await self._run(work)
        self._wake(task_id)
        return task

    async def renew(self, task_ids: Collection[str]) -> set[str]:
        wanted = [i for i in dict.fromkeys(task_ids) if is_task_id(i)]
        lease = self.lease

        def work(c: sqlite3.Connection, now: float) -> set[str]:
            live: set[str] = set()
            for start in range(0, len(wanted), _MAX_RENEW):
                chunk = wanted[start : start + _MAX_RENEW]
                marks = ", ".join("?" * len(chunk))
                live_ones = f"lease IS NOT NULL AND id IN ({marks})"
                c.execute(
                    f"UPDATE mcpkit_tasks SET lease = ? WHERE {live_ones}", (now + lease, *chunk)
                )
                live.update(
                    str(row[0])
                    for row in c.execute(
                        f"SELECT id FROM mcpkit_tasks WHERE {live_ones}",
                        chunk,
                    )
                )
            return set(task_ids) - live

        return await self._run(work)

    # ------------------------------------------------------------------- the reads

    async def get(self, owner: str, task_id: str) -> Task:
        return await self._run(lambda c, _: _task(self._row(c, owner, task_id)))

    async def list(self, owner: str, cursor: str | None = None) -> tuple[list[Task], str | None]:
        after = decode_task_cursor(cursor)
        size = self._page_size

        def work(c: sqlite3.Connection, _: float) -> tuple[list[Task], str | None]:
            rows = c.execute(
                f"SELECT seq, {_TASK_COLUMNS} FROM mcpkit_tasks WHERE owner = ? AND seq > ? "
                "ORDER BY seq LIMIT ?",
                (owner, after, size + 1),
            ).fetchall()
            page = [_task(tuple(row[1:])) for row in rows[:size]]
            return page, encode_cursor(int(rows[size - 1][0])) if len(rows) > size else None

        return await self._run(work)

    async def outcome(self, owner: str, task_id: str) -> TaskOutcome | None:
        def work(c: sqlite3.Connection, _: float) -> bytes | None:
            self._row(c, owner, task_id)
            found = c.execute("SELECT outcome FROM mcpkit_tasks WHERE id = ?", (task_id,))
            data = found.fetchone()[0]
            return None if data is None else bytes(data)

        data = await self._run(work)
        return None if data is None else _outcome_decoder.decode(data)

    async def wait(self, owner: str, task_id: str, timeout: float) -> Task:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            task = await self.get(owner, task_id)  # raises once it expired meanwhile
            left = deadline - loop.time()
            if task.status in _SETTLED or left <= 0:
                return task
            changed = self._changed.get(task_id)
            if changed is None:
                changed = self._changed[task_id] = asyncio.Event()
            try:
                await asyncio.wait_for(changed.wait(), min(left, self.watch_interval))
            except TimeoutError:
                pass  # look again: another process may have changed it

    async def purge_expired(self) -> int:
        def work(c: sqlite3.Connection) -> int:
            return self._tidy(c, self._clock())

        return await self.db.run(work)


if TYPE_CHECKING:  # mypy and pyright prove the store implements its interfaces
    _implements: type[LeasedTaskStore] = SqliteTaskStore
