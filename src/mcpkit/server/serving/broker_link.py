"""`BrokerLink`: a `Server`'s subscription to its broker, an object the `Server` holds.

The broker's changes go to the server's broadcasts. When other processes share the broker
(a `SharedBroker`, told apart here, once), it also carries what a session's client sent to
another process for a request that this one serves: its responses to requests this process
sent it, and its cancellations; each goes to the session if this process holds it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from mcpkit.stores.broker import Broker, SharedBroker

if TYPE_CHECKING:
    from mcpkit.runtime.connection import Connection
    from mcpkit.server.session import HeldSessions
    from mcpkit.stores.broker import Change
    from mcpkit.types import RequestId

__all__ = ["BrokerLink"]


class BrokerLink:
    """`broker`'s changes handed to `deliver`, and its forwarded responses and cancellations
    to the sessions of `sessions`, until `close`."""

    def __init__(
        self, broker: Broker, *, deliver: Callable[[Change], None], sessions: HeldSessions
    ) -> None:
        self.broker = broker
        #: `broker`, if other processes share it (None if it is not a `SharedBroker`).
        self.shared = broker if isinstance(broker, SharedBroker) else None
        self._sessions = sessions
        self._stops = [broker.subscribe(deliver)]
        if self.shared is not None:
            self._stops.append(self.shared.subscribe_responses(self._take_forwarded))
            self._stops.append(self.shared.subscribe_cancels(self._take_cancel))

    def close(self) -> None:
        """Take nothing more from the broker (the server's store is replaced)."""
        for stop in self._stops:
            stop()

    def _take_forwarded(self, session_id: str, response: bytes) -> None:
        """A response the client of session `session_id` POSTed to another process, to a
        request this process sent it: to that session here, if it is still here."""
        connection = self._held(session_id)
        if connection is not None:
            connection.take_forwarded(response)

    def _take_cancel(self, session_id: str, request_id: RequestId, reason: str | None) -> None:
        """The client of session `session_id` cancelled `request_id` through another
        process: it stops here if it runs here."""
        connection = self._held(session_id)
        if connection is not None:
            connection.take_cancel(request_id, reason)

    def _held(self, session_id: str) -> Connection | None:
        """The connection of this process's copy of session `session_id`, if it has one (a
        2026-07-28 request is never held, and has no requests of its own to the client to be
        answered or cancelled)."""
        handle = self._sessions.by_id(session_id)
        return None if handle is None else handle.connection
