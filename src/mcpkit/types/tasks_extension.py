"""The wire types of the tasks extension, `io.modelcontextprotocol/tasks` (SEP-2663), for
revision 2026-07-28.

Written by hand: the extension's schema is not part of the core schema the generated modules
come from. Under 2026-07-28 a server may answer a `tools/call` with a task handle
(`CreateTaskResult`: `resultType: "task"` and the `Task` fields, flat) when the request's
`_meta` client capabilities declare the extension; the client then polls `tasks/get`, whose
result inlines the task's `result`, `error` or open `inputRequests`, answers those with
`tasks/update`, and may `tasks/cancel`. There is no `tasks/result` and no `tasks/list`.
Durations are integer milliseconds (`ttlMs`, `pollIntervalMs`).
"""

from __future__ import annotations

from typing import Any, Final, Literal

import msgspec

__all__ = [
    "EXTENSION_ID",
    "CancelTaskParams",
    "DetailedTask",
    "GetTaskParams",
    "TaskStatus",
    "UpdateTaskParams",
]

#: The extension's identifier, under `capabilities.extensions` on both sides.
EXTENSION_ID: Final = "io.modelcontextprotocol/tasks"

TaskStatus = Literal["working", "input_required", "completed", "failed", "cancelled"]


class _TaskParams(msgspec.Struct, kw_only=True, omit_defaults=True, repr_omit_defaults=True):
    meta: dict[str, Any] | None = msgspec.field(default=None, name="_meta")
    #: The task, as the CreateTaskResult named it.
    task_id: str = msgspec.field(name="taskId")


class GetTaskParams(_TaskParams, kw_only=True, omit_defaults=True, repr_omit_defaults=True):
    """tasks/get: the task's state, with its result, error or open input requests inlined."""


class CancelTaskParams(_TaskParams, kw_only=True, omit_defaults=True, repr_omit_defaults=True):
    """tasks/cancel: ask for the task to stop; acknowledged with an empty result."""


class UpdateTaskParams(_TaskParams, kw_only=True, omit_defaults=True, repr_omit_defaults=True):
    """tasks/update: answers to some or all of the task's open `inputRequests`, by key (each
    an answer of the request's method: an ElicitResult for `elicitation/create`...)."""

    input_responses: dict[str, dict[str, Any]] = msgspec.field(name="inputResponses")


class DetailedTask(msgspec.Struct, kw_only=True, omit_defaults=True, repr_omit_defaults=True):
    """A task as tasks/get answers it (and, with `resultType: "task"` and none of the three
    inlined fields, as a CreateTaskResult is): `result` only when completed (the request's
    own result, a CallToolResult for tools/call, `isError` included), `error` only when
    failed (a JSON-RPC error object), `inputRequests` only while input_required."""

    task_id: str = msgspec.field(name="taskId")
    status: TaskStatus
    status_message: str | None = msgspec.field(default=None, name="statusMessage")
    created_at: str = msgspec.field(name="createdAt")
    last_updated_at: str = msgspec.field(name="lastUpdatedAt")
    #: Required on the wire, null for unlimited: never omitted (see `omit_defaults`).
    ttl_ms: int | None = msgspec.field(name="ttlMs")
    poll_interval_ms: int | None = msgspec.field(default=None, name="pollIntervalMs")
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    input_requests: dict[str, dict[str, Any]] | None = msgspec.field(
        default=None, name="inputRequests"
    )
