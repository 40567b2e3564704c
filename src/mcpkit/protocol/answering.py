"""The answering part of a session: the peer's requests we serve, from the checks that let
them start until their one answer, or their cancellation.

A request of the peer is checked before it starts (`Answering.serve_request`: a reused id, an
unknown method, the role's phase and capability rules, the in-flight limit, then its params),
and is in flight (`Answering.inflight`) from when the session hands it out as
`RequestReceived` (or answers it itself: ping, initialize) until its response or error is
queued, or the peer cancels it. That is the only time anything may be sent about it:
`send_response` and `send_error` for a request no longer in flight are dropped, so a handler
that finishes after its request was cancelled can never answer it, and progress stops with
the answer (basic/utilities/progress).

`Answering` is one of the parts a `Session` holds (with `receiving.Receiving` and
`requesting.Requesting`): it owns the in-flight table, asks the session's role what only it
decides (`RequestRules`), and answers through the outbox it is handed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import msgspec

from mcpkit.errors import LocalProtocolError, McpError
from mcpkit.protocol import codes, jsonrpc
from mcpkit.protocol.events import (
    Event,
    RequestCancelled,
    RequestInfo,
    RequestReceived,
    StrayCancel,
)
from mcpkit.protocol.jsonrpc import Envelope
from mcpkit.protocol.outbox import Batch, Outbox, Outgoing
from mcpkit.protocol.terms import Terms
from mcpkit.protocol.unread_meta import UNREAD_TYPES
from mcpkit.types import CancelledNotificationParams, ProgressNotificationParams, RequestId
from mcpkit.types.methods import LATEST_REVISION, MODERN_REVISIONS, MethodInfo

__all__ = [
    "Answering",
    "RequestRules",
    "Inflight",
    "answered_code",
    "error_answer",
    "progress_params",
    "progress_token_in",
    "progress_token_of",
]


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


class Inflight(msgspec.Struct):
    """One of the peer's requests we serve: its method (initialize cannot be cancelled), the
    batch its answer joins, the terms it is served under (its answer is shaped for their
    revision) and the progress last sent (it must increase). A struct: made without a Python
    call, once per request."""

    method: str
    batch: Batch | None
    terms: Terms[Any] | None
    last_progress: float | None = None


class RequestRules(Protocol):
    """What the session's role decides of the peer's requests (`Session`'s hooks say each)."""

    def check_inbound_request(self, method: str, terms: Terms[Any] | None) -> McpError | None: ...

    def handle_own_request(
        self, rid: RequestId, method: str, params: Any, events: list[Event]
    ) -> bool: ...

    def revision_refusal(self, params: msgspec.Raw | msgspec.UnsetType) -> McpError | None: ...

    def encode_answer(
        self, request_id: RequestId, result: Any, method: str, terms: Terms[Any] | None
    ) -> bytes: ...


class Answering:
    """The peer's requests we serve (`inflight`): each started once the checks let it through
    (`serve_request`), then answered at most once through the outbox this is handed, or
    dropped when the peer cancels it.

    `rules` is the session's role, which decides what only it can (its phase and capability
    rules, the requests it answers itself) and makes the response to a request from its
    result, for the terms it is served under (None: the session's, for `initialize`, which
    starts before the terms it settles): `Session.encode_answer`, the one encoder of
    answers, chosen by the terms. (Asked of `rules`, not held as a bound method: one more
    object of every idle session.)"""

    __slots__ = (
        "answers_itself",
        "inbound_direction",
        "inflight",
        "max_inflight",
        "outbox",
        "peer",
        "reply",
        "rules",
    )

    def __init__(
        self,
        outbox: Outbox,
        rules: RequestRules,
        *,
        inbound_direction: str,
        answers_itself: frozenset[str],
        max_inflight: int,
    ) -> None:
        #: The peer's requests we are serving: answered at most once, cancellable until then.
        self.inflight: dict[RequestId, Inflight] = {}
        #: Where the answers go (the session's, shared with its other parts).
        self.outbox = outbox
        self.rules = rules
        #: Which way the requests we serve go ("client_to_server" for a server).
        self.inbound_direction = inbound_direction
        #: The methods `rules.handle_own_request` may answer; any other request is handed
        #: out without the call (most are).
        self.answers_itself = answers_itself
        #: How many of the peer's requests are served at once (`session.DEFAULT_MAX_INFLIGHT`).
        self.max_inflight = max_inflight
        #: What each request is handed out with, which makes it an exchange (the fields of
        #: `RequestReceived` with these names): set by the runtime that serves the session's
        #: requests (`mcpkit.runtime.connection.Connection`), None until then.
        self.reply: Any = None
        self.peer: Any = None

    def serve_request(
        self,
        env: Envelope,
        events: list[Event],
        batch: Batch | None,
        request_info: RequestInfo | None,
        terms: Terms[Any] | None,
        methods: Mapping[str, MethodInfo],
        param_types: Mapping[str, type],
    ) -> None:
        """Start the peer's request under `terms` (the session's, or the request's own: nothing
        of the session is swapped for them), with `methods` the methods that exist under them
        and `param_types` what params decode into where not the schema's; or refuse it with
        the error that says why, leaving no trace but that answer. The checks go from what
        makes the request wrong to what makes it unaffordable: a reused id, an unknown method
        (-32601), the role's phase and capability rules, the in-flight limit (a request that
        is wrong anyway is told why, even when we are busy), last the params decode, the only
        costly step."""
        rid: RequestId = env.id  # type: ignore[assignment]  # classify() checked it
        method: str = env.method  # type: ignore[assignment]
        # basic/index, Requests: an id is never reused within a session. Only ids in flight
        # can be checked (remembering every id would grow without bound), and only they
        # matter: an answer under a reused in-flight id would be ambiguous.
        if rid in self.inflight:
            self._refuse_reused(rid, batch)
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
        refusal = self.rules.check_inbound_request(method, terms)
        if refusal is not None:
            self._refuse(rid, env, refusal, batch)
            return
        if len(self.inflight) >= self.max_inflight:
            limit = f"Too many requests in flight (limit {self.max_inflight})"
            self.outbox.error(rid, codes.INTERNAL_ERROR, limit, batch)
            return
        tp = param_types[method] if method in param_types else info.params
        try:
            params = jsonrpc.decode_part(tp, env.params)
        except msgspec.ValidationError as exc:
            self.outbox.error(
                rid, codes.INVALID_PARAMS, f"Invalid params for {method}: {exc}", batch
            )
            return
        except msgspec.DecodeError as exc:  # pragma: no cover - the envelope already parsed
            self.outbox.error(rid, codes.PARSE_ERROR, f"Parse error: {exc}", batch)
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
        self.inflight[rid] = Inflight(method, batch, terms)
        if batch is not None:
            batch.open_ids.add(rid)
        own = method in self.answers_itself
        if own and self.rules.handle_own_request(rid, method, params, events):
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
        events.append(
            RequestReceived(rid, method, params, token, request_info, terms, self.reply, self.peer)
        )

    def _refuse_reused(self, rid: RequestId, batch: Batch | None) -> None:
        """Refuse a request whose id is in flight: related to no request, since the id belongs
        to the one in flight, whose stream this refusal must neither join nor end."""
        reused = f"Invalid Request: request id {rid!r} is already in use"
        self.outbox.error(rid, codes.INVALID_REQUEST, reused, batch, routed=False)

    def _refuse(
        self, rid: RequestId, env: Envelope, refusal: McpError, batch: Batch | None
    ) -> None:
        """Answer a request refused before it started; a request that names a revision we do
        not speak is told that instead (`rules.revision_refusal`)."""
        refusal = self.rules.revision_refusal(env.params) or refusal
        self.outbox.error(rid, refusal.code, refusal.message, batch, data=refusal.data)

    def receive_cancelled(
        self, params: CancelledNotificationParams, events: list[Event], *, forwarded: bool = False
    ) -> None:
        """The peer's `notifications/cancelled`: the request it names ends unanswered."""
        rid = params.request_id
        entry = self.inflight.get(rid) if rid is not None else None
        # basic/utilities/cancellation, Behavior Requirements: initialize MUST NOT be
        # cancelled, and a receiver MAY ignore a request it does not know or has answered.
        if rid is None or entry is None or entry.method == "initialize":
            if rid is not None and entry is None and not forwarded:
                # Unknown here: perhaps another process serves it (a shared broker's to say).
                events.append(StrayCancel(rid, params.reason))
            return  # unknown, finished, or not cancellable: ignore (cancellation, Behavior)
        # A cancelled request gets no response (the same section's SHOULD): out of flight
        # now, so the handler's late answer is dropped by `send_response`.
        self.finish(rid, entry)
        # A batch member's end is told by the array (`finish` closes it); only a lone request
        # needs its own empty final message.
        if entry.batch is None:
            self.outbox.unanswered(rid)
        events.append(RequestCancelled(rid, params.reason))

    def cancel_forwarded(self, request_id: RequestId, reason: str | None) -> list[Event]:
        """The peer's `notifications/cancelled` for `request_id`, received by another
        process serving this session: as if it had come here (never handed on again)."""
        events: list[Event] = []
        params = CancelledNotificationParams(request_id=request_id, reason=reason)
        self.receive_cancelled(params, events, forwarded=True)
        return events

    def send_response(self, request_id: RequestId, result: Any) -> None:
        """Answer an inbound request: queued in the outbox. Dropped if it was cancelled or
        already answered."""
        alone = self.answer(request_id, result)
        if alone is not None:
            self.outbox.items.append(alone)

    def answer(self, request_id: RequestId, result: Any) -> Outgoing | None:
        """Answer an inbound request, as `send_response` does, but hand the answer back
        rather than queue it when it is all there is to send (nothing queued before it, no
        batch's array to join): the caller sends it. None when it was queued (behind what
        was), joined its batch's array, or was dropped (cancelled, or already answered)."""
        # Out of flight before the answer is made: whatever comes for the request after
        # this (a second answer, progress, the peer's cancellation) finds it ended and is
        # dropped, so it never gets a second final message.
        entry = self._end(request_id)
        if entry is None:
            return None
        # Results are built with the 2025-era types: the latest revision's need no shaping
        # (`Session.encode_answer`'s first rule, asked here without its call).
        terms = entry.terms
        if terms is not None and terms.revision == LATEST_REVISION:
            data = jsonrpc.encode_response(request_id, result)
        else:
            data = self.rules.encode_answer(request_id, result, entry.method, terms)
        outbox = self.outbox
        if entry.batch is None and not outbox.items:
            return Outgoing(data, request_id, True)
        outbox.answer(request_id, data, entry.batch)
        return None

    def send_error(self, request_id: RequestId, error: McpError) -> None:
        """Answer an inbound request with `error`. Dropped if it was cancelled or already
        answered (out of flight first, as in `send_response`)."""
        entry = self._end(request_id)
        if entry is None:
            return
        self.outbox.answer(request_id, error_answer(request_id, error, entry.terms), entry.batch)

    def send_progress(
        self,
        request_id: RequestId,
        token: RequestId,
        progress: float,
        total: float | None = None,
        message: str | None = None,
    ) -> None:
        """Report progress on an inbound request that asked for it with `token`."""
        entry = self.inflight.get(request_id)
        if entry is None:
            return  # progress MUST stop after completion (basic/utilities/progress)
        params = progress_params(entry.last_progress, token, progress, total, message)
        entry.last_progress = progress
        # Related to the request, so it travels with it (on the POST's stream over HTTP).
        data = jsonrpc.encode_notification("notifications/progress", params)
        self.outbox.send(data, request_id)

    def _end(self, request_id: RequestId) -> Inflight | None:
        """Take `request_id` out of flight: its entry, or None if it was not in flight. With
        the last one out the table goes too, rather than stay sized for one request in every
        idle session (docs/performance.md, "What an idle session holds")."""
        inflight = self.inflight
        entry = inflight.pop(request_id, None)
        if not inflight:
            inflight.clear()
        return entry

    def is_inflight(self, request_id: RequestId) -> bool:
        """Whether the peer's request `request_id` is still served (not answered or cancelled)."""
        return request_id in self.inflight

    def finish(self, rid: RequestId, entry: Inflight) -> None:
        """The peer's request `rid` ends unanswered (cancelled): forget it, and send its
        batch's array if it was the last member the array waited for."""
        self._end(rid)
        if entry.batch is not None:
            self.outbox.close(rid, entry.batch)


def error_answer(request_id: RequestId, error: McpError, terms: Terms[Any] | None) -> bytes:
    """The error response to the peer's request `request_id`, served under `terms`."""
    code = answered_code(error.code, terms)
    return jsonrpc.encode_error(request_id, code, error.message, error.data)


def answered_code(code: int, terms: Terms[Any] | None) -> int:
    """The code an error of `code` is answered with under `terms`: 2026-07-28 basic/index,
    Error Codes: -32002 is no longer emitted; a resource not found is Invalid Params.
    (Handlers raise one error for both eras; what reports one otherwise says the same.)"""
    if code == codes.RESOURCE_NOT_FOUND and terms is not None:
        if terms.revision in MODERN_REVISIONS:
            return codes.INVALID_PARAMS
    return code


def progress_params(
    last: float | None,
    token: RequestId,
    progress: float,
    total: float | None,
    message: str | None,
) -> ProgressNotificationParams:
    """The params of a progress notification that follows one of `last` (None: the first)."""
    # basic/utilities/progress: the value MUST increase with each notification, total
    # known or not. A handler that reports otherwise has a bug: raised, never sent.
    if last is not None and progress <= last:
        raise LocalProtocolError(
            f"progress must increase with each notification ({progress} after {last})"
        )
    return ProgressNotificationParams(
        progress_token=token, progress=progress, total=total, message=message
    )
