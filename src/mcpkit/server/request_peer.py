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
It is also the request's reply: it is served as every request is, by
`runtime.connection.serve`, the handler running in the caller's task, and the peer makes its
answer, which goes out after what the handler sent meanwhile; once it is out nothing more
can be sent through it.

What is emitted, in order: the messages sent while serving (`MESSAGE`: progress, log
messages), then the final answer: `RESULT` when it is the handler's result, `ANSWER` when it
is an error or an answer the session gave itself (a refusal, `server/discover`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Protocol

from mcpkit.errors import ConnectionClosed, McpError
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
from mcpkit.runtime.reply import RequestHandler, Write, nothing
from mcpkit.runtime.response import ANSWER, MESSAGE, RESULT, Kind, Response
from mcpkit.server.session import LOG_LEVELS, Peer, log_message_params
from mcpkit.types import (
    ClientCapabilities,
    Implementation,
    LoggingMessageNotificationParams,
    RequestId,
)

__all__ = ["PeerServer", "RequestPeer", "RequestPeers"]


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

    __slots__ = ("_changes", "_made_at", "_new_session", "_reading", "handle", "new_peer", "server")

    def __init__(
        self, server: PeerServer, new_session: Callable[[], ServerSession], changes: Changes
    ) -> None:
        self.server = server
        #: What serves each request (the server's `handle_request`), bound once for them all.
        self.handle: RequestHandler = server.handle_request
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
    """The client of one modern request, for the time it is served, and the request's reply
    (`runtime.reply.Reply`): its `reader` (the server's reading session) reads the body
    (`read_sessionless`), the transport makes the request an exchange with this peer as its
    reply and its peer, then `runtime.connection.serve(request)` runs the request's handler
    (`handle`, the server's `handle_request`) in the calling task, and the peer writes what
    it sends and its answer to `response`; then nothing more goes out. (Between the two the
    transport may refuse the request instead: `mcpkit.transports.http.own_calls`; a body
    with no request to serve is answered by `answer_read`.)"""

    __slots__ = (
        "_answer",
        "_closed",
        "_last_progress",
        "_queued",
        "_request_id",
        "handle",
        "reader",
        "response",
        "server_info",
        "terms",
    )

    def __init__(self, peers: RequestPeers, response: Response) -> None:
        self.handle = peers.handle
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

    # ------------------------------------------ serving: the request's `Reply`

    def begin(self, request: RequestReceived) -> None:
        """`request` is this peer's one request from now (`is_inflight`), under its terms."""
        self._request_id = request.request_id
        self.terms = request.terms

    def answered(
        self, request: RequestReceived, task: object, result: Any, error: McpError | None
    ) -> Write:
        rid, terms = request.request_id, request.terms
        answer: bytes
        kind: Kind
        if error is None:
            answer = self.reader.encode_answer(rid, result, request.method, terms, self.server_info)
            kind = RESULT
        else:
            answer, kind = error_answer(rid, error, terms), ANSWER
        if self._queued:
            return self._answer_after_queued, (answer, kind)
        if self._closed:
            return nothing, ()
        self._closed = True
        return self.response.emit, (answer, kind)

    async def _answer_after_queued(self, answer: bytes, kind: Kind) -> None:
        """Write the progress queued while the handler ran, then the answer; none queued from
        now on is taken (progress stops at completion, basic/utilities/progress)."""
        if not self._closed:
            self._answer = answer  # (from here on the request is no longer in flight)
            await self._send_queued()
            if not self._closed:
                self._closed = True
                await self.response.emit(answer, kind)
        self._answer = None
        self._closed = True

    def cancelled(self, request: RequestReceived, task: object) -> bool:
        """The client went away (its POST's task cancelled, `OwnCall`): nothing more goes to
        it, and the cancellation goes on, the response's to end."""
        self._closed = True
        return True

    async def answer_read(self, read: ModernRead) -> tuple[bool, list[bytes]]:
        """What answers a body that held no request to serve (`read.request` is None, or the
        body was refused as a whole): (whether it held anything awaiting an answer, the
        answers to the body as a whole: the caller sends those, 400)."""
        if read.refused:
            # No request is served, and the caller writes the refusal itself, so nothing may
            # go out through this peer.
            self._closed = True
            return False, read.refused
        # What the body held besides a request (a notification, a response or a cancel about
        # nothing in flight) concerns no session, and this request has none: nothing to
        # route it to, nor to ask another process about.
        await self._send_answers(read.answers)
        return read.started, []

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
