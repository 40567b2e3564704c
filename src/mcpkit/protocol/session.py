"""The session core shared by both roles: its parts, and what the role decides.

`Session` turns inbound bytes into events and our calls into outgoing messages, with no I/O
and no clock (the runtime drives it: `mcpkit.runtime.connection`). It holds three parts that
share its outbox (`outbox.Outbox`): a `receiving.Receiving`, which reads what the peer sends
(the bytes, JSON-RPC batches, notifications) and hands each message to the part it concerns;
an `answering.Answering`, which starts the peer's requests once they pass its checks, owns
them in flight and answers them (or drops them when cancelled); and a
`requesting.Requesting`, which owns our pending requests, sends them and takes what answers
them. The role subclasses (`server_session`, `client_session`) add the handshake and the
capability rules, through the hooks below, which the parts ask of the session that holds
them (`receiving.Role`, `answering.RequestRules`).

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

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

import msgspec

from mcpkit.errors import LocalProtocolError, McpError
from mcpkit.protocol import jsonrpc
from mcpkit.protocol.answering import Answering
from mcpkit.protocol.capabilities import task_params
from mcpkit.protocol.events import Event, RequestInfo, ResponseReceived
from mcpkit.protocol.ids import RequestIds, process_request_ids
from mcpkit.protocol.jsonrpc import Envelope
from mcpkit.protocol.limits import DEFAULT_MAX_MESSAGE_SIZE, MAX_JSON_DEPTH
from mcpkit.protocol.outbox import Batch, BodyRead, Outbox, Outgoing
from mcpkit.protocol.receiving import Receiving, method_table
from mcpkit.protocol.requesting import Requesting
from mcpkit.protocol.shapes import shape_for_revision
from mcpkit.protocol.terms import KeepsTerms, Terms, TermsSlot
from mcpkit.types import CreateTaskResult, RequestId
from mcpkit.types.methods import LATEST_REVISION, MethodInfo

# DEFAULT_MAX_MESSAGE_SIZE and MAX_JSON_DEPTH are defined in `limits`, and named here too
# because the session is where they apply.
__all__ = ["DEFAULT_MAX_INFLIGHT", "DEFAULT_MAX_MESSAGE_SIZE", "MAX_JSON_DEPTH", "Session"]

#: The peer's requests we serve at once; past it they are answered -32603 at once. Counted in
#: requests: a peer that sends without waiting for answers would otherwise start a handler
#: task, and hold its params, for every request it can write.
DEFAULT_MAX_INFLIGHT: Final = 1024
#: No extension methods: one shared empty mapping, not a dict per session.
_NO_METHODS: Final[Mapping[str, MethodInfo]] = MappingProxyType({})


class Session:
    """Sans-I/O JSON-RPC session for one MCP connection (either role): its parts, each the
    owner of its state (the peer's requests in flight are `Answering.inflight`, where a
    request ends once, before anything about its end is queued), and the role's hooks."""

    #: Methods answered by this role (the peer sends them to us).
    inbound_direction: str = ""
    #: The requests this session would answer itself (ping; initialize and server/discover
    #: in the server role) that it hands out as a `RequestReceived` instead, for the runtime
    #: to answer (a server whose middleware has hooks for them). On the instance only.
    intercepts: frozenset[str] = frozenset()
    #: The methods `handle_own_request` may answer: a subclass that answers more extends
    #: it. Any other request is handed out without the call (most are).
    answers_itself: frozenset[str] = frozenset({"ping"})

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
        #: Our requests' methods whose results decode into a subclass of the schema's type.
        self.result_types: Mapping[str, type] = result_types or {}
        #: Where `terms` are kept: here, or the session's record (`ServerSession.keep_terms_in`).
        self._kept: KeepsTerms = TermsSlot()
        #: The extensions' methods this side speaks (SEP-2133), in every revision (`methods_of`).
        self.extension_methods: Mapping[str, MethodInfo] = extension_methods or _NO_METHODS
        #: What we have to send, tagged with where it belongs (`mcpkit.protocol.outbox`).
        self.outbox = outbox = Outbox()
        #: The peer's requests we are serving: answered at most once, cancellable until then.
        self.answering = answering = Answering(
            outbox,
            self,
            inbound_direction=self.inbound_direction,
            answers_itself=self.answers_itself,
            max_inflight=max_inflight,
        )
        self._inflight = answering.inflight
        #: Our requests awaiting the peer's answer, their ids from the process's source unless
        #: given another (`mcpkit.protocol.ids`): an id is never reused by another session.
        self.requesting = Requesting(outbox, request_ids or process_request_ids())
        self.receiving = Receiving(
            self,
            outbox,
            answering,
            self.requesting,
            self.methods_of(LATEST_REVISION),
            max_message_size=max_message_size,
            max_json_depth=max_json_depth,
            param_types=param_types or {},
        )

    # The calls a session's users make of its parts. A runtime that makes them on every
    # message calls the part itself (`receiving`, `answering`, `outbox`): a method of the
    # session's bound to a part would be an object every idle session holds.

    def receive_data(self, data: bytes, info: RequestInfo | None = None) -> list[Event]:
        """Take one message (object or batch) from the peer; return what happened
        (`Receiving.receive_data`: never raises, whatever the bytes)."""
        return self.receiving.receive_data(data, info)

    def receive_body(self, data: bytes, info: RequestInfo | None = None) -> BodyRead:
        """`receive_data`, and which requests the body started (`Receiving.receive_body`)."""
        return self.receiving.receive_body(data, info)

    def answer(self, request_id: RequestId, result: Any) -> Outgoing | None:
        """Answer an inbound request, handing the answer back when nothing is queued before
        it, for the caller to send at once (`Answering.answer`)."""
        return self.answering.answer(request_id, result)

    def data_to_send(self) -> list[Outgoing]:
        """Take everything queued for sending, in order (`Outbox.take`). The order is the
        order things happened, and a transport must keep it: a request's progress comes
        before its response, which ends the request's stream."""
        return self.outbox.take()

    def next_deadline(self) -> float | None:
        """The earliest deadline among our pending requests, for the driver's timer."""
        return self.requesting.pending.next_deadline()

    @property
    def max_message_size(self) -> int:
        """Bytes; a longer message is refused unread (see `limits`)."""
        return self.receiving.max_message_size

    @max_message_size.setter
    def max_message_size(self, size: int) -> None:
        self.receiving.max_message_size = size

    @property
    def max_json_depth(self) -> int:
        """Messages nesting arrays and objects deeper than this are refused (see `limits`)."""
        return self.receiving.max_json_depth

    @property
    def max_inflight(self) -> int:
        """How many of the peer's requests are served at once (see DEFAULT_MAX_INFLIGHT)."""
        return self.answering.max_inflight

    @property
    def mark_unanswered(self) -> bool:
        """Set by a runtime whose channel routes by request: a request that ends without an
        answer (cancelled by the peer) then gets an empty final `Outgoing`, so its stream
        can end."""
        return self.outbox.mark_unanswered

    @mark_unanswered.setter
    def mark_unanswered(self, on: bool) -> None:
        self.outbox.mark_unanswered = on

    @property
    def max_kept_progress(self) -> int:
        """Progress tokens kept for tasks our requests created (see `keep_progress`)."""
        return self.requesting.pending.max_kept

    @max_kept_progress.setter
    def max_kept_progress(self, n: int) -> None:
        self.requesting.pending.max_kept = n

    @property
    def request_ids(self) -> RequestIds:
        """Where our requests' ids come from (see `mcpkit.protocol.ids`)."""
        return self.requesting.request_ids

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
        self.receiving.methods = self.methods_of(terms.revision)
        self.terms = terms

    def methods_of(self, revision: str) -> Mapping[str, MethodInfo]:
        """The methods that exist in `revision` for this session: its table, and the
        extensions' methods where the session speaks any."""
        table = method_table(revision)
        return {**table, **self.extension_methods} if self.extension_methods else table

    # ---------------------------------- the role's decisions (`Role`, `RequestRules`)

    def receive_request(
        self,
        env: Envelope,
        events: list[Event],
        batch: Batch | None,
        request_info: RequestInfo | None,
    ) -> None:
        """Start the peer's request under the session's terms, or refuse it
        (`Answering.serve_request`)."""
        receiving = self.receiving
        self.answering.serve_request(
            env,
            events,
            batch,
            request_info,
            self._kept.terms,
            receiving.methods,
            receiving.param_types,
        )

    def check_inbound_request(self, method: str, terms: Terms[Any] | None) -> McpError | None:
        """The role's lifecycle and capability rules for a request served under `terms`; None
        lets the request through."""
        return None

    def handle_own_request(
        self, rid: RequestId, method: str, params: Any, events: list[Event]
    ) -> bool:
        """Answer requests the session serves itself (ping; initialize in the server role)."""
        if method == "ping":
            if "ping" in self.intercepts:
                return False
            self.send_response(rid, {})
            return True
        return False

    def revision_refusal(self, params: msgspec.Raw | msgspec.UnsetType) -> McpError | None:
        """The answer to a refused request that names, in its `_meta`, a revision this side
        does not speak (a 2026-07-28 request to a 2025-era session); None to keep the refusal.
        Only refused requests are looked at, so the answer a served request gets never costs
        a second decode."""
        return None

    def handle_own_notification(self, method: str, params: Any, events: list[Event]) -> bool:
        """Consume the role's own notifications (`initialized`, on the server); True if it did."""
        return False

    def on_result(self, rid: RequestId, method: str, result: Any, events: list[Event]) -> None:
        """Report a decoded result of our request (the client role also ends its handshake
        here)."""
        events.append(ResponseReceived(rid, result))

    def send_response(self, request_id: RequestId, result: Any) -> None:
        """Answer an inbound request; dropped if it was cancelled or already answered
        (`Answering.send_response`)."""
        self.answering.send_response(request_id, result)

    def send_error(self, request_id: RequestId, error: McpError) -> None:
        """Answer an inbound request with an error; dropped likewise (`Answering.send_error`).
        A method, not a bound attribute as `answer` is: errors are rare, and every idle
        session would hold the bound method."""
        self.answering.send_error(request_id, error)

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
        `send_response` queues, and what answers a request `read_sessionless` handed out. Results
        are built with the latest 2025-era types, and shaped for an older revision (its
        fields only); the server role adds what a 2026-07-28 result carries, `server_info`
        among it (where not the session's: a proxy's is its upstream's)."""
        if terms is None:
            terms = self._kept.terms
            if terms is None:
                return jsonrpc.encode_response(request_id, result)
        if terms.revision == LATEST_REVISION:
            return jsonrpc.encode_response(request_id, result)
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
        self.answering.send_progress(request_id, token, progress, total, message)

    def is_inflight(self, request_id: RequestId) -> bool:
        """Whether the peer's request `request_id` is still served (not answered or cancelled)."""
        return request_id in self._inflight

    def cancel_forwarded(self, request_id: RequestId, reason: str | None) -> list[Event]:
        """The peer's `notifications/cancelled` for `request_id`, received by another
        process serving this session: as if it had come here (never handed on again)."""
        return self.answering.cancel_forwarded(request_id, reason)

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
        info = self.receiving.methods.get(method)
        if info is None or info.kind != "request":
            raise LocalProtocolError(
                f"{method!r} is not a request in revision {self.revision or LATEST_REVISION}"
            )
        self.check_outbound_request(method, params)  # raises before anything is queued
        if result_type is None:
            # A receiver that accepts a task answers with CreateTaskResult, the method's own
            # result coming later through tasks/result (basic/utilities/tasks, Result
            # Retrieval).
            if info.task_augmented and task_params(params) is not None:
                result_type = CreateTaskResult
            else:
                result_type = self.result_types.get(method, info.result)
        return self.requesting.send_request(
            method, params, result_type, deadline=deadline, progress=progress, related=related
        )

    def check_outbound_request(self, method: str, params: Any = None) -> None:
        """Raise LocalProtocolError if the lifecycle or the peer's capabilities forbid
        `send_request(method, params)`: called by it, and by whoever sends such a request
        later (a task's requests)."""

    def send_notification(
        self, method: str, params: Any = None, *, related: RequestId | None = None
    ) -> None:
        """Queue a notification. `related` is the peer's request it is sent while serving, so
        that it travels with that request (on its stream, over HTTP)."""
        self.requesting.send_notification(method, params, related=related)

    def is_pending(self, request_id: RequestId) -> bool:
        """Whether one of our requests still awaits its response."""
        return request_id in self.requesting.pending

    def cancel_request(self, request_id: RequestId, reason: str | None = None) -> None:
        """Give up on one of our requests: tell the peer, and ignore any late response."""
        self.requesting.cancel_request(request_id, reason)

    def restart_deadline(self, request_id: RequestId, deadline: float) -> None:
        """Give one of our pending requests a new deadline (on progress, say)."""
        self.requesting.restart_deadline(request_id, deadline)

    def expire(self, now: float) -> list[Event]:
        """Time out every pending request whose deadline is at or before `now` (see
        `Requesting.expire`)."""
        return self.requesting.expire(now)

    def release_task_progress(self, task_id: str) -> RequestId | None:
        """Stop taking progress for the task `task_id` (see `Requesting.release_task_progress`)."""
        return self.requesting.release_task_progress(task_id)

    def has_progress(self, request_id: RequestId) -> bool:
        """Whether progress for one of our requests is still taken (pending, or kept for a
        task it created)."""
        return self.requesting.has_progress(request_id)
