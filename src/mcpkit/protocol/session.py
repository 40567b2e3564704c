"""The session core shared by both roles: the peer's requests we serve, and batches.

`Session` turns inbound bytes into events and our calls into outgoing messages, with no I/O
and no clock (the runtime drives it: `mcpkit.runtime.connection`). It is made of two halves:
this module serves what the peer sends (requests, notifications, cancellation of its
requests, JSON-RPC batches), and `requesting.Requesting` sends our requests and takes what
answers them. The role subclasses in `lifecycle` add the handshake and the capability rules.

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
from typing import Any, Final, cast

import msgspec

from mcpkit.errors import LocalProtocolError, McpError, PeerError
from mcpkit.protocol import codes, jsonrpc
from mcpkit.protocol.events import (
    ErrorReceived,
    Event,
    NotificationReceived,
    RequestCancelled,
    RequestInfo,
    RequestReceived,
)
from mcpkit.protocol.ids import RequestIds, process_request_ids
from mcpkit.protocol.jsonrpc import Envelope, Malformed
from mcpkit.protocol.limits import DEFAULT_MAX_MESSAGE_SIZE, MAX_JSON_DEPTH
from mcpkit.protocol.outbox import Batch, BodyRead, Outbox, Outgoing
from mcpkit.protocol.pending import PendingRequests
from mcpkit.protocol.requesting import Requesting
from mcpkit.protocol.shapes import shape_for_revision
from mcpkit.protocol.terms import Terms
from mcpkit.types import CancelledNotificationParams, ProgressNotificationParams, RequestId
from mcpkit.types.methods import LATEST_REVISION, MethodInfo, methods_for

# DEFAULT_MAX_MESSAGE_SIZE and MAX_JSON_DEPTH are defined in `limits`, and named here too
# because the session is where they apply.
__all__ = ["DEFAULT_MAX_INFLIGHT", "DEFAULT_MAX_MESSAGE_SIZE", "MAX_JSON_DEPTH", "Session"]

#: The peer's requests we serve at once; past it they are answered -32603 at once.
DEFAULT_MAX_INFLIGHT: Final = 1024
_BATCH_REVISION: Final = "2025-03-26"  # the only revision whose schema has JSON-RPC batches


class _Inflight:
    __slots__ = ("batch", "last_progress", "method")

    def __init__(self, method: str, batch: Batch | None) -> None:
        self.method = method
        self.batch = batch
        self.last_progress: float | None = None


class Session(Requesting):
    """Sans-I/O JSON-RPC session for one MCP connection (either role)."""

    #: Methods answered by this role (the peer sends them to us).
    inbound_direction: str = ""

    def __init__(
        self,
        *,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        max_json_depth: int = MAX_JSON_DEPTH,
        max_inflight: int = DEFAULT_MAX_INFLIGHT,
        param_types: Mapping[str, type] | None = None,
        result_types: Mapping[str, type] | None = None,
        request_ids: RequestIds | None = None,
    ) -> None:
        if max_json_depth < 1:
            raise ValueError(f"max_json_depth must be at least 1, not {max_json_depth}")
        self.max_message_size = max_message_size
        #: Messages nesting arrays and objects deeper than this are refused (see `limits`).
        self.max_json_depth = max_json_depth
        #: Our request methods whose results decode into a subclass of the schema's type
        #: (one with conveniences for the caller, say).
        self.result_types: Mapping[str, type] = result_types or {}
        #: Inbound request methods whose params decode into another type than the schema's:
        #: a subclass that keeps part of them as raw JSON, say, for the handler to decode.
        self.param_types: Mapping[str, type] = param_types or {}
        self.max_inflight = max_inflight
        #: What the handshake settled (revision, the peer's info and capabilities), which
        #: each request of the session is served under; None before (see `terms`).
        self.terms: Terms[Any] | None = None
        self._methods: Mapping[str, MethodInfo] = methods_for(LATEST_REVISION)
        #: Where our requests' ids come from: the process's source unless given another
        #: (see `mcpkit.protocol.ids`), so an id is never reused by another session.
        self.request_ids = request_ids or process_request_ids()
        #: Our requests awaiting the peer's answer (`mcpkit.protocol.pending`).
        self._pending = PendingRequests()
        #: The peer's requests we are serving: answered at most once, cancellable until then.
        self._inflight: dict[RequestId, _Inflight] = {}
        #: What we have to send, tagged with where it belongs (`mcpkit.protocol.outbox`).
        self._outbox = Outbox()

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
        return self._pending.max_kept

    @max_kept_progress.setter
    def max_kept_progress(self, n: int) -> None:
        self._pending.max_kept = n

    def settle(self, terms: Terms[Any]) -> None:
        """Take `terms` as the session's: its revision decides which methods exist (a method
        the revision lacks is answered -32601) and how results are shaped."""
        self._methods = methods_for(terms.revision)
        self.terms = terms

    # ----------------------------------------------------------------- inbound

    def receive_body(self, data: bytes, info: RequestInfo | None = None) -> BodyRead:
        """`receive_data`, and which requests the body started (see `BodyRead`)."""
        mark = len(self._outbox.items)
        events = self.receive_data(data, info)
        started = [ev.request_id for ev in events if type(ev) is RequestReceived]
        answered, refused = self._outbox.split_body(mark)  # ping, initialize, refusals
        started += answered
        return BodyRead(events, started, refused)

    def receive_data(self, data: bytes, info: RequestInfo | None = None) -> list[Event]:
        """Take one message (object or batch) from the peer; return what happened. `info`,
        what the transport knew about it, goes on each `RequestReceived` as `request_info`.

        Never raises, whatever the bytes: what cannot be read is answered with the JSON-RPC
        error it calls for (or fails our request, if it answers one), and the session goes on.
        """
        events: list[Event] = []
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
        # A short ASCII message (most) can be neither invalid UTF-8 nor too deep: no call.
        if len(data) > self.max_json_depth or not data.isascii():
            bad = jsonrpc.check_bytes(data, self.max_json_depth)
        else:
            bad = None
        if bad is not None:
            self._refused(bad, events)
        elif jsonrpc.is_batch(data):
            self._receive_batch(data, events, info)
        else:
            env = jsonrpc.decode_message(data)
            if isinstance(env, Malformed):
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
        pending = self._pending.take(rid) if rid is not None else None
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
            if isinstance(env, Malformed):
                self._refused(env, events, batch)
            else:
                self._receive_envelope(env, events, batch, info)
        batch.sealed = True
        if not batch.open_ids:
            self._outbox.flush(batch)

    def _receive_envelope(
        self, env: Envelope, events: list[Event], batch: Batch | None, info: RequestInfo | None
    ) -> None:
        kind = jsonrpc.classify(env)
        if isinstance(kind, Malformed):
            self._refused(kind, events, batch)
        elif kind == "request":
            self._receive_request(env, events, batch, info)
        elif kind == "notification":
            self._receive_notification(env, events)
        else:
            self._receive_response(env, events)

    def _receive_request(
        self,
        env: Envelope,
        events: list[Event],
        batch: Batch | None,
        request_info: RequestInfo | None,
    ) -> None:
        rid: RequestId = env.id  # type: ignore[assignment]  # classify() checked it
        method: str = env.method  # type: ignore[assignment]
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
        info = self._methods.get(method)
        if info is None or info.kind != "request" or self.inbound_direction not in info.direction:
            unknown = McpError(codes.METHOD_NOT_FOUND, f"Method not found: {method}")
            self._refuse(rid, env, unknown, batch)
            return
        refusal = self._check_inbound_request(method)
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
        try:
            params = jsonrpc.decode_part(self.param_types.get(method, info.params), env.params)
        except msgspec.ValidationError as exc:
            self._outbox.error(
                rid, codes.INVALID_PARAMS, f"Invalid params for {method}: {exc}", batch
            )
            return
        except msgspec.DecodeError as exc:  # pragma: no cover - the envelope already parsed
            self._outbox.error(rid, codes.PARSE_ERROR, f"Parse error: {exc}", batch)
            return
        self._start_request(rid, method, params, events, batch, request_info)

    def _start_request(
        self,
        rid: RequestId,
        method: str,
        params: Any,
        events: list[Event],
        batch: Batch | None,
        request_info: RequestInfo | None,
    ) -> None:
        self._inflight[rid] = _Inflight(method, batch)
        if batch is not None:
            batch.open_ids.add(rid)
        if self._handle_own_request(rid, method, params, events):
            if batch is not None and batch.answered is None:
                batch.answered = rid
            return
        if batch is not None and batch.route is None:
            batch.route = rid
        meta = getattr(params, "meta", None)
        token = (
            cast("dict[str, Any]", meta).get("progressToken") if isinstance(meta, dict) else None
        )
        if isinstance(token, bool) or not isinstance(token, (int, str)):
            token = None
        events.append(RequestReceived(rid, method, params, token, request_info, self.terms))

    def _handle_own_request(
        self, rid: RequestId, method: str, params: Any, events: list[Event]
    ) -> bool:
        """Answer requests the session serves itself (ping; initialize in the server role)."""
        if method == "ping":
            self.send_response(rid, {})
            return True
        return False

    def _refuse(
        self, rid: RequestId, env: Envelope, refusal: McpError, batch: Batch | None
    ) -> None:
        refusal = self._revision_refusal(env.params) or refusal
        self._outbox.error(rid, refusal.code, refusal.message, batch, data=refusal.data)

    def _revision_refusal(self, params: msgspec.Raw | msgspec.UnsetType) -> McpError | None:
        """The answer to a refused request that names, in its `_meta`, a revision this side
        does not speak (a 2026-07-28 request to a 2025-era session); None to keep the refusal.
        Only refused requests are looked at, so the answer a served request gets never costs
        a second decode."""
        return None

    def _check_inbound_request(self, method: str) -> McpError | None:
        """The role's lifecycle and capability rules; None lets the request through."""
        return None

    def _receive_notification(self, env: Envelope, events: list[Event]) -> None:
        method: str = env.method  # type: ignore[assignment]
        info = self._methods.get(method)
        if info is None or info.kind != "notification":
            return  # JSON-RPC: notifications are never answered, unknown ones are dropped
        try:
            params = jsonrpc.decode_part(info.params, env.params)
        except msgspec.ValidationError:
            return  # invalid notifications SHOULD be ignored (basic/utilities/cancellation)
        if method == "notifications/cancelled":
            self._receive_cancelled(params, events)
        elif method == "notifications/progress":
            self._receive_progress(params, events)
        elif not self._handle_own_notification(method, params, events):
            events.append(NotificationReceived(method, params))

    def _handle_own_notification(self, method: str, params: Any, events: list[Event]) -> bool:
        return False

    def _receive_cancelled(self, params: CancelledNotificationParams, events: list[Event]) -> None:
        rid = params.request_id
        entry = self._inflight.get(rid) if rid is not None else None
        if rid is None or entry is None or entry.method == "initialize":
            return  # unknown, finished, or not cancellable: ignore (cancellation, Behavior)
        self._finish_inflight(rid, entry)
        if entry.batch is None:
            self._outbox.unanswered(rid)
        events.append(RequestCancelled(rid, params.reason))

    def send_response(self, request_id: RequestId, result: Any) -> None:
        """Answer an inbound request. Dropped if it was cancelled or already answered."""
        entry = self._inflight.pop(request_id, None)
        if entry is None:
            return
        terms = self.terms
        if terms is not None and terms.revision != LATEST_REVISION:
            result = shape_for_revision(result, terms.revision)
        data = jsonrpc.encode_response(request_id, result)
        if entry.batch is None:  # (`Outbox.answer`'s common case, inlined: the hot path)
            self._outbox.items.append(Outgoing(data, request_id, True))
        else:
            self._outbox.answer(request_id, data, entry.batch)

    def send_error(self, request_id: RequestId, error: McpError) -> None:
        entry = self._inflight.pop(request_id, None)
        if entry is None:
            return
        data = jsonrpc.encode_error(request_id, error.code, error.message, error.data)
        self._outbox.answer(request_id, data, entry.batch)

    def send_progress(
        self,
        request_id: RequestId,
        token: RequestId,
        progress: float,
        total: float | None = None,
        message: str | None = None,
    ) -> None:
        """Report progress on an inbound request that asked for it with `token`."""
        entry = self._inflight.get(request_id)
        if entry is None:
            return  # progress MUST stop after completion (basic/utilities/progress)
        if entry.last_progress is not None and progress <= entry.last_progress:
            raise LocalProtocolError(
                f"progress must increase with each notification ({progress} after "
                f"{entry.last_progress})"
            )
        entry.last_progress = progress
        params = ProgressNotificationParams(
            progress_token=token, progress=progress, total=total, message=message
        )
        self.send_notification("notifications/progress", params, related=request_id)

    def data_to_send(self) -> list[Outgoing]:
        """Take everything queued for sending, in order."""
        outbox = self._outbox  # (`Outbox.take`, inlined: called after every message)
        out = outbox.items
        outbox.items = []
        return out

    def is_inflight(self, request_id: RequestId) -> bool:
        return request_id in self._inflight

    # ----------------------------------------------------------------- helpers

    def _finish_inflight(self, rid: RequestId, entry: _Inflight) -> None:
        """The peer's request `rid` ends unanswered (cancelled): forget it, and send its
        batch's array if it was the last member the array waited for."""
        self._inflight.pop(rid, None)
        if entry.batch is not None:
            self._outbox.close(rid, entry.batch)
