"""One request served in the caller's task, with nothing left behind: a modern request
(2026-07-28) over Streamable HTTP, and the client that sent it as its handler sees it.

Under 2026-07-28 each POST holds one request and gets its own response, and nothing links it
to any other (basic/transports/streamable-http): no session, no GET stream, no resumption, no
request from the server to the client (those travel inside an `InputRequiredResult`), and
closing the response is the cancellation. So nothing session-shaped is built for it: the
server's one reading session (`Session.read_sessionless`, kept fresh by `RequestPeers`) checks the
body and hands the request over, and `RequestPeer`, one object per request, carries the rest:
its terms, its request id, where its messages go (a `mcpkit.runtime.response.Response`: over
Streamable HTTP `transports/http/own_calls.OwnCall`) and whether it is still served. It is
what `ctx.session` is for such a request (`Peer`), and nothing more: it offers none of what
only a session can do (`SessionPeer`: a session id, subscriptions, requests to the client,
streams to close).
The handler runs in the caller's task; once the answer is out nothing more can be sent
through it.

What is emitted, in order: the messages sent while serving (`MESSAGE`: progress, log
messages), then the final answer: `RESULT` when it is the handler's result, `ANSWER` when it
is an error or an answer the session gave itself (a refusal, `server/discover`).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any, Final, Protocol

from mcpkit.errors import ConnectionClosed
from mcpkit.protocol import jsonrpc
from mcpkit.protocol.answering import error_answer, progress_params
from mcpkit.protocol.events import RequestReceived
from mcpkit.protocol.modern import CachePolicy
from mcpkit.protocol.outbox import ModernRead, Outgoing
from mcpkit.protocol.server_session import ServerSession
from mcpkit.protocol.terms import (
    Terms,
    client_capabilities_of,
    client_info_of,
    log_level_of,
    revision_of,
)
from mcpkit.runtime.handler_failure import handler_error
from mcpkit.runtime.response import ANSWER, MESSAGE, RESULT, Kind, Response
from mcpkit.server.session import LOG_LEVELS, Peer, log_message_params
from mcpkit.types import (
    ClientCapabilities,
    Implementation,
    LoggingMessageNotificationParams,
    RequestId,
)

__all__ = ["PeerServer", "RequestPeer", "RequestPeers"]


#: What `serve` returns for a request it served: one value for all of them, not a tuple and
#: a list made for each. (Its list is never added to: nothing refused, nothing to send.)
_SERVED: Final[tuple[bool, list[bytes]]] = (True, [])


class PeerServer(Protocol):
    """What a `RequestPeer` needs of the server it serves for (`mcpkit.Server`)."""

    async def handle_request(self, handle: Peer, ev: RequestReceived) -> Any: ...


class Changes(Protocol):
    """What counts the changes of what a server declares (`catalog.registry.ChangeCount`)."""

    #: Only ever grows; `RequestPeers` compares it with the count its reader was made at.
    count: int


class RequestPeers:
    """What the peers of a server's modern requests share (each made
    with it: `RequestPeer(peers, response)`): the server, and the one protocol session that
    reads them all (`reader`), made by `new_session`, and made again only when what it
    answers with changed (`changes` moved: a tool registered changes the capabilities, say),
    or a handshake in a body settled it."""

    __slots__ = ("_changes", "_made_at", "_new_session", "_reading", "new_peer", "server")

    def __init__(
        self, server: PeerServer, new_session: Callable[[], ServerSession], changes: Changes
    ) -> None:
        self.server = server
        self._new_session = new_session
        self._changes = changes
        self._reading: ServerSession | None = None
        self._made_at = -1  # `changes.count` when `_reading` was made
        #: `new_peer(response)`: the peer of one request, writing to `response`.
        self.new_peer: Callable[[Response], RequestPeer] = functools.partial(RequestPeer, self)

    def reader(self) -> ServerSession:
        """The protocol session that reads every modern request
        (`ServerSession.read_sessionless`, which keeps nothing of any)."""
        made = self._reading
        # One count compared: the catalog counts its changes, the completers' and the
        # server's settings replaced (`Server`'s `__setattr__`) included, and the
        # capabilities change only with them. (An `initialize` in a body settles the session
        # that read it: that handshake was the body's alone, and the next body is read by a
        # new session.)
        count = self._changes.count
        if made is None or made.phase != "new" or self._made_at != count:
            self._made_at = count
            made = self._reading = self._new_session()
        return made


class RequestPeer:
    """The client of one modern request, for the time it is served:
    its `reader` (the server's reading session) reads the body (`read_sessionless`), and
    `serve(read)` runs the request's handler in the calling task, writes what it sends and
    its answer to `response`, and returns; then nothing more goes out. (Between the two the
    transport may refuse the request instead: `mcpkit.transports.http.own_calls`.)"""

    __slots__ = (
        "_answer",
        "_closed",
        "_last_progress",
        "_queued",
        "_request_id",
        "reader",
        "response",
        "server",
        "server_info",
        "terms",
    )

    def __init__(self, peers: RequestPeers, response: Response) -> None:
        self.server = peers.server
        self.reader = reader = peers.reader()
        self.response = response
        #: The server's info in the answer's `_meta` (a proxy gives its upstream's).
        self.server_info: Implementation = reader.server_info
        #: What the request carried (its revision, the client's info and capabilities).
        self.terms: Terms[ClientCapabilities] | None = None
        self._request_id: RequestId | None = None
        self._answer: bytes | None = None  # the final answer, once made
        self._queued: list[bytes] | None = None  # messages made, not yet written (progress)
        self._last_progress: float | None = None
        self._closed = False

    # ------------------------------------------------------------------ serving

    async def serve(self, read: ModernRead) -> tuple[bool, list[bytes]]:
        """Serve what `read` found in a body; (whether it held a request, the answers to the
        body as a whole when it is refused: the caller sends those, 400). Cancelling the
        calling task cancels the handler; nothing more is sent then."""
        # The body as a whole was refused: no request is served, and the caller writes the
        # refusal itself, so nothing may go out through this peer.
        if read.refused:
            self._closed = True
            return False, read.refused
        # What the body held besides a request (a notification, a response or a cancel about
        # nothing in flight) concerns no session, and this request has none: nothing to route
        # it to, nor to ask another process about.
        request = read.request
        if request is None:  # answered by the session itself, or a notification
            await self._send_answers(read.answers)
            return read.started, []
        rid = self._request_id = request.request_id
        terms = self.terms = request.terms
        kind: Kind
        # The handler run to its answer, its failure answered by `handler_error` as a
        # session's requests are (`Connection.serve`).
        try:
            result = await self.server.handle_request(self, request)
        except asyncio.CancelledError:
            self._closed = True  # the client went away: nothing more goes to it
            raise
        except Exception as exc:
            kind = ANSWER
            answer = error_answer(rid, handler_error(request.method, exc), terms)
        else:
            kind = RESULT
            answer = self.reader.encode_answer(rid, result, request.method, terms, self.server_info)
        if not self._closed:
            self._answer = answer  # (from here on the request is no longer in flight)
            # Progress queued while the handler ran goes out before the answer; none queued
            # from now on is taken (progress stops at completion, basic/utilities/progress).
            if self._queued:
                await self._send_queued()
            if not self._closed:
                self._closed = True
                await self.response.emit(answer, kind)
        self._answer = None
        self._closed = True
        return _SERVED

    async def _send_answers(self, answers: list[Outgoing]) -> None:
        """Write the final one of what the reading session answered itself, then close."""
        for item in answers:
            if item.final and not self._closed:
                self._closed = True
                await self.response.emit(item.data, ANSWER)
        self._closed = True

    async def _send_queued(self) -> None:
        """Write the messages queued so far, in order; the rest dropped once the response
        closed, where nothing more may go."""
        queued, self._queued = self._queued, None
        for data in queued or ():
            if self._closed:
                return
            await self.response.emit(data, MESSAGE)

    # ------------------------------------------------- the client, as `Peer`

    @property
    def client_info(self) -> Implementation | None:
        return client_info_of(self.terms)

    @property
    def client_capabilities(self) -> ClientCapabilities:
        return client_capabilities_of(self.terms)

    @property
    def protocol_version(self) -> str | None:
        return revision_of(self.terms)

    @property
    def log_level(self) -> str | None:
        """The level the request asked for in its `_meta` (none: no log message at all)."""
        terms = self.terms
        return None if terms is None else log_level_of(terms)

    def wants_log(self, level: str) -> bool:
        wanted = self.log_level
        # No level in the request's `_meta`: no log message at all (server/utilities/logging,
        # 2026-07-28, "Per-request log level"), unlike a session, whose default is every level.
        return wanted is not None and LOG_LEVELS[level] >= LOG_LEVELS[wanted]

    def log_params(
        self, level: str, data: Any, logger: str | None
    ) -> LoggingMessageNotificationParams | None:
        """The params of a log message at `level`, or None below what the request asked."""
        return log_message_params(level, data, logger, self.log_level)

    async def log(
        self, level: str, data: Any, *, logger: str | None = None, related: RequestId | None = None
    ) -> None:
        params = self.log_params(level, data, logger)
        # Dropped once the request is answered rather than raised by `notify`: a late log
        # line has no response left to go on, and the handler should not fail for it.
        if params is not None and not self._closed:
            await self.notify("notifications/message", params, related=related)

    # ------------------------------------------- its terms and its progress

    @property
    def cache(self) -> CachePolicy:
        return self.reader.modern.cache

    @property
    def all_revisions(self) -> tuple[str, ...]:
        return self.reader.modern.all_revisions

    def send_progress(
        self,
        request_id: RequestId,
        token: RequestId,
        progress: float,
        total: float | None = None,
        message: str | None = None,
    ) -> None:
        """Queue progress on the request (written by the next `flush`)."""
        if not self.is_inflight(request_id):
            return  # progress MUST stop after completion (basic/utilities/progress)
        params = progress_params(self._last_progress, token, progress, total, message)
        self._last_progress = progress
        if self._queued is None:
            self._queued = []
        self._queued.append(jsonrpc.encode_notification("notifications/progress", params))

    def is_inflight(self, request_id: RequestId) -> bool:
        """True only for this peer's one request, until its answer is made."""
        return request_id == self._request_id and self._answer is None and not self._closed

    @property
    def closed(self) -> bool:
        return self._closed

    async def flush(self) -> None:
        await self._send_queued()

    async def notify(
        self, method: str, params: Any = None, *, related: RequestId | None = None
    ) -> None:
        """Write a notification about the request on its response (one about no request has
        nowhere to go: under 2026-07-28 every message on a response relates to its request)."""
        if self._closed:
            raise ConnectionClosed("the request was answered: nothing more can reach its client")
        # Queued progress first, so that this notification does not overtake it.
        await self._send_queued()
        if related is not None and related == self._request_id:
            await self.response.emit(jsonrpc.encode_notification(method, params), MESSAGE)

    def answer_as_json(self, request_id: RequestId) -> None:
        """`request_id` is not needed: the response answers this peer's one request."""
        self.response.answer_as_json()
