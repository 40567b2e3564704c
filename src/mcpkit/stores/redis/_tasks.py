"""`RedisTaskStore`: tasks shared by every process of a deployment, kept in Redis."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Collection, Generator
from typing import TYPE_CHECKING, Any, Final, Literal

import msgspec

from mcpkit._extras import needs_extra

with needs_extra("redis"):
    from redis.asyncio import Redis

from mcpkit.protocol.pagination import encode_cursor
from mcpkit.stores.redis._channel import Listener
from mcpkit.stores.redis._keys import as_bytes, as_text, check_client, id_key
from mcpkit.stores.redis._task_scripts import (
    CANCEL,
    CREATE,
    FIELDS,
    LIST,
    MOVE,
    READ,
    RENEW,
    TIDY,
)
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
    LeasedTaskStore,
    TaskOutcome,
    check_outcome,
    task_not_found,
)
from mcpkit.types import Task, TaskStatus

__all__ = ["RedisTaskStore"]

#: How much longer than its ttl Redis keeps a task's keys: expiry is decided by the store's
#: clock, and Redis's TTL only frees what no process is left to delete (clocks differ).
_GRACE_MS: Final = 60_000
_STATUSES: Final[dict[bytes, TaskStatus]] = {
    b"working": "working",
    b"input_required": "input_required",
    b"completed": "completed",
    b"failed": "failed",
    b"cancelled": "cancelled",
}
_SETTLED: Final = frozenset({"completed", "failed", "cancelled", "input_required"})
_outcome_decoder = msgspec.json.Decoder(TaskOutcome)


class RedisTaskStore:
    """`TaskStore` and `LeasedTaskStore` in Redis: a hash per task and sorted sets that index
    them by owner, by creation, by expiry and by lease (the layout is in `_task_scripts`), each
    operation one Lua script, so that any process may answer any request about any task. It
    takes `MemoryTaskStore`'s settings, and `lease` (seconds): a live task whose process
    stops renewing it for that long is failed with `LAPSED` before any read returns it.
    Expiry and leases follow `clock`, never Redis's time; Redis also drops a task's keys a
    minute after its ttl, so that tasks nobody reads again are freed all the same.

    `wait` is told of changes by pub/sub: every script publishes the id of each task it
    changes on one channel, and one connection of this store listens to it, subscribed at
    the first `wait`, so another process's `finish` or `cancel` wakes a waiter at once. The
    waiter also reads the task again every `watch_interval` seconds: a lease lapses with no
    process writing anything, and a subscription that broke and came back missed what was
    published meanwhile. One channel for all tasks, rather than one per task, costs each
    process a message per change of any task, and spares a SUBSCRIBE and an UNSUBSCRIBE
    per wait.

    The caller owns `client` (made with `decode_responses=False`, the default) and closes it
    after `aclose`, which ends the subscription."""

    def __init__(
        self,
        client: Redis,
        *,
        clock: Callable[[], float] = time.time,
        default_ttl: int = 3_600_000,
        max_ttl: int = 86_400_000,
        poll_interval: int | None = 1_000,
        max_tasks: int = 10_000,
        max_tasks_per_owner: int = 1_000,
        page_size: int = 100,
        lease: float = 30.0,
        watch_interval: float = 1.0,
        prefix: str = "mcpkit:",
    ) -> None:
        check_task_limits(default_ttl, max_ttl, max_tasks, max_tasks_per_owner, page_size)
        if lease <= 0 or watch_interval <= 0:
            raise ValueError("lease and watch_interval must be positive numbers of seconds")
        check_client(client)
        self.lease = lease
        self.watch_interval = watch_interval
        self._clock = clock
        self._default_ttl = default_ttl
        self._max_ttl = max_ttl
        self._poll_interval = poll_interval
        self._max_tasks = max_tasks
        self._max_per_owner = max_tasks_per_owner
        self._page_size = page_size
        self._prefix = prefix.encode()
        self._create = client.register_script(CREATE)
        self._read = client.register_script(READ)
        self._list = client.register_script(LIST)
        self._move = client.register_script(MOVE)
        self._cancel = client.register_script(CANCEL)
        self._renew = client.register_script(RENEW)
        self._tidy = client.register_script(TIDY)
        self._waiters: dict[str, set[asyncio.Event]] = {}
        self._changes = Listener(
            client,
            self._prefix + b"tasks:changed",
            lambda data: self._wake(data.decode("ascii", "replace")),
            on_subscribed=self._wake_all,
            name="mcpkit task changes",
        )

    async def aclose(self) -> None:
        """Stop listening for changes (a `wait` still under way goes on by reading)."""
        await self._changes.aclose()

    # ------------------------------------------------------------------ the writes

    def _preamble(self, now: float | None = None) -> list[bytes | str | int]:
        """The arguments every script starts with: the prefix, and the time (by default the
        clock's) in seconds and as a timestamp."""
        if now is None:
            now = self._clock()
        return [self._prefix, repr(now), iso_stamp(now)]

    async def create(self, owner: str, *, ttl: int | None = None) -> Task:
        granted = granted_ttl(ttl, self._default_ttl, self._max_ttl)
        task_id = new_task_id()
        now = self._clock()
        stamp = iso_stamp(now)
        args = [
            *self._preamble(now),
            task_id,
            as_bytes(owner),
            granted,
            "" if self._poll_interval is None else self._poll_interval,
            repr(now + granted / 1000),
            repr(now + self.lease),
            self._max_per_owner,
            self._max_tasks,
            granted + _GRACE_MS,
        ]
        reply: list[Any] = await self._create(keys=[self._owner_key(owner)], args=args)
        if reply[0] == 0:
            setting = bytes(reply[1]).decode()
            bound = self._max_per_owner if setting == "max_tasks_per_owner" else self._max_tasks
            raise too_many_tasks(bound, setting)
        return Task(
            task_id=task_id,
            status="working",
            created_at=stamp,
            last_updated_at=stamp,
            ttl=granted,
            poll_interval=self._poll_interval,
        )

    async def set_status(
        self,
        owner: str,
        task_id: str,
        status: Literal["working", "input_required"],
        message: str | None = None,
    ) -> Task:
        _check_id(task_id)
        check_new_status(status, ("working", "input_required"), "set_status")
        args = [*self._preamble(), task_id, as_bytes(owner), status, *_message(message), b""]
        return self._changed(task_id, await self._move(args=args))

    async def finish(
        self,
        owner: str,
        task_id: str,
        status: Literal["completed", "failed"],
        outcome: TaskOutcome,
        message: str | None = None,
    ) -> Task:
        _check_id(task_id)
        check_new_status(status, ("completed", "failed"), "finish")
        check_outcome(outcome)
        encoded = msgspec.json.encode(outcome)
        args = [*self._preamble(), task_id, as_bytes(owner), status, *_message(message), encoded]
        return self._changed(task_id, await self._move(args=args))

    async def cancel(self, owner: str, task_id: str, message: str | None = None) -> Task:
        _check_id(task_id)
        args = [*self._preamble(), task_id, as_bytes(owner), *_message(message)]
        reply: list[Any] | None = await self._cancel(args=args)
        if reply is not None and reply[0] == 0:
            raise already_terminal(bytes(reply[1]).decode())
        return self._changed(task_id, reply)

    def _changed(self, task_id: str, reply: list[Any] | None) -> Task:
        """The task a transition script answered ({changed, FIELDS...}); its local waiters
        are woken at once when it changed (others hear of it by pub/sub)."""
        if reply is None:
            raise task_not_found(task_id)
        if reply[0] == 1:
            self._wake(task_id)
        return _task(task_id, reply[1:])

    async def renew(self, task_ids: Collection[str]) -> set[str]:
        wanted = [i for i in dict.fromkeys(task_ids) if is_task_id(i)]
        stop = {i for i in task_ids if not is_task_id(i)}
        if wanted:
            now = self._clock()
            args = [*self._preamble(now), repr(now + self.lease), *wanted]
            answered: list[bytes] = await self._renew(args=args)
            stop.update(raw.decode("ascii") for raw in answered)
        return stop

    async def purge_expired(self) -> int:
        return int(await self._tidy(args=self._preamble()))

    # ------------------------------------------------------------------- the reads

    async def get(self, owner: str, task_id: str) -> Task:
        return _task(task_id, await self._fields(owner, task_id, FIELDS))

    async def outcome(self, owner: str, task_id: str) -> TaskOutcome | None:
        (data,) = await self._fields(owner, task_id, ("outcome",))
        return None if data is None else _outcome_decoder.decode(data)

    async def _fields(self, owner: str, task_id: str, names: tuple[str, ...]) -> list[Any]:
        _check_id(task_id)
        reply: list[Any] | None = await self._read(
            args=[*self._preamble(), task_id, as_bytes(owner), *names]
        )
        if reply is None:
            raise task_not_found(task_id)
        return reply

    async def list(self, owner: str, cursor: str | None = None) -> tuple[list[Task], str | None]:
        after = decode_task_cursor(cursor)
        size = self._page_size
        reply: list[Any] = await self._list(
            keys=[self._owner_key(owner)], args=[*self._preamble(), str(after), size + 1]
        )
        width = 2 + len(FIELDS)
        rows = [reply[i : i + width] for i in range(0, len(reply), width)]
        page = [_task(bytes(row[0]).decode("ascii"), row[2:]) for row in rows[:size]]
        next_cursor = encode_cursor(int(rows[size - 1][1])) if len(rows) > size else None
        return page, next_cursor

    async def wait(self, owner: str, task_id: str, timeout: float) -> Task:
        _check_id(task_id)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        with self._waiting(task_id) as changed:
            # Subscribed before the first read: a change after that read is heard of. When
            # Redis is slow to answer, reading every watch_interval still finds it.
            await self._changes.ready(min(timeout, self.watch_interval))
            while True:
                changed.clear()
                task = await self.get(owner, task_id)  # raises once it expired meanwhile
                left = deadline - loop.time()
                if task.status in _SETTLED or left <= 0:
                    return task
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), min(left, self.watch_interval))

    @contextlib.contextmanager
    def _waiting(self, task_id: str) -> Generator[asyncio.Event, None, None]:
        changed = asyncio.Event()
        waiters = self._waiters.setdefault(task_id, set())
        waiters.add(changed)
        try:
            yield changed
        finally:
            waiters.discard(changed)
            if not waiters:
                del self._waiters[task_id]

    def _wake(self, task_id: str) -> None:
        for changed in self._waiters.get(task_id, ()):
            changed.set()

    def _wake_all(self) -> None:
        """Every waiter reads its task again (the subscription was (re)made: news published
        before it is lost)."""
        for waiters in self._waiters.values():
            for changed in waiters:
                changed.set()

    def _owner_key(self, owner: str) -> bytes:
        return id_key(self._prefix, "owner", owner)


def _check_id(task_id: str) -> None:
    if not is_task_id(task_id):  # not one we made: no need to ask, nor to encode it
        raise task_not_found(task_id)


def _message(message: str | None) -> tuple[bytes, str]:
    """A status message as the scripts take it: the text, and '1' when there is one."""
    return (b"", "0") if message is None else (as_bytes(message), "1")


def _task(task_id: str, fields: list[Any]) -> Task:
    status, message, created_at, updated_at, ttl, poll = fields
    return Task(
        task_id=task_id,
        status=_STATUSES[status],
        status_message=None if message is None else as_text(message),
        created_at=created_at.decode(),
        last_updated_at=updated_at.decode(),
        ttl=int(ttl),
        poll_interval=None if poll is None else int(poll),
    )


if TYPE_CHECKING:  # mypy and pyright prove the store implements both interfaces
    _implements: type[LeasedTaskStore] = RedisTaskStore
