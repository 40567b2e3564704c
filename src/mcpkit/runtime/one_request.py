"""Serve one request, in the caller's task, with nothing left behind: the runtime of a request
that carries its own terms (2026-07-28) over Streamable HTTP.

Under 2026-07-28 each POST holds one request and gets its own response, and nothing links it
to any other (basic/transports/streamable-http): no session, no GET stream, no resumption,
no request from the server to the client (those travel inside an `InputRequiredResult`), and
closing the response is the cancellation. So the machinery a lasting session needs
(`Connection`: a reader, a writer that paces answers, a task per request, timers for our own
requests, a channel that routes each message to its POST) has nothing to do here, and its
cost would be paid on every call. `OneRequest` keeps only the protocol session, which reads
the body, checks it and encodes the answers exactly as for a lasting session; it runs the
handler in the caller's task and hands each message, as it is made, to its `Response`
(over Streamable HTTP: `transports/http/own_terms.OwnTermsResponse`, which writes it). Once
the answer is out the runtime is closed: a handler that keeps its `Context` (a task's work,
say) can send nothing more through it.

What is emitted, in order: the messages sent while serving (`MESSAGE`: progress, log
messages), then the final answer: `RESULT` when it is the handler's result, `ANSWER` when it
is an error or an answer the session gave itself (a refusal, `server/discover`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Final, Literal, Protocol

from mcpkit.errors import ConnectionClosed
from mcpkit.protocol.events import Event, RequestInfo, RequestReceived
from mcpkit.protocol.session import Session
from mcpkit.runtime.awaiting import ProgressCallback
from mcpkit.runtime.handler_failure import answer_request
from mcpkit.types import RequestId

__all__ = ["ANSWER", "MESSAGE", "RESULT", "Kind", "OneRequest", "Response"]


Kind = Literal["message", "result", "answer"]
MESSAGE: Final = "message"
RESULT: Final = "result"
ANSWER: Final = "answer"


class Response(Protocol):
    """Where a `OneRequest` writes: the transport's response to the request."""

    async def emit(self, data: bytes, kind: Kind) -> None:
        """Write one message: one sent while serving (`MESSAGE`), or the final answer."""
        ...

    def answer_as_json(self) -> None:
        """Send the final answer as one JSON object, not a stream (a poll of a task)."""
        ...


class OneRequest:
    """The runtime (`mcpkit.runtime.link.Link`) of a session that serves the one request of a
    body: `serve(body)` reads it, runs its handler in the calling task, writes what it sends
    and its answer to `response`, and returns; then the runtime is closed.

    `on_request` is the handler (as `Connection`'s: its result is the answer, an McpError
    the error, anything else -32603); `on_event` gets what the body held that is not a
    request."""

    __slots__ = (
        "_closed",
        "_emit",
        "_on_event",
        "_on_request",
        "_request_id",
        "response",
        "session",
    )

    def __init__(
        self,
        session: Session,
        response: Response,
        *,
        on_request: Callable[[RequestReceived], Awaitable[Any]],
        on_event: Callable[[Event], None],
    ) -> None:
        self.session = session
        self.response = response
        self._emit = response.emit
        self._on_request = on_request
        self._on_event = on_event
        self._closed = False
        self._request_id: RequestId | None = None

    @property
    def closed(self) -> bool:
        return self._closed

    async def serve(self, body: bytes, info: RequestInfo | None) -> tuple[bool, list[bytes]]:
        """Read `body` and serve the request it holds; (whether it held a request, the
        answers to the body as a whole when it is refused: the caller sends those, 400).
        Cancelling the calling task cancels the handler; nothing more is sent then."""
        session = self.session
        read = session.receive_body(body, info)
        del body  # not kept while the handler runs: a listen may run for hours
        if read.refused:
            self._closed = True
            return False, read.refused
        request: RequestReceived | None = None
        for ev in read.events:
            if type(ev) is RequestReceived:
                request = ev
            else:
                self._on_event(ev)
        if request is None:  # answered by the session itself, or a notification
            await self._send_queued(ANSWER)
            self._closed = True
            return bool(read.started), []
        self._request_id = request.request_id
        try:
            answered = await answer_request(session, request, self._on_request)
        except asyncio.CancelledError:
            self._closed = True  # the client went away: nothing more goes to it
            raise
        await self._send_queued(RESULT if answered else ANSWER)
        self._closed = True
        return True, []

    async def _send_queued(self, final_kind: Kind) -> None:
        """Emit what the session queued: messages about the request as they are, its final
        answer as `final_kind`. Messages about no request have nowhere to go (under
        2026-07-28 every message on a response relates to its request) and are dropped."""
        rid = self._request_id
        for item in self.session.data_to_send():
            if self._closed:
                return
            if item.final:
                self._closed = True
                await self._emit(item.data, final_kind)
            elif item.related == rid and rid is not None:
                await self._emit(item.data, MESSAGE)

    # ------------------------------------------------------------------------ Link

    async def flush(self, *, answering: bool = True) -> None:
        await self._send_queued(ANSWER)

    async def notify(
        self, method: str, params: Any = None, *, related: RequestId | None = None
    ) -> None:
        if self._closed:
            raise ConnectionClosed("the request was answered: nothing more can reach its client")
        self.session.send_notification(method, params, related=related)
        await self._send_queued(ANSWER)

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
        raise ConnectionClosed(
            f"cannot send {method}: a request that carries its own terms (2026-07-28) has no "
            "channel back for a request to its client; ctx.elicit(), ctx.sample() and "
            "ctx.list_roots() ask within the result instead"
        )

    async def close_stream(self, request_id: RequestId, retry_ms: int | None = None) -> bool:
        return False  # 2026-07-28 streams are not resumable: closing one would cancel

    async def wait_sent(self, timeout: float) -> None:
        return  # each message is written as it is made

    async def wait_for_room(self) -> None:
        if self._closed:
            raise ConnectionClosed("the request was answered: nothing more can reach its client")

    def answer_as_json(self, request_id: RequestId) -> None:
        self.response.answer_as_json()

    def release_task_progress(self, task_id: str) -> None:
        self.session.release_task_progress(task_id)

    async def aclose(self) -> None:
        self._closed = True
