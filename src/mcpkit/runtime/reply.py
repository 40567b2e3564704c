"""The exchange: one request served, whichever way it came, and what serving it needs.

Every way a request arrives ends in the same value, a `RequestReceived` read by a protocol
session: the request's id, its method, its params decoded into the method's type, and the
terms it is served under (`terms`: its session's, or those a 2026-07-28 request carries).
A stdio line, a message in memory and a 2025-11-25 session's POST are read by the session's
`Connection`; a 2026-07-28 POST by the server's reading session, for the request's own
`mcpkit.server.request_peer.RequestPeer`. What reads it then makes it an exchange by setting
its last two fields: `reply`, its `Reply` (where its answer goes, which holds its handler,
`RequestHandler`, and is told when the request is cancelled), and `peer`, the client as the
handler sees it (a server's `Peer`), through which what the handler sends goes.

`mcpkit.runtime.connection.serve(request)` serves every exchange the same way, in the
calling task, which stands as the request's (cancelling it cancels the handler): the
handler run to its result, a failure made the error that answers it (`handler_error`: an
McpError as it is, anything else -32603, logged), the answer made by the reply and written
by the transport's own coroutine. Two replies exist, one for each way a request belongs to
its client:

- a session's `Connection`, for every request of the session (it sets `reply` to itself and
  `peer` to its session's handle): its answer takes its place among what the session sends
  (the request out of flight, the outbox's order, an HTTP session's stream routes, the bytes
  counted against `send_high_water`), and the peer may cancel it (`notifications/cancelled`),
  which ends the request unanswered;
- a 2026-07-28 request's `RequestPeer`, which is both its reply and its peer (set by the
  transport that read the POST): its answer is written to its POST's response after what the
  handler sent meanwhile, and nothing more goes there; the client going away cancels the
  POST's task, and with it the request.

The peer is handed to the handler with the request, not bound into it: a session's
connection serves with `mcpkit.server.handlers.dispatch.session_request`, and a
`RequestPeer` with the server's `handle_request`. This module holds what an exchange needs;
`serve` sits beside the session's runtime it grew from, which is on every request's path
already.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from mcpkit.errors import McpError
from mcpkit.protocol.events import RequestReceived

__all__ = ["Reply", "RequestHandler", "Write", "nothing"]


#: What sends an answer: a coroutine function of the transport's and what to call it with
#: (`Reply.answered`).
Write = tuple[Callable[..., Awaitable[None]], tuple[Any, ...]]


class RequestHandler(Protocol):
    """Serves one request of `peer`'s (the client as the handler sees it: a server's `Peer`;
    whatever the runtime's owner passes, a client's own connector say): what it returns is
    the result, an McpError it raises is the error answer, and any other exception is
    answered -32603 with its message (`handler_error`)."""

    def __call__(self, peer: Any, request: RequestReceived, /) -> Awaitable[Any]: ...


class Reply(Protocol):
    """Where the answer to a request goes, and what its runtime does at each step of `serve`
    (a session's `Connection`, a 2026-07-28 request's `RequestPeer`); `handle` serves its
    requests."""

    handle: RequestHandler

    def begin(self, request: RequestReceived) -> asyncio.Task[Any] | None:
        """`request` is served in the calling task from now: the task, when the reply needs
        it told back (a session's peer cancels a request by cancelling its task)."""
        ...

    def answered(
        self,
        request: RequestReceived,
        task: asyncio.Task[Any] | None,
        result: Any,
        error: McpError | None,
    ) -> Write:
        """Make the answer, `error` when the handler failed, else its `result` (nothing, when
        the request was cancelled or already answered), and take the request out of flight:
        the write that sends it, for `serve` to await (the transport's own, not a coroutine
        around it)."""
        ...

    def cancelled(self, request: RequestReceived, task: asyncio.Task[Any] | None) -> bool:
        """The serving task was cancelled, the request unanswered: True when the cancellation
        is to go on (it came from elsewhere: the server shutting down), False when it was the
        reply's own and is spent here (the peer cancelled the request)."""
        ...


async def nothing() -> None:
    """What awaits nothing: the write of an answer that goes nowhere (its response had
    closed), or the serving of a request whose session has ended."""
