"""`Link`: what a server's session handle uses of the runtime under it while it serves.

Two runtimes implement it. `Connection` pumps a session over a channel for as long as the
client stays (stdio, memory, a 2025-era HTTP session). `mcpkit.server.request_peer.RequestPeer`
serves a single request that carries its own terms (2026-07-28 over Streamable HTTP): no
reader, no writer, no task of its own. A handler's `Context`, the task runner and the proxy
reach the runtime only through these methods, so the same handler code runs on either.
"""

from __future__ import annotations

from typing import Any, Protocol

from mcpkit.runtime.awaiting import ProgressCallback
from mcpkit.types import RequestId

__all__ = ["Link"]


class Link(Protocol):
    """The runtime of one session, as the server's handle sees it."""

    @property
    def closed(self) -> bool:
        """Whether nothing more can be sent (the connection ended, the answer went out)."""
        ...

    async def flush(self, *, answering: bool = True) -> None:
        """Send what the session has queued (`Connection.flush`)."""
        ...

    async def notify(
        self, method: str, params: Any = None, *, related: RequestId | None = None
    ) -> None:
        """Send a notification (raises `ConnectionClosed` once closed)."""
        ...

    async def request(
        self,
        method: str,
        params: Any = None,
        *,
        timeout: float | None = None,
        on_progress: ProgressCallback | None = None,
        related: RequestId | None = None,
        result_type: Any = None,
    ) -> Any:
        """Send a request to the peer and wait for its result."""
        ...

    async def close_stream(self, request_id: RequestId, retry_ms: int | None = None) -> bool:
        """Close the stream carrying `request_id`'s messages, keeping the request (SEP-1699);
        False where that cannot be done."""
        ...

    async def wait_sent(self, timeout: float) -> None:
        """Wait (at most `timeout` seconds) until everything queued is handed to the transport."""
        ...

    async def wait_for_room(self) -> None:
        """Return once our own new messages may be queued."""
        ...

    def answer_as_json(self, request_id: RequestId) -> None:
        """Answer `request_id` with one JSON object rather than a stream, where the transport
        has the choice (a poll of a task)."""
        ...

    def release_task_progress(self, task_id: str) -> None:
        """Stop passing progress about task `task_id` to the request that created it."""
        ...

    async def aclose(self) -> None:
        """End the runtime: pending work fails, nothing more is sent."""
        ...
