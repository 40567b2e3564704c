"""Our requests that await the peer's answer: their deadlines and their progress tokens.

A session sends a request and later gets its response, an error, a progress notification
about it, or nothing (then its deadline passes). `PendingRequests` is the bookkeeping for all
of that, with no clock of its own: deadlines are numbers on the caller's clock, compared with
the `now` it passes in (sans-I/O, as the session is).

Progress (basic/utilities/progress): our progress token is the request's own id, so a
progress notification names the request it is about. A request answered with a
`CreateTaskResult` keeps its token for the task's lifetime (basic/utilities/tasks, "Task
Progress Notifications"), so the token may outlive the pending entry; `keep_progress` and
`release_task_progress` manage those, bounded by `max_kept`.
"""

from __future__ import annotations

import heapq
from typing import Any, Final, cast

import msgspec

from mcpkit.types import RequestId

__all__ = ["MAX_KEPT_PROGRESS", "MAX_TASK_ID_LENGTH", "Pending", "PendingRequests"]

#: Progress tokens kept past a `CreateTaskResult` answer. A requestor that never says its tasks
#: ended must not grow us: past this many the oldest are dropped.
MAX_KEPT_PROGRESS: Final = 256
#: Task ids longer than this are not kept for progress (clients refuse them as hostile: an id
#: is sent back in every tasks/get, so a megabyte one would cost a megabyte per poll).
MAX_TASK_ID_LENGTH: Final = 1024


class Pending:
    """One of our requests awaiting its answer."""

    __slots__ = ("deadline", "method", "progress_token", "related", "result_type")

    def __init__(
        self,
        method: str,
        result_type: Any,
        deadline: float | None,
        progress_token: RequestId | None,
        related: RequestId | None,
    ) -> None:
        self.method = method
        self.result_type = result_type  # what its result decodes into
        self.deadline = deadline
        self.progress_token = progress_token
        #: The peer's request we sent it while serving (its cancellation goes the same way).
        self.related = related


class PendingRequests:
    """Our pending requests by id, with a heap of their deadlines and their progress tokens."""

    __slots__ = ("_by_id", "_deadlines", "_kept", "_progress", "_seq", "max_kept")

    def __init__(self, max_kept: int = MAX_KEPT_PROGRESS) -> None:
        #: Every request of ours not yet answered, failed or given up.
        self._by_id: dict[RequestId, Pending] = {}
        #: (deadline, tiebreak, request id): the tiebreak keeps equal deadlines from comparing
        #: ids, which may be ints and strings in one heap if the id prefix changes. Entries
        #: whose request is gone or has another deadline now are dropped when they surface
        #: (cheaper than removing them from the middle of the heap).
        self._deadlines: list[tuple[float, int, RequestId]] = []
        self._seq = 0  # (an int, not an itertools.count: every session holds one)
        self._progress: dict[RequestId, RequestId] = {}  # our progress token -> our request id
        #: task id -> the progress token of the request that created it; made at the first
        #: task (most sessions never see one)
        self._kept: dict[str, RequestId] | None = None
        self.max_kept = max_kept

    def __contains__(self, rid: RequestId) -> bool:
        return rid in self._by_id

    def add(self, rid: RequestId, pending: Pending) -> None:
        """Track a request just sent, with its progress token and its deadline."""
        self._by_id[rid] = pending
        if pending.progress_token is not None:
            self._progress[pending.progress_token] = rid
        if pending.deadline is not None:
            self._push(pending.deadline, rid)

    def answered(self, rid: RequestId) -> Pending | None:
        """Take out the request a response answers; its progress token stays until the
        caller knows whether the result created a task (`forget_progress`, `keep_progress`)."""
        return self._by_id.pop(rid, None)

    def take(self, rid: RequestId) -> Pending | None:
        """Forget a request (failed or given up) and its progress token."""
        pending = self._by_id.pop(rid, None)
        if pending is not None and pending.progress_token is not None:
            self._progress.pop(pending.progress_token, None)
        return pending

    # ------------------------------------------------------------------ deadlines

    def _push(self, deadline: float, rid: RequestId) -> None:
        self._seq += 1
        heapq.heappush(self._deadlines, (deadline, self._seq, rid))

    def restart_deadline(self, rid: RequestId, deadline: float) -> None:
        """Give a request with a deadline a new one (its old heap entry goes stale)."""
        pending = self._by_id.get(rid)
        if pending is None or pending.deadline is None:
            return
        pending.deadline = deadline
        self._push(deadline, rid)

    def next_deadline(self) -> float | None:
        """The earliest deadline of a pending request, dropping stale heap entries."""
        deadlines = self._deadlines
        while deadlines:
            deadline, _, rid = deadlines[0]
            pending = self._by_id.get(rid)
            if pending is not None and pending.deadline == deadline:
                return deadline
            heapq.heappop(deadlines)
        return None

    def pop_due(self, now: float) -> RequestId | None:
        """The id of a request whose deadline is at or before `now` (its heap entry is
        removed; the request stays pending until the caller gives it up), or None."""
        deadline = self.next_deadline()  # (drops stale entries: the top is live)
        if deadline is None or deadline > now:
            return None
        # The request stays pending: `Requesting.expire` cancels it, which takes it out.
        return heapq.heappop(self._deadlines)[2]

    # ------------------------------------------------------------------- progress

    def progress_target(self, token: RequestId) -> RequestId | None:
        """The request a progress notification with `token` is about, if we still take it."""
        return self._progress.get(token)

    def has_progress(self, rid: RequestId) -> bool:
        """Whether progress for `rid` is still taken (our tokens are our request ids)."""
        return rid in self._progress

    def forget_progress(self, token: RequestId) -> None:
        """Stop taking progress under `token` (its request was answered, with no task)."""
        self._progress.pop(token, None)

    def keep_progress(self, token: RequestId, task_id: str) -> bool:
        """Keep the token of a request answered with a `CreateTaskResult` for the task's
        lifetime, until `release_task_progress` or until `max_kept` newer ones push it out;
        False (not kept) for a hostile task id."""
        if len(task_id) > MAX_TASK_ID_LENGTH:
            return False
        kept = self._kept
        if kept is None:
            kept = self._kept = {}
        old = kept.pop(task_id, None)
        if old is not None:  # a peer reusing a task id: the newer request's progress wins
            self._progress.pop(old, None)
        kept[task_id] = token
        while len(kept) > self.max_kept:
            oldest = next(iter(kept))  # (dicts keep insertion order: the oldest first)
            self._progress.pop(kept.pop(oldest), None)
        return True

    def release_task_progress(self, task_id: str) -> RequestId | None:
        """Stop taking progress for the task `task_id`; the id of the request that created
        it, or None if none was kept."""
        token = None if self._kept is None else self._kept.pop(task_id, None)
        if token is None:
            return None
        return self._progress.pop(token, None)


def with_progress_token(params: Any, token: RequestId) -> Any:
    """`params` with `_meta.progressToken` set (basic/utilities/progress); a copy, whatever
    form they come in (None, a dict, a struct)."""
    if params is None:
        return {"_meta": {"progressToken": token}}
    if isinstance(params, dict):
        fields = cast("dict[str, Any]", params)
        meta: dict[str, Any] = dict(fields.get("_meta") or {})
        meta["progressToken"] = token
        return {**fields, "_meta": meta}
    meta = dict(getattr(params, "meta", None) or {})
    meta["progressToken"] = token
    return msgspec.structs.replace(params, meta=meta)
