"""The client side of a proxy's relaying (`mcpkit.proxy.upstream_link.Link`): where a
forwarded request's progress and log messages go (`Down`, a request of either era), and the
2025 client session that holds its link for its whole life (`LinkedClient`), as a 2026 call
holds a pooled one, and whose connection ends that link when it closes (`ProxiedConnection`)."""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Final

import msgspec

from mcpkit.errors import ConnectionClosed, LocalProtocolError
from mcpkit.protocol.capabilities import task_params
from mcpkit.protocol.events import RequestReceived
from mcpkit.protocol.jsonrpc import field_of
from mcpkit.protocol.terms import log_level_of
from mcpkit.proxy.upstream_link import LIST_CHANGES
from mcpkit.runtime.connection import Connection, ProgressCallback
from mcpkit.server.session import LOG_LEVELS
from mcpkit.types import ProgressNotificationParams, RequestId

if TYPE_CHECKING:
    from mcpkit.proxy.upstream_link import Downstream, Link
    from mcpkit.server.session import Peer, ServerSessionHandle

__all__ = ["Down", "LinkedClient", "ProxiedConnection"]

logger = logging.getLogger("mcpkit.proxy")

#: Passed down to a 2025 session as they are (a log message that no request takes, too).
_PASSED: Final = frozenset(
    {
        "notifications/message",
        "notifications/resources/updated",
        "notifications/elicitation/complete",
        "notifications/tasks/status",
    }
)


@dataclass(slots=True)
class Down:
    """The way down to one client request: its client (a 2025 session, a 2026 POST's
    `RequestPeer`, or a stdio session), its id, the progress token it gave, and the log level
    its `_meta` asked for (None: no log messages at all, as basic/index's
    `io.modelcontextprotocol/logLevel` has it). A request of a 2025 session (`in_session`)
    takes every log message (its session's `logging/setLevel` went upstream), and one that
    made a task keeps its progress token with the task."""

    handle: Peer
    request_id: RequestId
    progress_token: RequestId | None
    log_level: str | None
    in_session: bool = False

    @classmethod
    def of(cls, handle: Peer, ev: RequestReceived, *, in_session: bool = False) -> Down:
        level = None if in_session else log_level_of(ev.terms)
        return cls(handle, ev.request_id, ev.progress_token, level, in_session)

    async def log(self, params: Any) -> None:
        """An upstream log message, when at or above the level the request asked for."""
        if not self.in_session:
            level, wanted = field_of(params, "level"), self.log_level
            if wanted is None or LOG_LEVELS.get(str(level), -1) < LOG_LEVELS[wanted]:
                return
        await self.handle.notify("notifications/message", params, related=self.request_id)

    async def progress(self, progress: float, total: float | None, message: Any) -> None:
        """Upstream progress, under the request's own token (basic/utilities/progress)."""
        token, handle = self.progress_token, self.handle
        if token is None:
            return
        try:
            if handle.is_inflight(self.request_id):
                handle.send_progress(self.request_id, token, progress, total, message)
                await handle.flush()
            elif self.in_session:  # the request made a task: its token lives on with the
                # task (tasks, "Task Progress Notifications"); the upstream keeps it increasing
                params = ProgressNotificationParams(
                    progress_token=token, progress=progress, total=total, message=message
                )
                await handle.notify("notifications/progress", params)
        except (LocalProtocolError, ConnectionClosed):
            pass  # progress that does not increase, or a client gone: nothing to tell


class LinkedClient:
    """The client of a 2025 session (`handle`), linked to its upstream session for the
    session's whole life: the link's holder and owner. The upstream's questions are asked of
    the client, its notifications passed to it, and its end ends the client session too."""

    after_end: ClassVar[str] = "start a new session to reconnect"

    def __init__(self, handle: ServerSessionHandle, timeout: float | None) -> None:
        self.handle = handle
        self.timeout = timeout  # (the proxy's downstream timeout)

    async def ask(
        self, ev: RequestReceived, related: Downstream | None, on_progress: ProgressCallback | None
    ) -> Any:
        timeout, result_type = self.timeout, None
        if ev.method == "tasks/result":  # waits for the client's task; any result
            timeout, result_type = math.inf, msgspec.Raw
        elif task_params(ev.params) is not None:
            # Given up on (the timeout passed, or the upstream went), it cancels the task the
            # client made with tasks/cancel, not notifications/cancelled, which would leave
            # it working (`ServerSessionHandle.request`).
            return await self.handle.request(
                ev.method,
                ev.params,
                timeout=timeout,
                related=None if related is None else related.request_id,
                on_progress=on_progress,
            )
        return await self.handle.connection.request(
            ev.method,
            ev.params,
            timeout=timeout,
            related=None if related is None else related.request_id,
            result_type=result_type,
            on_progress=on_progress,
        )

    def notified(self, link: Link, method: str, params: Any) -> None:
        handle = self.handle
        if not handle.notifiable:
            return
        if method in LIST_CHANGES:  # coalesced per session as the server's own are
            announcing = handle.announce(method)
            if announcing is not None:
                link.pass_on(announcing)
        elif method in _PASSED:
            link.pass_on(handle.notify(method, params))

    def ended(self, link: Link) -> None:
        """The upstream session ended (its process died, say): requests in flight fail
        with an error that says so, then the client session ends too, so a client over
        Streamable HTTP opens a new one (404: basic/transports, "Session Management")
        and with it a new upstream session."""
        if link.closing or not link.opened:
            return  # closed by us, or failing `open`, whose error answers initialize
        logger.warning("the upstream server ended; ending its client session too")
        link.tasks.spawn(self._end_client_session())

    async def _end_client_session(self) -> None:
        connection = self.handle.connection
        # The failed requests' answers are queued by now (their handlers ran first): send
        # them, at most for a while, then end.
        try:
            await connection.flush()
            await connection.wait_sent(2.0)
        except ConnectionClosed:
            pass
        await connection.aclose()


class ProxiedConnection(Connection):
    """The client session's connection, which ends its upstream session when it closes
    (however the transport ends it: stdin closed, HTTP DELETE, idle expiry), by
    `drop_link(handle)` (`ProxyServer.drop_link`)."""

    __slots__ = ("_drop_link", "_handle")

    def __init__(
        self,
        drop_link: Callable[[ServerSessionHandle], Awaitable[None]],
        handle: ServerSessionHandle,
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self._drop_link = drop_link
        self._handle = handle

    async def aclose(self) -> None:
        try:
            await super().aclose()
        finally:
            await self._drop_link(self._handle)
