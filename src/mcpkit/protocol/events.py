"""Events a protocol session reports: past-tense facts about what the peer sent or what expired."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from mcpkit.errors import McpError
from mcpkit.protocol.terms import Terms

__all__ = [
    "ErrorReceived",
    "Event",
    "InitializeReceived",
    "InitializedReceived",
    "NotificationReceived",
    "ProgressReceived",
    "RequestCancelled",
    "RequestInfo",
    "RequestReceived",
    "RequestTimedOut",
    "ResponseReceived",
    "StrayResponse",
]


class RequestInfo(msgspec.Struct, frozen=True):
    """What the transport knew about the message a request came in (handlers see it as
    `ctx.request_info`): None over stdio and in memory, where there is nothing to know.

    `headers` are the HTTP request's, as ASGI gives them (lower-case names, raw bytes, in
    order, repeats kept); `client` is the peer's (host, port) when the transport knows it.
    `auth` is the verified access token (a `mcpkit.auth.server.verifier.AccessToken`; typed
    Any because this layer cannot import auth) when the endpoint is protected, else None.
    The protocol session never looks inside: it only carries the value to `RequestReceived`.
    """

    transport: str
    headers: Sequence[tuple[bytes, bytes]] = ()
    client: tuple[str, int] | None = None
    auth: Any = None

    def header(self, name: str) -> str | None:
        """The first value of header `name` (any case), decoded as Latin-1, or None."""
        key = name.lower().encode("latin-1", "replace")
        for k, v in self.headers:
            if k == key:
                return v.decode("latin-1")
        return None


class RequestReceived(msgspec.Struct):
    """The peer asked something; answer with `send_response` or `send_error`.

    `request_info` is what the transport handed in with the message (see `RequestInfo`).

    With `reply` and `peer`, which the session that reads it sets, it is an exchange: all that
    serving it needs (`mcpkit.runtime.connection.serve(request)`, `mcpkit.runtime.reply`)."""

    request_id: int | str
    method: str
    params: Any
    #: The token the peer asked progress under (`Session.send_progress` takes it), or None.
    progress_token: int | str | None = None
    request_info: RequestInfo | None = None
    #: What the request is served under (`mcpkit.protocol.terms`): its session's, for a
    #: request of a session; None before the handshake (ping).
    terms: Terms[Any] | None = None
    #: Where its answer goes, which holds its handler and is told of its cancellation (a
    #: `mcpkit.runtime.reply.Reply`: its session's connection, or a 2026-07-28 request's own
    #: peer): what the runtime gave the session that reads it (`Answering.reply`, or
    #: `read_sessionless`'s `served_by`), None if it gave none. (Typed Any, as the one
    #: below: this layer imports no runtime.)
    reply: Any = None
    #: The client as the handler sees it, through which what the handler sends goes (a
    #: server's `Peer`), set with `reply`.
    peer: Any = None


class NotificationReceived(msgspec.Struct):
    """The peer sent a notification the session does not consume itself."""

    method: str
    params: Any


class ResponseReceived(msgspec.Struct):
    """One of our requests was answered; `result` is decoded into the method's result type."""

    request_id: int | str
    result: Any


class ErrorReceived(msgspec.Struct):
    """One of our requests failed: the peer's error, or a result we could not decode."""

    request_id: int | str
    error: McpError


class StrayResponse(msgspec.Struct):
    """A response (result or error) that no request of this session awaits.

    Three things send one: a peer answering after we gave up (we cancelled the request, or
    it timed out), a broken peer, and, when several processes share one session, a client
    whose answer to another process's request was delivered here. Only the last can be
    used: `data` is the whole message, re-encoded, for whoever can hand it to the process
    whose id it carries (see `mcpkit.protocol.ids` and `mcpkit.stores.broker`)."""

    request_id: int | str
    data: bytes


class RequestCancelled(msgspec.Struct):
    """The peer cancelled a request it sent us; no response will be sent for it (the session
    drops any), so its handler may stop: basic/utilities/cancellation."""

    request_id: int | str
    reason: str | None = None


class StrayCancel(msgspec.Struct):
    """The peer cancelled a request this session does not know (nor initialize): one that
    finished, or, when several processes serve one session, one another process serves. A
    shared broker hands it to them (`mcpkit.stores.broker`); otherwise it is ignored, as the
    spec allows (basic/utilities/cancellation)."""

    request_id: int | str
    reason: str | None = None


class RequestTimedOut(msgspec.Struct):
    """One of our requests passed its deadline; the peer was sent `notifications/cancelled`."""

    request_id: int | str


class ProgressReceived(msgspec.Struct):
    """Progress for one of our requests (spec: basic/utilities/progress)."""

    request_id: int | str
    progress: float
    total: float | None = None
    message: str | None = None


class InitializeReceived(msgspec.Struct):
    """(server) The client's `initialize` was answered; `params` is its InitializeRequestParams."""

    params: Any
    protocol_version: str


class InitializedReceived(msgspec.Struct):
    """(server) The client sent `notifications/initialized`: the session is operating."""


# Every event a session returns. Runtimes dispatch on the exact type (`type(ev) is ...`, the
# cheapest test), so no event class may subclass another.
Event = (
    RequestReceived
    | NotificationReceived
    | ResponseReceived
    | ErrorReceived
    | RequestCancelled
    | RequestTimedOut
    | ProgressReceived
    | StrayResponse
    | StrayCancel
    | InitializeReceived
    | InitializedReceived
)
