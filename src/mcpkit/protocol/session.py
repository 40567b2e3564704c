"""The session core shared by both roles: taking in what the peer sends.

`Session` turns inbound bytes into events and our calls into outgoing messages, with no I/O
and no clock (the runtime drives it: `mcpkit.runtime.connection`). It has three parts: this
module takes in what the peer sends (checks the bytes, JSON-RPC batches, requests and
notifications, and hands each to the part it concerns); it holds two parts that share its
outbox: an `answering.Answering`, which owns the peer's requests in flight and answers them
(or drops them when cancelled), and a `requesting.Requesting`, which owns our pending
requests, sends them and takes what answers them. The role subclasses (`server_session`,
`client_session`) add the handshake and the capability rules.

Invariants:
- Every inbound request gets exactly one answer (a result or an error) unless the peer
  cancels it first (basic/utilities/cancellation: then none), and an answer for a request
  that is no longer in flight is dropped, so a handler that finishes late cannot answer twice.
- Whatever the bytes, `receive_data` never raises: what cannot be used is answered with the
  JSON-RPC error it calls for, and the session goes on.
- Each outgoing message is tagged once with the request it answers or relates to
  (`outbox.Outgoing`), so a transport routes it without re-correlating; `receive_body` says
  which requests one received body started (Streamable HTTP answers a POST by that).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Final

import msgspec
from msgspec import UNSET

from mcpkit.errors import LocalProtocolError, McpError, PeerError
from mcpkit.protocol import codes, jsonrpc
from mcpkit.protocol.answering import Answering, Inflight
from mcpkit.protocol.capabilities import task_params
from mcpkit.protocol.depth import deeper_than
from mcpkit.protocol.events import (
    ErrorReceived,
    Event,
    NotificationReceived,
    RequestInfo,
    RequestReceived,
    ResponseReceived,
)
from mcpkit.protocol.ids import RequestIds, process_request_ids
from mcpkit.protocol.jsonrpc import Envelope, Malformed
from mcpkit.protocol.limits import DEFAULT_MAX_MESSAGE_SIZE, MAX_JSON_DEPTH
from mcpkit.protocol.outbox import ApartRead, Batch, BodyRead, Outbox, Outgoing
from mcpkit.protocol.requesting import Requesting
from mcpkit.protocol.shapes import shape_for_revision
from mcpkit.protocol.terms import KeepsTerms, Terms, TermsSlot
from mcpkit.protocol.unread_meta import UNREAD_TYPES
from mcpkit.types import CreateTaskResult, RequestId
from mcpkit.types.methods import LATEST_REVISION, MethodInfo, methods_for

# DEFAULT_MAX_MESSAGE_SIZE and MAX_JSON_DEPTH are defined in `limits`, and named here too
# because the session is where they apply.
__all__ = ["DEFAULT_MAX_INFLIGHT", "DEFAULT_MAX_MESSAGE_SIZE", "MAX_JSON_DEPTH", "Session"]

#: The peer's requests we serve at once; past it they are answered -32603 at once. Counted in
#: requests: a peer that sends without waiting for answers would otherwise start a handler
#: task, and hold its params, for every request it can write.
DEFAULT_MAX_INFLIGHT: Final = 1024
_BATCH_REVISION: Final = "2025-03-26"  # the only revision whose schema has JSON-RPC batches
#: The events, answers and refusals of the usual body `read_apart` reads: none, one list for
#: all of them (never added to: its reader only tests them), not three made a request.
_NOTHING: Final[list[Any]] = []


#: No extension methods: one shared empty mapping, not a dict per session.
_NO_METHODS: Final[Mapping[str, MethodInfo]] = MappingProxyType({})


def progress_token_of(params: Any) -> RequestId | None:
    """The progress token of a request's params (basic/utilities/progress: a string or an
    integer; JSON true decodes to a bool, which Python counts as an int: no token)."""
    return progress_token_in(getattr(params, "meta", None))


def progress_token_in(meta: dict[str, Any] | None) -> RequestId | None:
    """`progress_token_of` params whose `_meta` is `meta`."""
    token = meta["progressToken"] if isinstance(meta, dict) and "progressToken" in meta else None
    if token is not None and (isinstance(token, bool) or not isinstance(token, (int, str))):
        return None
    return token


class Session:
    """Sans-I/O JSON-RPC session for one MCP connection (either role).

    `_inflight` (the answering part's table) holds exactly the peer's requests that started
    (a `RequestReceived`, or an answer the session gave itself) and have not ended. A request
    leaves it when answered or cancelled, before anything about its end is queued; from then
    on a second answer, late progress and the peer's late cancellation of it are dropped, so
    it never gets a second final message.
    """

    #: Methods answered by this role (the peer sends them to us).
    inbound_direction: str = ""
    #: The requests this session would answer itself (ping; initialize and server/discover
    #: in the server role) that it hands out as a `RequestReceived` instead, for the runtime
    #: to answer (a server whose middleware has hooks for them). On the instance only.
    intercepts: frozenset[str] = frozenset()
    #: The methods `_handle_own_request` may answer: a subclass that answers more extends
    #: it. Any other request is handed out without the call (most are).
    answers_itself: frozenset[str] = frozenset({"ping"})
    # The calls a session's users make of its parts on every request, handed to them as the
    # parts' own methods (bound in `__init__`).
    #: Answer an inbound request, handing the answer back when nothing is queued before it,
    #: for the caller to send at once (`Answering.answer`).
    answer: Callable[[RequestId, Any], Outgoing | None]
    #: Answer an inbound request with an error; dropped likewise (`Answering.send_error`).
    send_error: Callable[[RequestId, McpError], None]
    #: Take everything queued for sending, in order (`Outbox.take`). The order is the order
    #: things happened, and a transport must keep it: a request's progress comes before its
    #: response, which ends the request's stream.
    data_to_send: Callable[[], list[Outgoing]]

    def __init__(
        self,
        *,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        max_json_depth: int = MAX_JSON_DEPTH,
        max_inflight: int = DEFAULT_MAX_INFLIGHT,
        param_types: Mapping[str, type] | None = None,
        result_types: Mapping[str, type] | None = None,
        request_ids: RequestIds | None = None,
        extension_methods: Mapping[str, MethodInfo] | None = None,
    ) -> None:
        if max_json_depth < 1:
            raise ValueError(f"max_json_depth must be at least 1, not {max_json_depth}")
        #: Bytes; a longer message is refused unread (see `limits`).
        self.max_message_size = max_message_size
        #: Messages nesting arrays and objects deeper than this are refused (see `limits`).
        self.max_json_depth = max_json_depth
        #: Our request methods whose results decode into a subclass of the schema's type
        #: (one with conveniences for the caller, say).
        self.result_types: Mapping[str, type] = result_types or {}
        #: Inbound request methods whose params decode into another type than the schema's:
        #: a subclass that keeps part of them as raw JSON, say, for the handler to decode.
        self.param_types: Mapping[str, type] = param_types or {}
        #: How many of the peer's requests are served at once (see DEFAULT_MAX_INFLIGHT).
        self.max_inflight = max_inflight
        #: Where `terms` are kept: here, or the session's record (`ServerSession.keep_terms_in`).
        self._kept: KeepsTerms = TermsSlot()
        #: The methods of the extensions this side speaks (SEP-2133: `skills/list`, say),
        #: which exist in every revision beside the revision's own (`methods_of`).
        self.extension_methods: Mapping[str, MethodInfo] = extension_methods or _NO_METHODS
        #: The methods of the session's revision (the latest until `settle`): which exist,
        #: which way each goes, and the types its params and result decode into.
        self._methods: Mapping[str, MethodInfo] = self.methods_of(LATEST_REVISION)
        #: What we have to send, tagged with where it belongs (`mcpkit.protocol.outbox`):
        #: the two parts below queue into it, and so does the intake (its refusals).
        self._outbox = Outbox()
        #: The peer's requests we are serving: answered at most once, cancellable until then.
        self._answering = Answering(self._outbox, self.encode_answer)
        #: The answering part's table, read by the intake on every request (a reused id,
        #: the in-flight limit) and written as a request starts.
        self._inflight = self._answering.inflight
        #: Our requests awaiting the peer's answer. Their ids come from the process's source
        #: unless given another (see `mcpkit.protocol.ids`), so an id is never reused by
        #: another session.
        self._requesting = Requesting(self._outbox, request_ids or process_request_ids())
        #: The earliest deadline among our pending requests, for the driver's timer.
        self.next_deadline = self._requesting.next_deadline
        self.answer = self._answering.answer
        self.send_error = self._answering.send_error
        self.data_to_send = self._outbox.take

    @property
    def mark_unanswered(self) -> bool:
        """Set by a runtime whose channel routes by request: a request that ends without an
        answer (cancelled by the peer) then gets an empty final `Outgoing`, so its stream
        can end."""
        return self._outbox.mark_unanswered

    @mark_unanswered.setter
    def mark_unanswered(self, on: bool) -> None:
        self._outbox.mark_unanswered = on

    @property
    def max_kept_progress(self) -> int:
        """Progress tokens kept for tasks our requests created (see `keep_progress`)."""
        return self._requesting.pending.max_kept

    @max_kept_progress.setter
    def max_kept_progress(self, n: int) -> None:
        self._requesting.pending.max_kept = n

    @property
    def request_ids(self) -> RequestIds:
        """Where our requests' ids come from (see `mcpkit.protocol.ids`)."""
        return self._requesting.request_ids

    @property
    def terms(self) -> Terms[Any] | None:
        """What the handshake settled (revision, the peer's info and capabilities), which each
        request of the session is served under; None before (see `settle`)."""
        return self._kept.terms

    @terms.setter
    def terms(self, terms: Terms[Any] | None) -> None:
        self._kept.terms = terms

    @property
    def revision(self) -> str | None:
        """The revision the session speaks, once settled (`terms`)."""
        terms = self._kept.terms
        return None if terms is None else terms.revision

    def settle(self, terms: Terms[Any]) -> None:
        """Take `terms` as the session's: its revision decides which methods exist (a method
        the revision lacks is answered -32601) and how results are shaped. The object is
        replaced, never changed: a request already running keeps the terms it started under."""
        self._methods = self.methods_of(terms.revision)
        self.terms = terms

    def methods_of(self, revision: str) -> Mapping[str, MethodInfo]:
        """The methods that exist in `revision` for this session: its table, and the
        extensions' methods where the session speaks any."""
        table = _plain_table(revision)
        return {**table, **self.extension_methods} if self.extension_methods else table

    # ----------------------------------------------------------------- inbound

    def receive_body(self, data: bytes, info: RequestInfo | None = None) -> BodyRead:
        """`receive_data`, and which requests the body started (see `BodyRead`)."""
        # What the body makes the session queue lies past `mark`: the answers it gives
        # itself and the refusals of the body as a whole (see `Outbox.split_body`).
        mark = len(self._outbox.items)
        events = self.receive_data(data, info)
        if len(events) == 1 and len(self._outbox.items) == mark:
            # The common case, one request and nothing queued: `_body_read` would find just
            # that request started.
            only = events[0]
            if type(only) is RequestReceived:
                return BodyRead(events, [only.request_id], [])
        return self._body_read(events, mark)

    def _body_read(self, events: list[Event], mark: int) -> BodyRead:
        """What a body that made `events`, and queued what lies past `mark`, did."""
        started = [ev.request_id for ev in events if type(ev) is RequestReceived]
        answered, refused = self._outbox.split_body(mark)  # ping, initialize, refusals
        started += answered
        return BodyRead(events, started, refused)

    def read_apart(self, data: bytes, info: RequestInfo | None = None) -> ApartRead:
        """Read `data`, one body whose request is served apart from this session, and keep
        nothing of it: the request leaves the session's care as it is handed out, so its
        answer, progress and end are its server's (`mcpkit.runtime.request_peer`), and the
        session is as it was for the next body, whoever sends it. What the session answers
        itself (ping, server/discover) and what the body made it queue are returned. So one
        session reads every 2026-07-28 POST a server gets with the checks a session's own
        requests pass, and no two requests, even under one id, ever meet in it. The body is
        read as `receive_data` reads any (a 2025-era session's too), step for step."""
        mark = len(self._outbox.items)
        return self._read_apart_end(self.receive_data(data, info), mark)

    def _read_apart_end(self, events: list[Event], mark: int) -> ApartRead:
        """What `read_apart` returns for a body that made `events` and queued what lies past
        `mark`."""
        if len(events) == 1 and not self._outbox.items:
            # The common case, one request and nothing queued (so none was answered or
            # refused, and the session has nothing of its own to hand over): what follows
            # would find just that.
            only = events[0]
            if type(only) is RequestReceived:
                self._inflight.pop(only.request_id, None)
                return ApartRead(only, _NOTHING, _NOTHING, _NOTHING, True)
        read = self._body_read(events, mark)
        request: RequestReceived | None = None
        events = read.events
        for i, ev in enumerate(events):
            if type(ev) is RequestReceived:
                request = ev
                events = [*events[:i], *events[i + 1 :]]
                break
        for rid in read.started:  # (whatever the body held: nothing of it stays in flight)
            self._inflight.pop(rid, None)
        return ApartRead(request, events, self.data_to_send(), read.refused, bool(read.started))

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
            # Not parsed; the transport may have cut it short (stdio keeps limit + 1 bytes).
            self._refused(
                jsonrpc.refuse_by_head(
                    data,
                    codes.INVALID_REQUEST,
                    "Invalid Request: the message exceeds the limit "
                    f"of {self.max_message_size} bytes (max_message_size)",
                ),
                events,
            )
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
                self._receive_envelope(env, events, None, info)
        return events

    def _refused(self, bad: Malformed, events: list[Event], batch: Batch | None = None) -> None:
        """A message we cannot use: a request (or what may be one) gets the error, under its
        id if it could be read; a response fails our request at once rather than leaving it
        to time out, and gets no reply (JSON-RPC 2.0, section 5: only a request is answered)."""
        if not bad.response:
            self._outbox.malformed(bad, batch)
            return
        rid = bad.id
        # `take`, not `answered`: a refused response ends the request, its progress token too.
        pending = self._requesting.pending.take(rid) if rid is not None else None
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
        if self.revision != _BATCH_REVISION:
            self._outbox.malformed(
                Malformed(
                    codes.INVALID_REQUEST,
                    "Invalid Request: JSON-RPC batches are only allowed in protocol revision "
                    f"{_BATCH_REVISION} (this session uses {self.revision or 'none yet'})",
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
                self._receive_envelope(env, events, batch, info)
        # Sealed only now: a member the session answers itself (ping) closes its part while
        # later members are still unread, and must not send the array before they are in.
        batch.sealed = True
        # No member left open (all answered already, or only notifications and responses:
        # then nothing at all is sent, section 6): the array goes now. Else the last answer
        # sends it (`Outbox.answer`, `Outbox.close`).
        if not batch.open_ids:
            self._outbox.flush(batch)

    def _receive_envelope(
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
            self._receive_request(env, events, batch, info)
            return
        kind = jsonrpc.classify(env)
        if type(kind) is Malformed:
            self._refused(kind, events, batch)
        elif kind == "request":
            self._receive_request(env, events, batch, info)
        elif kind == "notification":
            self._receive_notification(env, events)
        else:
            decoded = self._requesting.receive_response(env, events)
            if decoded is not None:
                self._on_result(*decoded, events)

    def _receive_request(
        self,
        env: Envelope,
        events: list[Event],
        batch: Batch | None,
        request_info: RequestInfo | None,
    ) -> None:
        """Start the peer's request under the session's terms, or refuse it (`_serve_request`)."""
        self._serve_request(
            env, events, batch, request_info, self._kept.terms, self._methods, self.param_types
        )

    def _serve_request(
        self,
        env: Envelope,
        events: list[Event],
        batch: Batch | None,
        request_info: RequestInfo | None,
        terms: Terms[Any] | None,
        methods: Mapping[str, MethodInfo],
        param_types: Mapping[str, type],
    ) -> None:
        """Start the peer's request under `terms` (the session's, or the request's own), with
        `methods` the methods that exist under them and `param_types` what params decode into
        where not the schema's; or refuse it with the error
        that says why. Nothing of the session is swapped to serve a request under its own
        terms: a 2026-07-28 request reads the same session its neighbours do.

        The checks go from what makes the request wrong to what makes it unaffordable: a
        reused id, an unknown method (-32601), the role's phase and capability rules, the
        in-flight limit (a request that is wrong anyway is told why, even when we are busy),
        and last the params decode, the only costly step. A refused request leaves no trace
        but its answer."""
        rid: RequestId = env.id  # type: ignore[assignment]  # classify() checked it
        method: str = env.method  # type: ignore[assignment]
        # basic/index, Requests: an id is never reused within a session. Only ids in flight
        # can be checked (remembering every id would grow without bound), and only they
        # matter: an answer under a reused in-flight id would be ambiguous.
        if rid in self._inflight:
            # Related to no request: the id belongs to the one in flight, whose stream this
            # refusal must neither join nor end.
            self._outbox.error(
                rid,
                codes.INVALID_REQUEST,
                f"Invalid Request: request id {rid!r} is already in use",
                batch,
                routed=False,
            )
            return
        # Unknown in the session's revision, a notification's name, or a request our role
        # does not serve (tools/call sent to a client): all "Method not found".
        # (`in` and `[]`, not `get`: on a read-only table, a mappingproxy, `get` is a method
        # call)
        info = methods[method] if method in methods else None
        if info is None or info.kind != "request" or self.inbound_direction not in info.direction:
            unknown = McpError(codes.METHOD_NOT_FOUND, f"Method not found: {method}")
            self._refuse(rid, env, unknown, batch)
            return
        refusal = self._check_inbound_request(method, terms)
        if refusal is not None:
            self._refuse(rid, env, refusal, batch)
            return
        if len(self._inflight) >= self.max_inflight:
            self._outbox.error(
                rid,
                codes.INTERNAL_ERROR,
                f"Too many requests in flight (limit {self.max_inflight})",
                batch,
            )
            return
        tp = param_types[method] if method in param_types else info.params
        try:
            params = jsonrpc.decode_part(tp, env.params)
        except msgspec.ValidationError as exc:
            self._outbox.error(
                rid, codes.INVALID_PARAMS, f"Invalid params for {method}: {exc}", batch
            )
            return
        except msgspec.DecodeError as exc:  # pragma: no cover - the envelope already parsed
            self._outbox.error(rid, codes.PARSE_ERROR, f"Parse error: {exc}", batch)
            return
        self._start_request(rid, method, params, events, batch, request_info, terms)

    def _start_request(
        self,
        rid: RequestId,
        method: str,
        params: Any,
        events: list[Event],
        batch: Batch | None,
        request_info: RequestInfo | None,
        terms: Terms[Any] | None,
    ) -> None:
        # In flight, and open in its batch, before the role's own handler runs: ping and
        # initialize are answered right there, and `send_response` answers only requests in
        # flight (and closes their batch member).
        self._inflight[rid] = Inflight(method, batch, terms)
        if batch is not None:
            batch.open_ids.add(rid)
        own = method in self.answers_itself
        if own and self._handle_own_request(rid, method, params, events):
            if batch is not None and batch.answered is None:
                batch.answered = rid
            return
        # The first request handed out routes the batch's array (see `Batch.route`).
        if batch is not None and batch.route is None:
            batch.route = rid
        # (`progress_token_of`, its call made only for params with a `_meta`: most have none;
        # never of params whose `_meta` is left unread, which names none: `unread_meta`)
        meta = None if type(params) in UNREAD_TYPES else getattr(params, "meta", None)
        token = None if meta is None else progress_token_in(meta)
        events.append(RequestReceived(rid, method, params, token, request_info, terms))

    def _handle_own_request(
        self, rid: RequestId, method: str, params: Any, events: list[Event]
    ) -> bool:
        """Answer requests the session serves itself (ping; initialize in the server role)."""
        if method == "ping":
            if "ping" in self.intercepts:
                return False
            self.send_response(rid, {})
            return True
        return False

    def _refuse(
        self, rid: RequestId, env: Envelope, refusal: McpError, batch: Batch | None
    ) -> None:
        """Answer a request refused before it started; a request that names a revision we do
        not speak is told that instead (`_revision_refusal`)."""
        refusal = self._revision_refusal(env.params) or refusal
        self._outbox.error(rid, refusal.code, refusal.message, batch, data=refusal.data)

    def _revision_refusal(self, params: msgspec.Raw | msgspec.UnsetType) -> McpError | None:
        """The answer to a refused request that names, in its `_meta`, a revision this side
        does not speak (a 2026-07-28 request to a 2025-era session); None to keep the refusal.
        Only refused requests are looked at, so the answer a served request gets never costs
        a second decode."""
        return None

    def _check_inbound_request(self, method: str, terms: Terms[Any] | None) -> McpError | None:
        """The role's lifecycle and capability rules for a request served under `terms`; None
        lets the request through."""
        return None

    def _receive_notification(self, env: Envelope, events: list[Event]) -> None:
        method: str = env.method  # type: ignore[assignment]
        # Whatever is wrong with a notification, nothing is sent back: basic/index,
        # Notifications ("The receiver MUST NOT send a response").
        info = self._methods.get(method)
        if info is None or info.kind != "notification":
            return  # JSON-RPC: notifications are never answered, unknown ones are dropped
        try:
            params = jsonrpc.decode_part(info.params, env.params)
        except msgspec.ValidationError:
            return  # invalid notifications SHOULD be ignored (basic/utilities/cancellation)
        if method == "notifications/cancelled":
            self._answering.receive_cancelled(params, events)
        elif method == "notifications/progress":
            self._requesting.receive_progress(params, events)
        elif not self._handle_own_notification(method, params, events):
            events.append(NotificationReceived(method, params))

    def _handle_own_notification(self, method: str, params: Any, events: list[Event]) -> bool:
        """Consume the role's own notifications (`initialized`, on the server); True if it did."""
        return False

    def _on_result(self, rid: RequestId, method: str, result: Any, events: list[Event]) -> None:
        """Report a decoded result of our request (the client role also ends its handshake
        here)."""
        events.append(ResponseReceived(rid, result))

    # ----------------------------------------------------------------- answering

    def send_response(self, request_id: RequestId, result: Any) -> None:
        """Answer an inbound request; dropped if it was cancelled or already answered
        (`Answering.send_response`)."""
        self._answering.send_response(request_id, result)

    def encode_answer(
        self,
        request_id: RequestId,
        result: Any,
        method: str,
        terms: Terms[Any] | None,
        server_info: Any = None,
    ) -> bytes:
        """The response carrying `result` to the peer's request served under `terms` (None:
        the session's, as `initialize` is, which starts before the terms it settles): what
        `send_response` queues, and what answers a request `read_apart` handed out.
        `server_info`: the server's info a 2026-07-28 result names, where not the session's
        (a proxy's is its upstream's)."""
        if terms is None:
            terms = self._kept.terms
            if terms is None:
                return jsonrpc.encode_response(request_id, result)
        if terms.revision == LATEST_REVISION:
            return jsonrpc.encode_response(request_id, result)
        return self._encode_for(request_id, result, method, terms, server_info)

    def _encode_for(
        self,
        request_id: RequestId,
        result: Any,
        method: str,
        terms: Terms[Any],
        server_info: Any = None,
    ) -> bytes:
        """The response carrying `result`, built with the 2025-era types, as `terms.revision`
        has it (an older one's fields only; the server role adds what a 2026-07-28 result
        carries, `server_info` among it)."""
        return jsonrpc.encode_response(request_id, shape_for_revision(result, terms.revision))

    def send_progress(
        self,
        request_id: RequestId,
        token: RequestId,
        progress: float,
        total: float | None = None,
        message: str | None = None,
    ) -> None:
        """Report progress on an inbound request that asked for it with `token`."""
        self._answering.send_progress(request_id, token, progress, total, message)

    def is_inflight(self, request_id: RequestId) -> bool:
        """Whether the peer's request `request_id` is still served (not answered or cancelled)."""
        return request_id in self._inflight

    def cancel_forwarded(self, request_id: RequestId, reason: str | None) -> list[Event]:
        """The peer's `notifications/cancelled` for `request_id`, received by another
        process serving this session: as if it had come here (never handed on again)."""
        return self._answering.cancel_forwarded(request_id, reason)

    # ----------------------------------------------------------------- requesting

    def send_request(
        self,
        method: str,
        params: Any = None,
        *,
        deadline: float | None = None,
        progress: bool = False,
        related: RequestId | None = None,
        result_type: Any = None,
    ) -> RequestId:
        """Queue a request; returns its id. `deadline` is on the caller's clock (see `expire`).

        Its result is decoded as `result_type`, else as the method's; a task-augmented request
        (params with `task`) is answered with a `CreateTaskResult` (basic/utilities/tasks)."""
        info = self._methods.get(method)
        if info is None or info.kind != "request":
            raise LocalProtocolError(
                f"{method!r} is not a request in revision {self.revision or LATEST_REVISION}"
            )
        self._check_outbound_request(method, params)  # raises before anything is queued
        if result_type is None:
            # A receiver that accepts a task answers with CreateTaskResult, the method's own
            # result coming later through tasks/result (basic/utilities/tasks, Result
            # Retrieval).
            if info.task_augmented and task_params(params) is not None:
                result_type = CreateTaskResult
            else:
                result_type = self.result_types.get(method, info.result)
        return self._requesting.send_request(
            method, params, result_type, deadline=deadline, progress=progress, related=related
        )

    def _check_outbound_request(self, method: str, params: Any) -> None:
        """Raise LocalProtocolError if the lifecycle or the peer's capabilities forbid it."""

    def check_outbound_request(self, method: str, params: Any = None) -> None:
        """Raise LocalProtocolError now if `send_request(method, params)` would (for a request
        that is sent later, as a task's requests are)."""
        self._check_outbound_request(method, params)

    def send_notification(
        self, method: str, params: Any = None, *, related: RequestId | None = None
    ) -> None:
        """Queue a notification. `related` is the peer's request it is sent while serving, so
        that it travels with that request (on its stream, over HTTP)."""
        self._requesting.send_notification(method, params, related=related)

    def is_pending(self, request_id: RequestId) -> bool:
        """Whether one of our requests still awaits its response."""
        return request_id in self._requesting.pending

    def cancel_request(self, request_id: RequestId, reason: str | None = None) -> None:
        """Give up on one of our requests: tell the peer, and ignore any late response."""
        self._requesting.cancel_request(request_id, reason)

    def restart_deadline(self, request_id: RequestId, deadline: float) -> None:
        """Give one of our pending requests a new deadline (on progress, say)."""
        self._requesting.restart_deadline(request_id, deadline)

    def expire(self, now: float) -> list[Event]:
        """Time out every pending request whose deadline is at or before `now` (see
        `Requesting.expire`)."""
        return self._requesting.expire(now)

    def release_task_progress(self, task_id: str) -> RequestId | None:
        """Stop taking progress for the task `task_id` (see `Requesting.release_task_progress`)."""
        return self._requesting.release_task_progress(task_id)

    def has_progress(self, request_id: RequestId) -> bool:
        """Whether progress for one of our requests is still taken (pending, or kept for a
        task it created)."""
        return self._requesting.has_progress(request_id)


#: Each revision's method table as a plain dict, shared by every session that speaks it and
#: never changed (`methods_for` gives a read-only proxy, whose `in` and `[]` are method
#: calls).
_PLAIN_TABLES: Final[dict[str, dict[str, MethodInfo]]] = {}


def _plain_table(revision: str) -> dict[str, MethodInfo]:
    """`methods_for(revision)`, as a plain dict (ValueError for a revision it refuses)."""
    table = _PLAIN_TABLES.get(revision)
    if table is None:
        table = _PLAIN_TABLES[revision] = dict(methods_for(revision))
    return table
