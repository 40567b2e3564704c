"""Our requests awaiting the peer's answers, on the event loop: their futures, their timeouts,
their progress callbacks, and the one timer for all their deadlines.

The protocol session (`mcpkit.protocol.pending`) keeps the deadlines as numbers; this is the
asyncio side of the same requests. One `call_at` timer is armed for the earliest deadline and
moved when that changes, so a thousand requests in flight cost one timer, not a thousand.
When it fires the connection asks the session which requests expired (`Session.expire`), and
each one's waiter gets `RequestTimeout`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Final, Protocol

from mcpkit.errors import ConnectionClosed, RequestTimeout
from mcpkit.protocol.events import ProgressReceived
from mcpkit.protocol.session import Session
from mcpkit.runtime.background import BackgroundTasks
from mcpkit.types import RequestId

__all__ = ["MAX_TIMEOUT_FACTOR", "Awaiting", "DeadlineOwner", "ProgressCallback"]

logger = logging.getLogger("mcpkit")

ProgressCallback = Callable[[float, "float | None", "str | None"], Any]

#: Progress restarts a request's timeout, but never past this many times its timeout after it
#: was sent: basic/lifecycle, Timeouts, "SHOULD always enforce a maximum timeout, regardless
#: of progress notifications", so a peer that reports progress forever cannot keep a request
#: (and whoever awaits it) waiting forever. `Connection(max_timeout_factor=...)` sets it.
MAX_TIMEOUT_FACTOR: Final = 10.0


class DeadlineOwner(Protocol):
    """What a deadline of one of its requests is reported to: the connection."""

    def on_deadline(self) -> None: ...


class Awaiting:
    """The waiters of one connection's requests; `owner.on_deadline()` runs when a deadline
    passes (the owner, not a bound method of it: 64 bytes less for each idle session).

    `futures` holds a future for each of our requests someone awaits; an entry leaves only
    through `done`, which the waiter calls when it stops waiting, never through whoever
    resolves it. `timeouts` keeps each request's timeout length in seconds (and its method,
    for the error), so a restart grants the whole length again. `progress` may outlive
    `futures`: the callback of a request that created a task goes on getting the task's
    progress (bounded: `_forget_progress`). At most one timer is armed, for the session's
    earliest deadline (`timer_at`, None while none is armed).
    """

    __slots__ = (
        "_background",
        "_owner",
        "_timer",
        "futures",
        "max_timeout_factor",
        "progress",
        "session",
        "timeouts",
        "timer_at",
    )

    def __init__(
        self,
        session: Session,
        owner: DeadlineOwner,
        background: BackgroundTasks,
        max_timeout_factor: float = MAX_TIMEOUT_FACTOR,
    ) -> None:
        if not max_timeout_factor >= 1:
            raise ValueError(f"max_timeout_factor must be at least 1, not {max_timeout_factor!r}")
        self.session = session
        self.max_timeout_factor = max_timeout_factor
        self._owner = owner
        self._background = background
        self.futures: dict[RequestId, asyncio.Future[Any]] = {}
        #: rid -> (seconds, method, the latest deadline progress may push it to)
        self.timeouts: dict[RequestId, tuple[float, str, float]] = {}
        self.progress: dict[RequestId, ProgressCallback] = {}
        self._timer: asyncio.TimerHandle | None = None
        self.timer_at: float | None = None

    def wait_for(
        self,
        rid: RequestId,
        timeout: float | None = None,
        method: str = "request",
        on_progress: ProgressCallback | None = None,
        sent_at: float | None = None,
    ) -> asyncio.Future[Any]:
        """A future for the answer to `rid`, which the session has queued. Made before the
        request is sent: an answer that comes while nobody awaits it is dropped. `sent_at`
        is the loop time its deadline was counted from (read again if not given)."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[Any] = loop.create_future()
        self.futures[rid] = fut
        if timeout is not None:
            start = loop.time() if sent_at is None else sent_at
            self.timeouts[rid] = (timeout, method, start + timeout * self.max_timeout_factor)
        if on_progress is not None:
            self.progress[rid] = on_progress
        return fut

    def done(self, rid: RequestId) -> None:
        """`rid`'s waiter has stopped waiting (answered, failed or cancelled)."""
        self.futures.pop(rid, None)
        self.timeouts.pop(rid, None)
        # The progress callback may stay: its request may have created a task.
        if rid in self.progress:
            self._forget_progress(rid)

    def resolve(self, rid: RequestId, result: Any, error: BaseException | None) -> None:
        """Hand `rid`'s waiter its result or error (a late one, after it stopped waiting,
        goes nowhere)."""
        fut = self.futures.get(rid)
        # Done already: its waiter was cancelled and has not called `done` yet.
        if fut is None or fut.done():
            return
        if error is None:
            fut.set_result(result)
        else:
            fut.set_exception(error)

    def timed_out(self, rid: RequestId) -> None:
        """`rid`'s deadline passed (the session has told the peer to cancel it)."""
        entry = self.timeouts.get(rid)
        within = ""
        method = "request"
        if entry is not None:
            timeout, method, latest = entry
            within = f" within {timeout:g} s"
            if asyncio.get_running_loop().time() >= latest:
                within += (
                    f" of its last progress, and took the most progress may extend it to "
                    f"({self.max_timeout_factor:g} x {timeout:g} s, max_timeout_factor)"
                )
        self.resolve(
            rid,
            None,
            RequestTimeout(
                f"{method} (id {rid}) got no response{within}; the peer was told to cancel it"
            ),
        )

    def fail_all(self, exc: ConnectionClosed) -> None:
        """Our requests can get no answer any more: fail everyone awaiting one."""
        for fut in self.futures.values():
            if not fut.done():
                # An exception each: one instance raised in many tasks would collect all
                # their frames in its traceback.
                fut.set_exception(ConnectionClosed(str(exc)))

    # ------------------------------------------------------------------- progress

    def report_progress(self, ev: ProgressReceived) -> None:
        """Pass progress to the request's callback; the peer is working on it, so its
        timeout starts again (basic/lifecycle, Timeouts, lets a sender reset it)."""
        self.restart_timeouts(ev.request_id)
        callback = self.progress.get(ev.request_id)
        if callback is None:
            return
        # Called on the reader's path: a failing callback is logged, never let out (it
        # would end the connection), and an async one runs in a task of its own, so the
        # reader never waits on it.
        try:
            outcome = callback(ev.progress, ev.total, ev.message)
        except Exception:
            logger.exception("progress callback failed")
            return
        if asyncio.iscoroutine(outcome):
            self._background.spawn(outcome)

    def _forget_progress(self, rid: RequestId) -> None:
        """Drop a finished request's progress callback, unless the session still takes its
        progress (it created a task: basic/utilities/tasks). Kept callbacks are bounded as
        the session's kept tokens are: past that, those it no longer keeps are dropped."""
        session = self.session
        if not session.has_progress(rid):
            self.progress.pop(rid, None)
        elif len(self.progress) > len(self.futures) + session.max_kept_progress:
            for old in [r for r in self.progress if not session.has_progress(r)]:
                del self.progress[old]

    def release_task_progress(self, task_id: str) -> None:
        """Stop passing progress about task `task_id` to the callback of the request that
        created it (the task ended, or its requestor forgot it)."""
        rid = self.session.release_task_progress(task_id)
        if rid is not None:
            self.progress.pop(rid, None)

    # --------------------------------------------------------------------- timer

    def restart_timeouts(self, only: RequestId | None = None) -> None:
        """Start the timeouts of our requests again from now: all of them (the connection
        stopped holding them while it served the peer), or `only`, on its progress, which
        never pushes a deadline past the request's latest (`max_timeout_factor`)."""
        now = asyncio.get_running_loop().time()
        if only is None:
            for rid, (timeout, _, _) in list(self.timeouts.items()):
                self.session.restart_deadline(rid, now + timeout)
        else:
            entry = self.timeouts.get(only)
            if entry is not None:
                timeout, _, latest = entry
                self.session.restart_deadline(only, min(now + timeout, latest))
        self.arm_timer()

    def arm_timer(self) -> None:
        """Set the timer for the session's earliest deadline (a no-op if it already is)."""
        # Called after every flush: the pending table asked itself (`Session.next_deadline`
        # without its frame), and an unchanged deadline costs a comparison, not a call_at.
        deadline = self.session.requesting.pending.next_deadline()
        if deadline == self.timer_at:
            return
        self.stop_timer()
        self.timer_at = deadline
        if deadline is not None:
            self._timer = asyncio.get_running_loop().call_at(deadline, self._fire)

    def stop_timer(self) -> None:
        """Cancel the timer, if one is armed (the connection is ending, or it moves)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.timer_at = None

    def _fire(self) -> None:
        # The handle is spent: forgotten before `on_deadline`, which may arm the next one.
        self._timer = None
        self.timer_at = None
        self._owner.on_deadline()
