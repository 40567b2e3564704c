"""One task running in this process (`TaskRun`): how its work reaches the requestor, and the
`tasks/result` calls through whose streams its messages travel meanwhile.

Spec: basic/utilities/tasks, "Input Required Status": a task that needs input moves to
`input_required`, the requestor then calls `tasks/result`, and the request goes out related
to that call (over Streamable HTTP it arrives on that call's stream); "Associating
Task-Related Messages": what the task sends carries the related-task meta. Starting,
finishing and answering the `tasks/*` requests is `stores.task_runner.TaskRunner`'s job; a
run asks of it only what `StatusRecorder` says, so this module never imports it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Generator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, Literal, Protocol

import msgspec

from mcpkit.errors import LocalProtocolError, RequestTimeout
from mcpkit.protocol.capabilities import RELATED_TASK
from mcpkit.types import ProgressNotificationParams, RequestId

__all__ = ["Notified", "Peer", "StatusRecorder", "TaskRun", "with_related_task"]


class Notified(Protocol):
    """Where a task was created, told of it while it can be (a session's client, or the client
    of a modern request: `mcpkit.server.session.Peer`)."""

    @property
    def closed(self) -> bool: ...

    async def notify(
        self, method: str, params: Any = None, *, related: RequestId | None = None
    ) -> None: ...


class Peer(Notified, Protocol):
    """The requestor's end of one connection (`mcpkit.runtime.connection.Connection` is one)."""

    async def request(
        self,
        method: str,
        params: Any = None,
        *,
        timeout: float | None = None,
        related: RequestId | None = None,
        result_type: Any = None,
    ) -> Any: ...


def with_related_task(params: Any, task_id: str) -> dict[str, Any]:
    """`params` (a struct or dict) as a dict whose `_meta` names the task."""
    raw: dict[str, Any] = dict(msgspec.to_builtins(params) if params is not None else {})
    meta = dict(raw.get("_meta") or {})
    meta[RELATED_TASK] = {"taskId": task_id}
    raw["_meta"] = meta
    return raw


class _Waiter:
    """One `tasks/result` call in progress: where the task's requests can go meanwhile."""

    __slots__ = ("peer", "request_id")

    def __init__(self, peer: Peer, request_id: RequestId) -> None:
        self.peer = peer
        self.request_id = request_id


class StatusRecorder(Protocol):
    """What a `TaskRun` needs of the runner that started it (`TaskRunner` is one): to record
    the status its work is in, and tell the requestor."""

    async def set_status(
        self, run: TaskRun, status: Literal["working", "input_required"]
    ) -> None: ...


class TaskRun:
    """One task running in this process: what its work uses to reach the requestor."""

    def __init__(self, runner: StatusRecorder, owner: str, task_id: str, peer: Notified) -> None:
        self.runner = runner
        self.owner = owner
        self.id = task_id
        self.peer = peer  # where the task was created
        self.finished = asyncio.Event()
        self.cancelled = False  # by tasks/cancel
        self.expired = False  # its ttl elapsed while it ran
        self.expiry: asyncio.TimerHandle | None = None
        self._waiters: list[_Waiter] = []
        self._waiter_came: asyncio.Event | None = None
        self._asking = 0  # requests to the requestor in flight
        self._last_progress: float | None = None
        self.work: asyncio.Task[None] | None = None
        #: A task of the tasks extension (2026-07-28, SEP-2663): its requestor polls, so its
        #: questions wait in `input_requests` until tasks/update answers them (`ask_polled`).
        self.polled = False
        #: The open questions of a polled task, by key, as tasks/get shows them.
        self.input_requests: dict[str, dict[str, Any]] = {}
        self._replies: dict[str, asyncio.Future[Any]] = {}
        self._keys: set[str] = set()  # every key asked: unique over the task's lifetime

    # --------------------------------------------------------------- routing

    @contextmanager
    def waiting(self, peer: Peer, request_id: RequestId) -> Generator[None]:
        """While a `tasks/result` call is open, the task's messages travel related to it."""
        waiter = _Waiter(peer, request_id)
        self._waiters.append(waiter)
        if self._waiter_came is not None:
            self._waiter_came.set()
            self._waiter_came = None
        try:
            yield
        finally:
            self._waiters.remove(waiter)

    def current(self) -> _Waiter | None:
        """The latest `tasks/result` call whose connection is open."""
        for waiter in reversed(self._waiters):
            if not waiter.peer.closed:
                return waiter
        return None

    async def _next_waiter(self) -> _Waiter:
        while (waiter := self.current()) is None:
            if self._waiter_came is None:
                self._waiter_came = asyncio.Event()
            await self._waiter_came.wait()
        return waiter

    # ------------------------------------------------------------ operations

    async def request(
        self,
        method: str,
        params: Any,
        *,
        timeout: float | None,
        result_type: Any = None,
        related_task: bool = True,
    ) -> Any:
        """Ask the requestor (sampling, elicitation, roots) on the task's behalf: the task is
        `input_required` until the answer comes; the request goes out once the requestor
        calls `tasks/result` (at once if it already has). `related_task=False` for the
        `tasks/*` requests of a task asked of the requestor in turn: they name their task in
        their params and SHOULD NOT carry the meta ("Associating Task-Related Messages")."""
        if related_task:
            params = with_related_task(params, self.id)
        async with self.needing_input():
            try:
                async with asyncio.timeout(timeout):
                    waiter = await self._next_waiter()
            except TimeoutError:
                raise RequestTimeout(
                    f"{method}: the requestor did not call tasks/result for task {self.id} "
                    f"within {timeout:g} s to take this request"
                ) from None
            return await waiter.peer.request(
                method,
                params,
                timeout=timeout,
                related=waiter.request_id,
                result_type=result_type,
            )

    async def ask_polled(
        self, method: str, params: dict[str, Any], key: str | None, timeout: float | None
    ) -> Any:
        """Ask the requestor of a polled task: the question waits in `input_requests` under
        `key` (by default q1, q2...: never reused within the task, SEP-2663 "Task Update
        Requests"), the task input_required, until `answer` gives its answer (raw JSON)."""
        if key is None:
            key = f"q{len(self._keys) + 1}"
            while key in self._keys:
                key += "'"
        elif key in self._keys:
            raise LocalProtocolError(
                f"task {self.id} already asked a question under the key {key!r}: keys must be "
                "unique over a task's lifetime"
            )
        self._keys.add(key)
        reply: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        request: dict[str, Any] = {"method": method, "params": params}
        self.input_requests[key] = request
        self._replies[key] = reply
        try:
            async with self.needing_input():
                try:
                    async with asyncio.timeout(timeout):
                        return await reply
                except TimeoutError:
                    raise RequestTimeout(
                        f"{method}: the requestor did not answer input request {key!r} of task "
                        f"{self.id} within {timeout:g} s"
                    ) from None
        finally:
            self.input_requests.pop(key, None)
            self._replies.pop(key, None)

    def answer(self, responses: dict[str, Any]) -> None:
        """tasks/update: answer the open questions `responses` names; a key that is not open
        (never asked, answered already) is ignored, as SEP-2663 says servers SHOULD."""
        for key, value in responses.items():
            reply = self._replies.pop(key, None)
            if reply is None or reply.done():
                continue
            # Gone from tasks/get at once: a client that answered part sees only the rest.
            self.input_requests.pop(key, None)
            reply.set_result(value)

    @asynccontextmanager
    async def needing_input(self) -> AsyncGenerator[None]:
        """The task is `input_required` while any of these is open (nested or concurrent:
        one change in, one change out, however many requests a question takes)."""
        self._asking += 1
        if self._asking == 1:
            await self.runner.set_status(self, "input_required")
        try:
            yield
        finally:
            self._asking -= 1
            if self._asking == 0 and not self.finished.is_set():
                await self.runner.set_status(self, "working")

    async def notify(self, method: str, params: Any) -> None:
        """Send a notification about the task: on the open `tasks/result` stream if any, else
        unrelated (the GET stream over HTTP); dropped if neither connection is open."""
        params = with_related_task(params, self.id)
        waiter = self.current()
        if waiter is not None:
            await waiter.peer.notify(method, params, related=waiter.request_id)
        elif not self.peer.closed:
            await self.peer.notify(method, params)

    async def progress(
        self, token: RequestId, progress: float, total: float | None, message: str | None
    ) -> None:
        """Progress on the request that created the task: its token stays valid for the
        task's lifetime ("Task Progress Notifications"), and still must increase."""
        if self._last_progress is not None and progress <= self._last_progress:
            raise LocalProtocolError(
                f"progress must increase with each notification ({progress} after "
                f"{self._last_progress})"
            )
        self._last_progress = progress
        params = ProgressNotificationParams(
            progress_token=token, progress=progress, total=total, message=message
        )
        await self.notify("notifications/progress", params)
