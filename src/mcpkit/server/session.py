"""The server's view of one connected client: its handshake facts, log level and subscriptions.

`ServerSessionHandle` wraps the runtime connection with the server-to-client operations a
handler may use (log messages, requests to the client, notifications), each checked against
what the client declared.
"""

from __future__ import annotations

import uuid
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, cast

from mcpkit.protocol.lifecycle import ServerSession
from mcpkit.runtime.connection import Connection, ProgressCallback
from mcpkit.types import (
    ClientCapabilities,
    Implementation,
    ListRootsResult,
    LoggingLevel,
    LoggingMessageNotificationParams,
    RequestId,
    Root,
)

if TYPE_CHECKING:
    from mcpkit.server.server import Server

__all__ = ["LOG_LEVELS", "ServerSessionHandle"]

# server/utilities/logging: RFC 5424 severities, least to most severe.
LOG_LEVELS: dict[str, int] = {
    "debug": 0,
    "info": 1,
    "notice": 2,
    "warning": 3,
    "error": 4,
    "critical": 5,
    "alert": 6,
    "emergency": 7,
}


class ServerSessionHandle:
    """One client session of a `Server`."""

    def __init__(self, server: Server, connection: Connection) -> None:
        self.server = server
        self.connection = connection
        self.id = uuid.uuid4().hex
        self.log_level: str | None = None  # None: send every level until the client sets one
        self.subscriptions: set[str] = set()
        #: Change notifications (`notifications/tools/list_changed`...) waiting to be sent.
        self.pending_announcements: set[str] = set()

    @property
    def protocol(self) -> ServerSession:
        session = self.connection.session
        assert isinstance(session, ServerSession)
        return session

    @property
    def client_info(self) -> Implementation | None:
        return self.protocol.client_info

    @property
    def client_capabilities(self) -> ClientCapabilities:
        return self.protocol.client_capabilities

    @property
    def protocol_version(self) -> str | None:
        return self.protocol.revision

    @property
    def operating(self) -> bool:
        """Whether the client has sent `notifications/initialized`."""
        return self.protocol.phase == "operating" and not self.connection.closed

    @property
    def notifiable(self) -> bool:
        """Whether notifications may be sent: once `initialize` has been answered.

        The spec holds back only requests (other than ping) until `initialized` arrives, so a
        list change made right after the handshake still reaches the client.
        """
        return self.protocol.phase in ("initializing", "operating") and not self.connection.closed

    async def request(
        self,
        method: str,
        params: Any = None,
        *,
        timeout: float | None = None,
        related: RequestId | None = None,
        on_progress: ProgressCallback | None = None,
    ) -> Any:
        """Send a request to the client and return its decoded result."""
        if timeout is None:
            timeout = self.server.request_timeout
        return await self.connection.request(
            method, params, timeout=timeout, related=related, on_progress=on_progress
        )

    async def notify(
        self, method: str, params: Any = None, *, related: RequestId | None = None
    ) -> None:
        await self.connection.notify(method, params, related=related)

    def announce(self, method: str) -> Coroutine[Any, Any, None] | None:
        """A notification without params that says something changed (a list), to run in a
        task; None when one is already waiting for room. So however many changes happen
        while it waits, a client that is not reading gets one, and nothing piles up for it."""
        if method in self.pending_announcements:
            return None
        self.pending_announcements.add(method)
        return self._announce(method)

    async def _announce(self, method: str) -> None:
        try:
            await self.connection.wait_for_room()
        finally:
            self.pending_announcements.discard(method)
        await self.notify(method)  # queued at once: there is room, and no await came between

    def wants_log(self, level: str) -> bool:
        threshold = self.log_level
        return threshold is None or LOG_LEVELS[level] >= LOG_LEVELS[threshold]

    async def log(
        self, level: str, data: Any, *, logger: str | None = None, related: RequestId | None = None
    ) -> None:
        """Send `notifications/message` if `level` passes the client's threshold."""
        if level not in LOG_LEVELS:
            raise ValueError(f"unknown log level {level!r}; use one of {', '.join(LOG_LEVELS)}")
        if not self.wants_log(level) or self.connection.closed:
            return
        params = LoggingMessageNotificationParams(
            level=cast("LoggingLevel", level), data=data, logger=logger
        )
        await self.notify("notifications/message", params, related=related)

    async def list_roots(
        self, *, timeout: float | None = None, related: RequestId | None = None
    ) -> list[Root]:
        """Ask the client for its roots (client/roots); needs the client's `roots` capability."""
        result: ListRootsResult = await self.request(
            "roots/list", None, timeout=timeout, related=related
        )
        return list(result.roots)
