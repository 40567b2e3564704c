"""What the client's call groups send through: the one request path of a `Client`, and the era
it speaks, chosen once at connect (a 2025-11-25 session, or modern 2026-07-28 requests,
each carrying its terms)."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, TypeVar

from mcpkit.errors import LocalProtocolError
from mcpkit.protocol.capabilities import task_params
from mcpkit.runtime.layers import Layer, call_through
from mcpkit.runtime.task_augmented import created_or_cancelled, quietly

if TYPE_CHECKING:
    from mcpkit.client.discover_answer import Discovered
    from mcpkit.client.request_terms import ModernCalls
    from mcpkit.protocol.events import NotificationReceived
    from mcpkit.runtime.connection import Connection
    from mcpkit.types import Implementation, ServerCapabilities

__all__ = [
    "NOT_CONNECTED",
    "Era",
    "LogLevel",
    "ProgressHandler",
    "RequestPath",
    "request_timeout",
]

#: What a client that is not connected says when asked to send.
NOT_CONNECTED = "the client is not connected; use `async with Client(...)`"
Q = TypeVar("Q")

ProgressHandler = Callable[[float, "float | None", "str | None"], "Awaitable[None] | None"]
LogLevel = Literal["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"]


def request_timeout(timeout: float | None, default: float | None) -> float | None:
    """The bound a request gets: `default` for None, no bound for `math.inf` (a tasks/result
    waits as long as its task runs), else `timeout`."""
    if timeout is None:
        return default
    return None if timeout == math.inf else timeout


class Era(Protocol):
    """What differs between the eras, decided once at connect: how a request travels, where
    the server's facts come from, and the calls one era makes another way (or not at all).
    `mcpkit.client.era` has both: `LegacyEra` and `ModernEra`."""

    @property
    def connection(self) -> Connection: ...
    @property
    def protocol_version(self) -> str: ...
    @property
    def server_info(self) -> Implementation: ...
    @property
    def server_capabilities(self) -> ServerCapabilities: ...
    @property
    def instructions(self) -> str | None: ...
    @property
    def discovered(self) -> Discovered | None: ...
    @property
    def modern(self) -> ModernCalls | None:
        """The 2026-07-28 terms each request carries (None in a session)."""
        ...

    #: The request `ping` sends: `ping`, or `server/discover` where there is no ping.
    ping: tuple[str, Any]
    #: Whether `call_tool(task=...)` asks for a task (2025-11-25); under 2026-07-28 the
    #: server decides and the call follows its task.
    client_tasks: bool

    def send(
        self,
        method: str,
        params: Any,
        timeout: float | None,
        progress: ProgressHandler | None,
        result_type: Any,
    ) -> Awaitable[Any]:
        """One request on the connection, with this era's terms; its decoded result."""
        ...

    def refuse_session_tasks(self, what: str) -> None:
        """Raise LocalProtocolError if `what`, a call of 2025-11-25's tasks, has no place."""
        ...

    def modern_params(self, params: Any) -> dict[str, Any]: ...
    async def subscribe(self, uri: str) -> None: ...
    async def unsubscribe(self, uri: str) -> None: ...
    async def set_logging_level(self, level: LogLevel) -> None: ...
    async def roots_changed(self) -> None: ...
    async def listen(self, hear_list_changes: bool) -> None:
        """At connect: start hearing the server's list changes, if they are heard."""
        ...

    def heard(self, ev: NotificationReceived) -> bool:
        """Take a notification's news (a stale list, say); False if it is the era's own."""
        ...

    async def aclose(self) -> None: ...


class RequestPath(Generic[Q]):
    """The one way every request of a `Client` goes, in either era: through its middleware
    (each layer sees it once), then out with the terms of the era chosen at connect. The
    call groups (`FeatureCalls`, `TaskRequests`, `SkillCalls`) all send through it."""

    def __init__(
        self, outgoing: Callable[[str], Q], middleware: Sequence[Layer[Q]], timeout: float | None
    ) -> None:
        #: What a layer is told of the request it wraps (the client's `OutgoingRequest`).
        self.outgoing = outgoing
        self.middleware: tuple[Layer[Q], ...] = tuple(middleware)
        self.timeout = timeout
        #: The era spoken, from connect to close.
        self.current: Era | None = None

    @property
    def era(self) -> Era:
        """The era spoken; LocalProtocolError while the client is not connected."""
        if self.current is None:
            raise LocalProtocolError(NOT_CONNECTED)
        return self.current

    async def request(
        self,
        method: str,
        params: Any = None,
        *,
        timeout: float | None = None,
        progress: ProgressHandler | None = None,
        result_type: Any = None,
    ) -> Any:
        era = self.era
        timeout = request_timeout(timeout, self.timeout)

        def call(params: Any) -> Awaitable[Any]:
            # Its params as the middleware left them: a task-augmented request (params with
            # `task`, in an era where the client asks for tasks) goes out with no bound, and
            # `created_or_cancelled` applies the timeout, whatever sent it
            # (`call_tool(task=...)`, `Client.request`).
            if era.client_tasks and task_params(params) is not None:
                sending = era.send(method, params, None, progress, result_type)
                return created_or_cancelled(method, sending, timeout, self._cancel_task)
            return era.send(method, params, timeout, progress, result_type)

        if not self.middleware:  # no layer: the era's call, with nothing around it
            return await call(params)
        return await call_through(self.middleware, self.outgoing(method), params, call)

    async def _cancel_task(self, task_id: str) -> None:
        """Cancel a task whose caller gave up on the request that made it (best effort, for
        at most CANCEL_WAIT seconds: the server may not offer tasks/cancel, through the
        middleware), and stop passing its progress on."""
        try:
            await quietly(self.request("tasks/cancel", {"taskId": task_id}), task_id)
        finally:
            self.release_task_progress(task_id)

    def release_task_progress(self, task_id: str) -> None:
        """Stop passing progress about task `task_id` on (`Connection.release_task_progress`)."""
        with contextlib.suppress(Exception):  # not connected (any more): nothing is kept
            self.era.connection.release_task_progress(task_id)
