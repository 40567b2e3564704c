"""Receiving: what the peer sends, read into events, for either role.

A `Session` holds one `Receiving`, which checks the bytes (size, UTF-8, nesting depth),
reads JSON-RPC batches, and hands each message to the part it concerns: a request, under the
terms the role serves it under, to the session's answering part (`Answering.serve_request`);
a cancellation too; a response or progress to its requesting part. What it cannot use goes
to the outbox, answered with the JSON-RPC error it calls for.

The role decides what only it can (`Role`, the session that holds this): under which terms a
request is served, the handshake notifications it takes itself, and what a result of its own
requests means. The rest is this object's: its limits, the method table of the session's
revision, and the reading itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final, Protocol

import msgspec
from msgspec import UNSET

from mcpkit.errors import PeerError
from mcpkit.protocol import codes, jsonrpc
from mcpkit.protocol.answering import Answering
from mcpkit.protocol.depth import deeper_than
from mcpkit.protocol.events import (
    ErrorReceived,
    Event,
    NotificationReceived,
    RequestInfo,
    RequestReceived,
)
from mcpkit.protocol.jsonrpc import Envelope, Malformed
from mcpkit.protocol.outbox import Batch, BodyRead, ModernRead, Outbox
from mcpkit.protocol.requesting import Requesting
from mcpkit.types import RequestId
from mcpkit.types.methods import MODERN_REVISIONS, SUPPORTED_REVISIONS, MethodInfo, methods_for

__all__ = [
    "METHOD_TABLES",
    "Receiving",
    "Role",
    "method_table",
]

_BATCH_REVISION: Final = "2025-03-26"  # the only revision whose schema has JSON-RPC batches
#: The events, answers and refusals of the usual body `read_sessionless` reads: none, one list for
#: all of them (never added to: its reader only tests them), not three made a request.
_NOTHING: Final[list[Any]] = []


#: Each revision's method table as a plain dict, shared by every session that speaks it and
#: never changed (`methods_for` gives a read-only proxy, whose `in` and `[]` are method
#: calls). Made at import for the revisions we speak: looked up, without a call, for every
#: request that carries its terms, whose revision was checked when they were read.
METHOD_TABLES: Final[dict[str, dict[str, MethodInfo]]] = {
    revision: dict(methods_for(revision)) for revision in (*MODERN_REVISIONS, *SUPPORTED_REVISIONS)
}


def method_table(revision: str) -> dict[str, MethodInfo]:
    """`methods_for(revision)`, as a plain dict (ValueError for a revision it refuses)."""
    table = METHOD_TABLES.get(revision)
    if table is None:
        table = METHOD_TABLES[revision] = dict(methods_for(revision))
    return table


class Role(Protocol):
    """What the session a `Receiving` reads for decides (`Session`'s hooks say each)."""

    @property
    def revision(self) -> str | None: ...

    def receive_request(
        self,
        env: Envelope,
        events: list[Event],
        batch: Batch | None,
        request_info: RequestInfo | None,
    ) -> None: ...

    def handle_own_notification(self, method: str, params: Any, events: list[Event]) -> bool: ...

    def on_result(self, rid: RequestId, method: str, result: Any, events: list[Event]) -> None: ...


class Receiving:
    """Reads what the peer sends into events, for `role`; what it refuses or answers goes to
    `outbox`, the peer's cancellations to `answering`, answers to our requests to
    `requesting` (the session's three other parts)."""

    # Slots: every session holds one, and thousands of idle sessions are the usual load
    # (docs/performance.md, "what an idle session holds").
    __slots__ = (
        "answering",
        "inflight",
        "max_json_depth",
        "max_message_size",
        "methods",
        "outbox",
        "param_types",
        "requesting",
        "role",
    )

    def __init__(
        self,
        role: Role,
        outbox: Outbox,
        answering: Answering,
        requesting: Requesting,
        methods: Mapping[str, MethodInfo],
        *,
        max_message_size: int,
        max_json_depth: int,
        param_types: Mapping[str, type],
    ) -> None:
        if max_json_depth < 1:
            raise ValueError(f"max_json_depth must be at least 1, not {max_json_depth}")
        self.role = role
        self.outbox = outbox
        self.answering = answering
        self.inflight = answering.inflight
        self.requesting = requesting
        #: The methods of the session's revision (the latest until it settles): which exist,
        #: which way each goes, and the types its params and result decode into.
        self.methods = methods
        #: Bytes; a longer message is refused unread (see `limits`).
        self.max_message_size = max_message_size
        #: Messages nesting arrays and objects deeper than this are refused (see `limits`).
        self.max_json_depth = max_json_depth
        #: Inbound request methods whose params decode into another type than the schema's:
        #: a subclass that keeps part of them as raw JSON, say, for the handler to decode.
        self.param_types = param_types

    def receive_body(self, data: bytes, info: RequestInfo | None = None) -> BodyRead:
        """`receive_data`, and which requests the body started (see `BodyRead`)."""
        # What the body makes the session queue lies past `mark`: the answers it gives
        # itself and the refusals of the body as a whole (see `Outbox.split_body`).
        mark = len(self.outbox.items)
        events = self.receive_data(data, info)
        if len(events) == 1 and len(self.outbox.items) == mark:
            # The common case, one request and nothing queued: `_body_read` would find just
            # that request started.
            only = events[0]
            if type(only) is RequestReceived:
                return BodyRead(events, [only.request_id], [])
        return self._body_read(events, mark)

    def _body_read(self, events: list[Event], mark: int) -> BodyRead:
        """What a body that made `events`, and queued what lies past `mark`, did."""
        started = [ev.request_id for ev in events if type(ev) is RequestReceived]
        answered, refused = self.outbox.split_body(mark)  # ping, initialize, refusals
        started += answered
        return BodyRead(events, started, refused)

    def read_sessionless(
        self, data: bytes, info: RequestInfo | None = None, served_by: Any = None
    ) -> ModernRead:
        """Read `data`, one body whose request is served outside this session, and keep
        nothing of it: the request leaves the session's care as it is handed out, so its
        answer, progress and end are its server's (`mcpkit.runtime.request_peer`), and the
        session is as it was for the next body, whoever sends it. What the session answers
        itself (ping, server/discover) and what the body made it queue are returned. So one
        session reads every 2026-07-28 POST a server gets with the checks a session's own
        requests pass, and no two requests, even under one id, ever meet in it. The body is
        read as `receive_data` reads any (a 2025-era session's too), step for step.

        The request is handed out as an exchange served by `served_by`, its reply and its
        peer both (a `mcpkit.server.request_peer.RequestPeer`): the request's own, where a
        session's requests are served by its connection (`Answering.reply`)."""
        mark = len(self.outbox.items)
        return self.read_sessionless_end(self.receive_data(data, info), mark, served_by)

    def read_sessionless_end(
        self, events: list[Event], mark: int, served_by: Any = None
    ) -> ModernRead:
        """What `read_sessionless` returns for a body that made `events` and queued what lies past
        `mark`, its request served by `served_by`."""
        if len(events) == 1 and not self.outbox.items:
            # The common case, one request and nothing queued (so none was answered or
            # refused, and the session has nothing of its own to hand over): what follows
            # would find just that.
            only = events[0]
            if type(only) is RequestReceived:
                self.inflight.pop(only.request_id, None)
                only.reply = only.peer = served_by
                return ModernRead(only, _NOTHING, _NOTHING, _NOTHING, True)
        read = self._body_read(events, mark)
        request: RequestReceived | None = None
        events = read.events
        for i, ev in enumerate(events):
            if type(ev) is RequestReceived:
                request = ev
                request.reply = request.peer = served_by
                events = [*events[:i], *events[i + 1 :]]
                break
        for rid in read.started:  # (whatever the body held: nothing of it stays in flight)
            self.inflight.pop(rid, None)
        # (A body refused as a whole serves no request, whatever it held.)
        refused = read.refused
        return ModernRead(
            None if refused else request, events, self.outbox.take(), refused, bool(read.started)
        )

    def receive_data(self, data: bytes, info: RequestInfo | None = None) -> list[Event]:
        """Take one message (object or batch) from the peer; return what happened. `info`,
        what the transport knew about it, goes on each `RequestReceived` as `request_info`.

        Never raises, whatever the bytes: what cannot be read is answered with the JSON-RPC
        error it calls for (or fails our request, if it answers one), and the session goes on.
        """
        events: list[Event] = []
        # The size first: a message past the limit costs a length check and the match of
        # its head for an id, never a decode.
        if len(data) > self.max_message_size:
            self._refuse_oversize(data, events)
            return events
        # Bytes that are not ASCII may not be UTF-8: `check_bytes` decodes them. ASCII (most)
        # is checked for depth alone. Valid JSON with no `[` and at most 4 bytes a level (a
        # 2026-07-28 request, whose `_meta` makes it a few hundred bytes) cannot be too deep:
        # without arrays each level past the first is an object member, `"":{` at the least.
        # Such a message is not counted (`unchecked`); should it fail to decode, the count it
        # skipped is made then, so invalid JSON is refused as before (`{{{...`: for its depth,
        # not as a parse error). (`91 in data`, an int: `b"[" in data` first fails to read its
        # operand as an int, raising and clearing a TypeError inside CPython.)
        depth = self.max_json_depth
        bad = None
        unchecked = False
        if not data.isascii():
            bad = jsonrpc.check_bytes(data, depth)
        elif len(data) > depth:
            if 91 not in data and len(data) <= 4 * depth:
                unchecked = True
            elif deeper_than(data, depth):
                bad = jsonrpc.check_bytes(data, depth)  # (its refusal, said as for any)
        # (`type() is`, not isinstance: Malformed has no subclass, and isinstance of a
        # struct class calls its metaclass's `__instancecheck__`.)
        if bad is not None:
            self._refused(bad, events)
        elif data[:1] != b"{" and jsonrpc.is_batch(data):  # (an object: no call)
            self._receive_batch(data, events, info)
        else:
            env = jsonrpc.decode_message(data)
            if type(env) is Malformed:
                if unchecked:
                    env = jsonrpc.check_bytes(data, depth) or env
                self._refused(env, events)
            else:
                self.receive_envelope(env, events, None, info)
        return events

    def _refuse_oversize(self, data: bytes, events: list[Event]) -> None:
        """Refuse a message past `max_message_size`, unparsed: the transport may have cut it
        short (stdio keeps limit + 1 bytes)."""
        too_long = (
            "Invalid Request: the message exceeds the limit "
            f"of {self.max_message_size} bytes (max_message_size)"
        )
        self._refused(jsonrpc.refuse_by_head(data, codes.INVALID_REQUEST, too_long), events)

    def _refused(self, bad: Malformed, events: list[Event], batch: Batch | None = None) -> None:
        """A message we cannot use: a request (or what may be one) gets the error, under its
        id if it could be read; a response fails our request at once rather than leaving it
        to time out, and gets no reply (JSON-RPC 2.0, section 5: only a request is answered)."""
        if not bad.response:
            self.outbox.malformed(bad, batch)
            return
        rid = bad.id
        # `take`, not `answered`: a refused response ends the request, its progress token too.
        pending = self.requesting.pending.take(rid) if rid is not None else None
        if rid is None or pending is None:
            return  # a response to nothing of ours: ignored, as any such response is
        events.append(
            ErrorReceived(
                rid,
                PeerError(
                    bad.code,
                    f"the response to {pending.method} (id {rid!r}) was refused: {bad.message}",
                ),
            )
        )

    def _receive_batch(self, data: bytes, events: list[Event], info: RequestInfo | None) -> None:
        """A JSON-RPC batch (2.0, section 6): each member is read as a message of its own, and
        the answers go back together, as one array, once all are in (`Batch`)."""
        # Only the 2025-03-26 schema has batches (2025-06-18 dropped them); before the
        # handshake there is no revision, so none is taken either.
        if self.role.revision != _BATCH_REVISION:
            self.outbox.malformed(
                Malformed(
                    codes.INVALID_REQUEST,
                    "Invalid Request: JSON-RPC batches are only allowed in protocol revision "
                    f"{_BATCH_REVISION} (this session uses {self.role.revision or 'none yet'})",
                )
            )
            return
        items = jsonrpc.decode_batch_items(data)
        if isinstance(items, Malformed):
            self._refused(items, events)
            return
        batch = Batch()
        for item in items:
            env = jsonrpc.decode_message(item)
            if type(env) is Malformed:
                self._refused(env, events, batch)
            else:
                self.receive_envelope(env, events, batch, info)
        # Sealed only now: a member the session answers itself (ping) closes its part while
        # later members are still unread, and must not send the array before they are in.
        batch.sealed = True
        # No member left open (all answered already, or only notifications and responses:
        # then nothing at all is sent, section 6): the array goes now. Else the last answer
        # sends it (`Outbox.answer`, `Outbox.close`).
        if not batch.open_ids:
            self.outbox.flush(batch)

    def receive_envelope(
        self, env: Envelope, events: list[Event], batch: Batch | None, info: RequestInfo | None
    ) -> None:
        """One message, a whole body or a batch member, by its kind: what the peer asks is
        served here; what answers our requests goes to the requesting half."""
        # A request, the usual message, is told at once: a method, an id that is not null,
        # no result, no error (`classify` says the same, for every other kind).
        rid = env.id
        if (
            env.method is not UNSET
            and rid is not UNSET
            and rid is not None
            and env.result is UNSET
            and env.error is UNSET
        ):
            self.role.receive_request(env, events, batch, info)
            return
        kind = jsonrpc.classify(env)
        if type(kind) is Malformed:
            self._refused(kind, events, batch)
        elif kind == "request":
            self.role.receive_request(env, events, batch, info)
        elif kind == "notification":
            self._receive_notification(env, events)
        else:
            decoded = self.requesting.receive_response(env, events)
            if decoded is not None:
                self.role.on_result(*decoded, events)

    def _receive_notification(self, env: Envelope, events: list[Event]) -> None:
        method: str = env.method  # type: ignore[assignment]
        # Whatever is wrong with a notification, nothing is sent back: basic/index,
        # Notifications ("The receiver MUST NOT send a response").
        info = self.methods.get(method)
        if info is None or info.kind != "notification":
            return  # JSON-RPC: notifications are never answered, unknown ones are dropped
        try:
            params = jsonrpc.decode_part(info.params, env.params)
        except msgspec.ValidationError:
            return  # invalid notifications SHOULD be ignored (basic/utilities/cancellation)
        if method == "notifications/cancelled":
            self.answering.receive_cancelled(params, events)
        elif method == "notifications/progress":
            self.requesting.receive_progress(params, events)
        elif not self.role.handle_own_notification(method, params, events):
            events.append(NotificationReceived(method, params))
