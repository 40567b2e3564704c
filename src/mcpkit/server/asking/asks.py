"""Requests the server sends to clients (sampling, elicitation, roots) on a handler's behalf:
how they are bounded, and the ways of sending them.

Each one awaiting an answer holds its handler, its message and a future until the client
answers or the request times out (`request_timeout`, 300 s by default), so a client that never
answers could make a tool that asks pile them up. `AskBudget` bounds them per session and
across the server; past either bound the ask fails at once, naming the setting.

`Asking` is a way of asking, chosen per request by `Context`: on the live session, or on
behalf of a task (and, from 2026-07-28, as a multi round-trip answer).
"""

from __future__ import annotations

import contextlib
from collections.abc import Generator
from typing import Any, Final, Protocol

import msgspec

from mcpkit.errors import McpError
from mcpkit.protocol import codes
from mcpkit.protocol.capabilities import REQUIRED_CAPABILITY, has_capability
from mcpkit.protocol.modern import missing_capability
from mcpkit.stores.task_runner import Peer, TaskRun
from mcpkit.types import ClientCapabilities, RequestId

__all__ = [
    "DEFAULT_MAX_PENDING_CLIENT_REQUESTS",
    "DEFAULT_MAX_PENDING_CLIENT_REQUESTS_PER_SESSION",
    "AskBudget",
    "Asking",
    "DirectAsking",
    "PolledTaskAsking",
    "SessionRequester",
    "TaskAsking",
    "TaskRequester",
]

#: Requests to clients awaiting an answer at once, all sessions together (each holds about
#: 11 KiB while it waits).
DEFAULT_MAX_PENDING_CLIENT_REQUESTS: Final = 1024
#: The same, for one session: well above what a handler asks at once (a few questions),
#: low enough that one client cannot hold the server's whole budget.
DEFAULT_MAX_PENDING_CLIENT_REQUESTS_PER_SESSION: Final = 64


class AskBudget:
    """Counts the requests to clients that await an answer, per session and in all."""

    __slots__ = ("_by_session", "max_per_session", "max_total", "total")

    def __init__(self, max_total: int, max_per_session: int) -> None:
        # Refused where the settings are written: 0 would refuse every ask, silently.
        if max_total < 1 or max_per_session < 1:
            raise ValueError(
                "max_pending_client_requests and max_pending_client_requests_per_session "
                "must be at least 1"
            )
        self.max_total = max_total
        self.max_per_session = max_per_session
        self.total = 0
        # Only sessions with asks pending have an entry: an idle session costs nothing.
        self._by_session: dict[object, int] = {}

    def pending(self, session: object) -> int:
        """How many requests to `session`'s client await an answer."""
        return self._by_session.get(session, 0)

    @contextlib.contextmanager
    def hold(self, session: object) -> Generator[None]:
        """Count one request to `session`'s client while the block runs; McpError (-32603)
        naming the setting, before anything is sent, when a bound is reached."""
        mine = self._by_session.get(session, 0)
        # The session's bound first: a client past its own share is told so, whatever the
        # server's total.
        if mine >= self.max_per_session:
            raise McpError(
                codes.INTERNAL_ERROR,
                f"this client has {mine} requests from the server awaiting its answer, the "
                "server's max_pending_client_requests_per_session setting: answer them first",
            )
        if self.total >= self.max_total:
            raise McpError(
                codes.INTERNAL_ERROR,
                f"the server has {self.total} requests to clients awaiting an answer, its "
                "max_pending_client_requests setting: try again once some are answered",
            )
        self.total += 1
        self._by_session[session] = mine + 1
        # Given back however the ask ends: answered, timed out, cancelled or failed.
        try:
            yield
        finally:
            self.total -= 1
            left = self._by_session[session] - 1
            if left:
                self._by_session[session] = left
            else:
                del self._by_session[session]


# ------------------------------------------------------------------ ways of asking


class Asking(Protocol):
    """One way a request's handler asks the client something (`Context.sample`, `elicit`,
    `list_roots`). Which one serves a request is decided per request (`asking_for`):

    - `DirectAsking`: a server-initiated request on the live session, sent on the asking
      request's stream.
    - `TaskAsking`: on behalf of a task, which waits in `input_required` until the client
      calls `tasks/result` (basic/utilities/tasks), where the request then goes.
    - (2026-07-28) the multi round-trip answer, which ends the call with the question and
      resumes it when the client retries with the answer (basic/patterns/mrtr).
    """

    async def ask(self, method: str, params: Any, timeout: float | None, result_type: Any) -> Any:
        """Send one request and return its result, decoded as `result_type` (the method's
        own type when None); `timeout` None means the server's `request_timeout`."""
        ...

    async def send(self, method: str, params: Any, result_type: Any) -> Any:
        """One request of an exchange the caller bounds itself (a task-augmented ask, whose
        `tasks/*` follow-ups go the same way): no timeout, not counted again."""
        ...

    def asking(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Held around a whole exchange of several requests (a task-augmented ask)."""
        ...


class DirectAsking:
    """Ask the client directly, with a server-initiated request on the live session of the
    request `request_id`: over HTTP its stream carries the question, and the client answers
    with a POST to the same session."""

    __slots__ = ("request_id", "session")

    def __init__(self, session: SessionRequester, request_id: RequestId) -> None:
        """`request_id`: the request being served, which each question relates to."""
        self.session = session
        self.request_id = request_id

    async def ask(self, method: str, params: Any, timeout: float | None, result_type: Any) -> Any:
        # (counted in the server's AskBudget by session.request)
        # `related`: over HTTP, the question goes on the stream of the request it serves.
        return await self.session.request(
            method, params, timeout=timeout, related=self.request_id, result_type=result_type
        )

    async def send(self, method: str, params: Any, result_type: Any) -> Any:
        # The connection's own request: no timeout, no second count (`Asking.send`).
        return await self.session.connection.request(
            method, params, related=self.request_id, result_type=result_type
        )

    def asking(self) -> contextlib.AbstractAsyncContextManager[None]:
        # Nothing to hold: each request on the session stands alone.
        return contextlib.nullcontext()


class TaskAsking:
    """Ask on behalf of `task`: the task is `input_required` while the question is open, and
    the question goes out on the stream of the client's open `tasks/result` for it."""

    __slots__ = ("budget", "request_timeout", "session", "task")

    def __init__(
        self,
        session: SessionRequester,
        task: TaskRequester,
        budget: AskBudget,
        request_timeout: float | None,
    ) -> None:
        """`request_timeout`: the server's, for asks that name no timeout (None: none)."""
        self.session = session
        self.task = task
        self.budget = budget
        self.request_timeout = request_timeout

    async def ask(self, method: str, params: Any, timeout: float | None, result_type: Any) -> Any:
        # Counted here: the task's request does not go through `session.request`, which
        # counts the session's own asks.
        with self.budget.hold(self.session):  # max_pending_client_requests
            # Checked here, not when it goes out: that may be long after, on another stream.
            self.session.protocol.check_outbound_request(method, params)
            return await self.task.request(
                method,
                params,
                timeout=self.request_timeout if timeout is None else timeout,
                result_type=result_type,
            )

    async def send(self, method: str, params: Any, result_type: Any) -> Any:
        """One request of a task-augmented exchange, through the task's `tasks/result`."""
        return await self.task.request(
            method,
            params,
            timeout=None,
            result_type=result_type,
            related_task=not method.startswith("tasks/"),  # those name their task
        )

    def asking(self) -> contextlib.AbstractAsyncContextManager[None]:
        """The task is input_required for the whole exchange, not once per request."""
        return self.task.needing_input()  # one input_required for the whole exchange


class PolledTaskAsking:
    """Ask on behalf of a task of the tasks extension (2026-07-28, SEP-2663): the question
    waits in the task's `inputRequests`, the task input_required, until the client answers
    it with tasks/update. No request goes to the client: it finds the question on tasks/get."""

    __slots__ = ("capabilities", "key", "request_timeout", "task")

    def __init__(
        self,
        task: TaskRun,
        capabilities: ClientCapabilities,
        key: str | None,
        request_timeout: float | None,
    ) -> None:
        self.task = task
        self.capabilities = capabilities  # what the request that created the task declared
        self.key = key  # names the question among the task's inputRequests
        self.request_timeout = request_timeout

    async def ask(self, method: str, params: Any, timeout: float | None, result_type: Any) -> Any:
        # Checked against what the client declared when it created the task: a question
        # it cannot answer would leave the task input_required for good.
        path = REQUIRED_CAPABILITY.get(method)
        if path is not None and not has_capability(self.capabilities, path):
            raise missing_capability(path)
        # As JSON: the question is kept in the task, where the client reads it (tasks/get).
        raw: dict[str, Any] = msgspec.to_builtins(params) if params is not None else {}
        wait = self.request_timeout if timeout is None else timeout
        answer = await self.task.ask_polled(method, raw, self.key, wait)
        # The answer came in a tasks/update from the client: checked like any input.
        try:
            return msgspec.convert(answer, result_type) if result_type is not None else answer
        except msgspec.ValidationError as exc:
            raise McpError(
                codes.INVALID_PARAMS,
                f"Invalid params: the answer to {method} for task {self.task.id} is not a "
                f"result of {method}: {exc}",
            ) from None

    async def send(self, method: str, params: Any, result_type: Any) -> Any:
        """As `ask`: a polled question has no follow-up requests to send apart."""
        return await self.ask(method, params, None, result_type)

    def asking(self) -> contextlib.AbstractAsyncContextManager[None]:
        """Nothing to hold: the question waits in the task itself (`TaskRun.ask_polled`)."""
        return contextlib.nullcontext()


class SessionRequester(Protocol):
    """What asking needs of the session it sends on: its requests to the client, and the
    checks of what may go out (`mcpkit.server.session.ServerSessionHandle`)."""

    @property
    def protocol(self) -> _OutboundChecks: ...

    @property
    def connection(self) -> Peer: ...

    async def request(
        self,
        method: str,
        params: Any = None,
        *,
        timeout: float | None = None,
        related: RequestId | None = None,
        result_type: Any = None,
    ) -> Any: ...


class TaskRequester(Protocol):
    """What asking needs of a running task (`mcpkit.stores.task_runner.TaskRun`)."""

    async def request(
        self,
        method: str,
        params: Any,
        *,
        timeout: float | None,
        result_type: Any = None,
        related_task: bool = True,
    ) -> Any: ...

    def needing_input(self) -> contextlib.AbstractAsyncContextManager[None]: ...


class _OutboundChecks(Protocol):
    """The check a session's protocol makes of a request before it goes out (its lifecycle,
    the client's capabilities: `mcpkit.protocol.session`), which a task's question makes
    itself, since it may go out later and on another stream."""

    def check_outbound_request(self, method: str, params: Any = None) -> None: ...
