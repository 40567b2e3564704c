"""What a session has to send, each message tagged once with where it belongs.

A transport that routes by request (Streamable HTTP: a POST's stream carries the answer and
the messages sent while serving its request; the rest go on the GET stream, basic/transports)
must know, for each outgoing message, which of the peer's requests it is about, and whether
it is the last one about it. The session knows that when it makes the message, so it says so
then (`Outgoing.related`, `Outgoing.final`) and no transport has to decode a message to find
out. Over stdio the tags are ignored.

A JSON-RPC batch (only revision 2025-03-26 has them) is answered with one array holding the
answer to each of its requests, in any order, sent when the last one is in (JSON-RPC 2.0,
section 6): `Batch` collects them.
"""

from __future__ import annotations

from typing import Any

import msgspec

from mcpkit.protocol import jsonrpc
from mcpkit.protocol.events import Event, RequestReceived
from mcpkit.protocol.jsonrpc import Malformed
from mcpkit.types import RequestId

__all__ = ["Batch", "BodyRead", "ModernRead", "Outbox", "Outgoing"]


class Outgoing(msgspec.Struct):
    """One message to send, and where it belongs.

    `related` is the peer's request it answers or was sent while serving (progress, a log
    message, our request to the peer), or None when it relates to no request. `final` marks
    the last message about `related`: its response or error, or, on sessions that set
    `mark_unanswered`, an empty `data` saying the request ended without an answer
    (cancelled). A final message with `related` None answers a message that started no
    request (not valid JSON-RPC, or a request whose id is already in use).
    """

    data: bytes
    related: RequestId | None = None
    final: bool = False


class BodyRead(msgspec.Struct):
    """What one received body (an HTTP POST's, say) did, from `Session.receive_body`.

    `started` lists the request ids that what answers the body will be related to: for a
    request, its id (its final `Outgoing` is the response); for a 2025-03-26 batch, the ids
    of its requests handed out as `RequestReceived` (each may have related messages; the one
    final message, the array, is related to the first), or when the session answered every
    member itself, the one id the array is related to. Empty `started` and `refused` means
    only notifications and responses (HTTP 202). `refused` holds the answers to the body as a
    whole (JSON-RPC errors with no usable id): they are taken out of the outbox, for the
    transport to send as its answer to the body (HTTP 400).
    """

    events: list[Event]
    started: list[RequestId]
    refused: list[bytes]


class ModernRead(msgspec.Struct):
    """What `ServerSession.read_sessionless` read of a body whose request is a modern one
    (2026-07-28: it carries its own terms and belongs to no session): the request (None when
    the body held none to serve: a notification, a request the session answered itself, or
    a body refused as a whole),
    the events the body made besides it, the answers the session gave itself (`answers`,
    final messages), the answers to the body as a whole (`refused`, as in `BodyRead`), and
    whether anything in it awaits an answer (`started`). A struct: made without a Python
    call, once per body."""

    request: RequestReceived | None
    events: list[Event]
    answers: list[Outgoing]
    refused: list[bytes]
    started: bool


class Batch:
    """The answers to one inbound batch, sent together as one array once all are in."""

    __slots__ = ("answered", "open_ids", "parts", "route", "sealed")

    def __init__(self) -> None:
        #: Its requests not answered yet; the array goes when this empties after `sealed`.
        self.open_ids: set[RequestId] = set()
        #: The answers in so far, encoded: the array's members, in the order they came.
        self.parts: list[bytes] = []
        self.sealed = False  # set once every member of the batch has been read
        #: The id the array is related to: the first request handed out as RequestReceived
        #: (the array may go long after the body was read, and `receive_body` reported that
        #: id); else the first answered by the session itself (then the array goes at once).
        self.route: RequestId | None = None
        self.answered: RequestId | None = None

    def related(self) -> RequestId | None:
        """The id the array goes related to (see `route`)."""
        return self.route if self.route is not None else self.answered


class Outbox:
    """The messages a session has made and the transport has not taken yet, in order.

    Each lone request the session started gets at most one `final` item: its answer; when
    the peer cancelled it, an empty one with `mark_unanswered`, else none. A batch's requests
    share one, the array. A refusal of what started no request is final, related to none."""

    __slots__ = ("items", "mark_unanswered")

    def __init__(self) -> None:
        self.items: list[Outgoing] = []
        #: Set by a runtime whose channel routes by request: a request that ends without an
        #: answer (cancelled by the peer) then gets an empty final `Outgoing`, so its stream
        #: can end.
        self.mark_unanswered = False

    def take(self) -> list[Outgoing]:
        """Everything queued, in order; the outbox is empty after."""
        out = self.items
        self.items = []
        return out

    def send(self, data: bytes, related: RequestId | None = None) -> None:
        """Queue a message that is not an answer (a request or a notification)."""
        self.items.append(Outgoing(data, related))

    def answer(self, rid: RequestId, data: bytes, batch: Batch | None) -> None:
        """Queue the answer to the peer's request `rid` (its last message), or add it to its
        batch's array."""
        if batch is None:
            self.items.append(Outgoing(data, rid, True))
            return
        batch.parts.append(data)
        batch.open_ids.discard(rid)
        if batch.sealed and not batch.open_ids:
            self.flush(batch)

    def error(
        self,
        rid: RequestId,
        code: int,
        message: str,
        batch: Batch | None,
        *,
        routed: bool = True,
        data: Any = None,
    ) -> None:
        """Refuse the peer's request `rid` before it started. `routed=False` relates the error
        to no request: its id belongs to another request, whose stream it must not end."""
        encoded = jsonrpc.encode_error(rid, code, message, data)
        if batch is None:
            self.items.append(Outgoing(encoded, rid if routed else None, True))
            return
        # Not in `open_ids`: a refused request never started, so the array waits for nothing.
        batch.parts.append(encoded)
        if routed and batch.answered is None:
            batch.answered = rid

    def malformed(self, bad: Malformed, batch: Batch | None = None) -> None:
        """Answer what is not a usable request."""
        data = jsonrpc.encode_error(bad.id, bad.code, bad.message)
        if batch is None:
            # Related to no request, even when an id could be read: what is not a request
            # started none (its id may even be one in flight), so it answers the body.
            self.items.append(Outgoing(data, None, True))
        else:
            # JSON-RPC 2.0, section 6: a member that is not a valid request is answered in
            # the array, like any other.
            batch.parts.append(data)

    def unanswered(self, rid: RequestId) -> None:
        """Say that the peer's request `rid` ended without an answer (it cancelled it), where
        the runtime asked to be told (`mark_unanswered`)."""
        if self.mark_unanswered:
            self.items.append(Outgoing(b"", rid, True))

    def close(self, rid: RequestId, batch: Batch) -> None:
        """`rid`, a member of `batch`, ended without an answer: the array may now be due."""
        batch.open_ids.discard(rid)
        if batch.sealed and not batch.open_ids:
            self.flush(batch)

    def flush(self, batch: Batch) -> None:
        """Queue `batch`'s array (every member is answered or ended)."""
        if batch.parts:
            data = b"[" + b",".join(batch.parts) + b"]"
            self.items.append(Outgoing(data, batch.related(), True))
            batch.parts = []
        elif self.mark_unanswered and batch.route is not None:
            self.items.append(Outgoing(b"", batch.route, True))  # every member was cancelled

    def split_body(self, mark: int) -> tuple[list[RequestId], list[bytes]]:
        """Of what was queued since `mark` (while one body was read): the requests answered
        at once (ping, initialize, refusals with an id), and the answers to the body as a whole,
        which are taken out (see `BodyRead`)."""
        items = self.items
        started: list[RequestId] = []
        refused: list[bytes] = []
        if len(items) == mark:
            return started, refused
        kept = items[:mark]
        for item in items[mark:]:
            if item.final:
                related = item.related
                if related is None:
                    refused.append(item.data)
                    continue
                if item.data:  # (empty: the end of a request an earlier body started)
                    started.append(related)
            kept.append(item)
        self.items = kept
        return started, refused
