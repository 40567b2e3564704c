"""Requests the server has sent to clients (sampling, elicitation, roots) and awaits answers
to: each holds its handler, its message and a future until the client answers or the
request times out (`request_timeout`, 300 s by default), so a client that never answers
could make a tool that asks pile them up. `AskBudget` bounds them per session and across
the server; past either bound the ask fails at once, naming the setting."""

from __future__ import annotations

import contextlib
from collections.abc import Generator
from typing import Final

from mcpkit.errors import McpError
from mcpkit.protocol import codes

__all__ = [
    "DEFAULT_MAX_PENDING_CLIENT_REQUESTS",
    "DEFAULT_MAX_PENDING_CLIENT_REQUESTS_PER_SESSION",
    "AskBudget",
]

#: Requests to clients awaiting an answer at once, all sessions together (each holds about
#: 11 KiB while it waits).
DEFAULT_MAX_PENDING_CLIENT_REQUESTS: Final = 1024
#: The same, for one session.
DEFAULT_MAX_PENDING_CLIENT_REQUESTS_PER_SESSION: Final = 64


class AskBudget:
    """Counts the requests to clients that await an answer, per session and in all."""

    __slots__ = ("_by_session", "max_per_session", "max_total", "total")

    def __init__(self, max_total: int, max_per_session: int) -> None:
        if max_total < 1 or max_per_session < 1:
            raise ValueError(
                "max_pending_client_requests and max_pending_client_requests_per_session "
                "must be at least 1"
            )
        self.max_total = max_total
        self.max_per_session = max_per_session
        self.total = 0
        self._by_session: dict[object, int] = {}

    def pending(self, session: object) -> int:
        """How many requests to `session`'s client await an answer."""
        return self._by_session.get(session, 0)

    @contextlib.contextmanager
    def hold(self, session: object) -> Generator[None]:
        """Count one request to `session`'s client while the block runs; McpError (-32603)
        naming the setting, before anything is sent, when a bound is reached."""
        mine = self._by_session.get(session, 0)
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
        try:
            yield
        finally:
            self.total -= 1
            left = self._by_session[session] - 1
            if left:
                self._by_session[session] = left
            else:
                del self._by_session[session]
