"""The rules every task store applies alike, whatever holds its tasks (memory, SQLite, Redis):
the shape of a task id, its timestamps, the ttl a request is granted, the settings a store
refuses, a `tasks/list` cursor, the statuses a method takes and the errors a peer is answered.
Apart from `mcpkit.stores.tasks` (what a task store is) because only implementations use them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Final

from mcpkit.errors import LocalProtocolError, McpError
from mcpkit.protocol import codes
from mcpkit.protocol.pagination import decode_cursor
from mcpkit.stores.random_tokens import token_urlsafe

__all__ = [
    "already_terminal",
    "check_new_status",
    "check_task_limits",
    "decode_task_cursor",
    "granted_ttl",
    "is_task_id",
    "iso_stamp",
    "new_task_id",
    "too_many_tasks",
]

_MAX_CURSOR = 64  # our cursors are ~12 characters; anything far longer is not ours

#: What `new_task_id` makes: an id of any other shape names no task of any store.
_TASK_ID: Final = re.compile(r"[A-Za-z0-9_-]{32}")


def new_task_id() -> str:
    """A fresh task id: 192 random bits, URL-safe ("Security": unguessable)."""
    return token_urlsafe(24)


def is_task_id(task_id: str) -> bool:
    """Whether `task_id` has the shape of the ids stores make: anything else (a hostile or
    broken peer's) is not found without asking a store, nor encoding it for one."""
    return _TASK_ID.fullmatch(task_id) is not None


def iso_stamp(seconds: float) -> str:
    """Wall-clock seconds as a task's createdAt and lastUpdatedAt show them (ISO 8601, UTC)."""
    stamp = datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


def check_task_limits(
    default_ttl: int, max_ttl: int, max_tasks: int, max_tasks_per_owner: int, page_size: int
) -> None:
    """Refuse settings no task store can keep (every implementation takes the same ones)."""
    if not 0 < default_ttl <= max_ttl:
        raise LocalProtocolError("default_ttl must be positive and at most max_ttl")
    if min(max_tasks, max_tasks_per_owner, page_size) < 1:
        raise LocalProtocolError("max_tasks, max_tasks_per_owner, page_size must be >= 1")


def granted_ttl(requested: int | None, default_ttl: int, max_ttl: int) -> int:
    """The ttl (ms) a task gets: `default_ttl` when none was asked for, else what was asked
    for up to `max_ttl` ("Receivers MAY override the requested ttl"); -32602 below 1 ms."""
    if requested is None:
        return default_ttl
    if requested <= 0:
        raise McpError(
            codes.INVALID_PARAMS,
            f"Invalid params: task.ttl must be a positive number of ms, got {requested}",
        )
    return min(requested, max_ttl)


def decode_task_cursor(cursor: str | None) -> int:
    """The creation number a `tasks/list` cursor names (0: from the first task); -32602 for
    anything that is not one of ours."""
    if not cursor:
        return 0
    if len(cursor) > _MAX_CURSOR:
        raise McpError(codes.INVALID_PARAMS, "Invalid params: unknown cursor (too long)")
    return decode_cursor(cursor)


def check_new_status(status: str, allowed: tuple[str, ...], method: str) -> None:
    """Refuse a status `method` does not take (a caller's bug, not a peer's)."""
    if status not in allowed:
        raise LocalProtocolError(f"{method} takes {' or '.join(allowed)}, not {status!r}")


def already_terminal(status: str) -> McpError:
    """The -32602 `tasks/cancel` of a finished task gets ("Task Cancellation")."""
    return McpError(
        codes.INVALID_PARAMS, f"Cannot cancel task: already in terminal status {status!r}"
    )


def too_many_tasks(bound: int, setting: str) -> McpError:
    """The -32603 a store answers when every task a bound covers is still working."""
    return McpError(
        codes.INTERNAL_ERROR,
        f"Too many tasks: {bound} are working ({setting}); wait for or cancel some, then retry",
    )
