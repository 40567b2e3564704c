"""The session core shared by both roles: correlation, cancellation, progress, deadlines, batches.

`Session` turns inbound bytes into events and our calls into outgoing messages. The role
subclasses in `lifecycle` add the handshake and capability rules. Each outgoing message is
tagged once with the request it answers or relates to (`Outgoing.related`, and `final` on
the answer), so a transport routes it without re-correlating; `receive_body` also says which
requests one received body started (Streamable HTTP answers a POST by that).
"""

from __future__ import annotations

import functools
import heapq
import importlib
from collections.abc import Mapping
from typing import Any, Final, cast

import msgspec

from mcpkit.errors import LocalProtocolError, McpError, PeerError
from mcpkit.protocol import codes, jsonrpc
from mcpkit.protocol.capabilities import task_params
from mcpkit.protocol.events import (
    ErrorReceived,
    Event,
    NotificationReceived,
    ProgressReceived,
    RequestCancelled,
    RequestInfo,
    RequestReceived,
    RequestTimedOut,
    ResponseReceived,
    StrayResponse,
)
from mcpkit.protocol.ids import RequestIds, process_request_ids
from mcpkit.protocol.jsonrpc import Envelope, Malformed
from mcpkit.protocol.limits import DEFAULT_MAX_MESSAGE_SIZE, MAX_JSON_DEPTH
from mcpkit.protocol.terms import Terms
from mcpkit.types import (
    CancelledNotificationParams,
    CreateTaskResult,
    ProgressNotificationParams,
    RequestId,
)
from mcpkit.types.methods import LATEST_REVISION, MethodInfo, methods_for

# DEFAULT_MAX_MESSAGE_SIZE and MAX_JSON_DEPTH are defined in `limits`, and named here too
# because the session is where they apply.
__all__ = [
    "DEFAULT_MAX_INFLIGHT",
    "MAX_KEPT_PROGRESS",
    "MAX_TASK_ID_LENGTH",
    "DEFAULT_MAX_MESSAGE_SIZE",
    "MAX_JSON_DEPTH",
    "BodyRead",
    "Outgoing",
    "Session",
    "shape_for_revision",
]

DEFAULT_MAX_INFLIGHT: Final = 1024
#: Progress tokens kept past a `CreateTaskResult` answer (basic/utilities/tasks, "Task
#: Progress Notifications": the token stays valid for the task's lifetime). A requestor that
#: never says its tasks ended must not grow us: past this many the oldest are dropped.
MAX_KEPT_PROGRESS: Final = 256
#: Task ids longer than this are not kept for progress (clients refuse them as hostile: an id
#: is sent back in every tasks/get, so a megabyte one would cost a megabyte per poll).
MAX_TASK_ID_LENGTH: Final = 1024
_EMPTY: Final = b"{}"
_BATCH_REVISION: Final = "2025-03-26"  # the only revision whose schema has JSON-RPC batches

_decoders: dict[Any, msgspec.json.Decoder[Any]] = {}


def _decode(tp: Any, raw: bytes | msgspec.Raw) -> Any:
    """Decode params or a result (raw parts of a message that passed `check_bytes`)."""
    dec = _decoders.get(tp)
    if dec is None:
        dec = _decoders[tp] = msgspec.json.Decoder(tp)
    try:
        return dec.decode(raw)
    except RecursionError:
        # Only when max_json_depth is set above what this interpreter's stack allows.
        raise msgspec.ValidationError(
            "nested too deeply to decode (max_json_depth is set above what this interpreter allows)"
        ) from None


class Outgoing(msgspec.Struct):
    """One message to send, and where it belongs (basic/transports, Streamable HTTP: a
    POST's stream carries the answer and the messages related to its request; the rest go
    on the GET stream).

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


class _Pending:
    __slots__ = ("deadline", "method", "progress_token", "related", "result_type")

    def __init__(
        self,
        method: str,
        result_type: Any,
        deadline: float | None,
        progress_token: RequestId | None,
        related: RequestId | None,
    ) -> None:
        self.method = method
        self.result_type = result_type
        self.deadline = deadline
        self.progress_token = progress_token
        self.related = related


class _Inflight:
    __slots__ = ("batch", "last_progress", "method")

    def __init__(self, method: str, batch: _Batch | None) -> None:
        self.method = method
        self.batch = batch
        self.last_progress: float | None = None


class _Batch:
    """Responses to one inbound batch, sent together as one array once all are in."""

    __slots__ = ("answered", "open_ids", "parts", "route", "sealed")

    def __init__(self) -> None:
        self.open_ids: set[RequestId] = set()
        self.parts: list[bytes] = []
        self.sealed = False  # set once every member of the batch has been read
        #: The id the array is related to: the first request handed out as RequestReceived
        #: (the array may go long after the body was read, and `receive_body` reported that
        #: id); else the first answered by the session itself (then the array goes at once).
        self.route: RequestId | None = None
        self.answered: RequestId | None = None

    def related(self) -> RequestId | None:
        return self.route if self.route is not None else self.answered


class Session:
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
        self._pending: dict[RequestId, _Pending] = {}
        #: (deadline, tiebreak, request id): the tiebreak keeps equal deadlines from
        #: comparing ids, which may be ints and strings in one heap if the prefix changes.
        self._deadlines: list[tuple[float, int, RequestId]] = []
        self._deadline_seq = 0  # (an int, not an itertools.count: 48 bytes less a session)
        self._inflight: dict[RequestId, _Inflight] = {}
        self._progress: dict[RequestId, RequestId] = {}  # our progress token -> our request id
        #: task id -> the progress token of the request that created it (see `keep_progress`)
        self._kept_progress: dict[str, RequestId] = {}
        self.max_kept_progress = MAX_KEPT_PROGRESS
        self._outbox: list[Outgoing] = []
        #: Set by a runtime whose channel routes by request: a request that ends without an
        #: answer (cancelled by the peer) then gets an empty final `Outgoing`, so its stream
        #: can end.
        self.mark_unanswered = False

    @property
    def revision(self) -> str | None:
        """The revision the session speaks, once settled."""
        terms = self.terms
        return None if terms is None else terms.revision

    def settle(self, terms: Terms[Any]) -> None:
        """Take `terms` as the session's: its revision decides which methods exist (a method
        the revision lacks is answered -32601) and how results are shaped."""
        self._methods = methods_for(terms.revision)
        self.terms = terms

    # ----------------------------------------------------------------- inbound

    def receive_body(self, data: bytes, info: RequestInfo | None = None) -> BodyRead:
        """`receive_data`, and which requests the body started (see `BodyRead`)."""
        outbox = self._outbox
        mark = len(outbox)
        events = self.receive_data(data, info)
        started = [ev.request_id for ev in events if type(ev) is RequestReceived]
        refused: list[bytes] = []
        if len(outbox) > mark:  # answered at once: ping, initialize, refusals
            kept = outbox[:mark]
            for item in outbox[mark:]:
                if item.final:
                    related = item.related
                    if related is None:
                        refused.append(item.data)
                        continue
                    if item.data:  # (empty: the end of a request an earlier body started)
                        started.append(related)
                kept.append(item)
            self._outbox = kept
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

    def _refused(self, bad: Malformed, events: list[Event], batch: _Batch | None = None) -> None:
        """A message we cannot use: a request (or what may be one) gets the error, under its
        id if it could be read; a response fails our request at once rather than leaving it
        to time out, and gets no reply (JSON-RPC 2.0, section 5: only a request is answered)."""
        if not bad.response:
            self._reply_malformed(bad, batch)
            return
        rid = bad.id
        pending = self._take_pending(rid) if rid is not None else None
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
            self._reply_malformed(
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
        batch = _Batch()
        for item in items:
            env = jsonrpc.decode_message(item)
            if isinstance(env, Malformed):
                self._refused(env, events, batch)
            else:
                self._receive_envelope(env, events, batch, info)
        batch.sealed = True
        if not batch.open_ids:
            self._flush_batch(batch)

    def _receive_envelope(
        self, env: Envelope, events: list[Event], batch: _Batch | None, info: RequestInfo | None
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
        batch: _Batch | None,
        request_info: RequestInfo | None,
    ) -> None:
        rid: RequestId = env.id  # type: ignore[assignment]  # classify() checked it
        method: str = env.method  # type: ignore[assignment]
        if rid in self._inflight:
            # Related to no request: the id belongs to the one in flight, whose stream this
            # refusal must neither join nor end.
            self._reply_error(
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
            self._reply_error(
                rid,
                codes.INTERNAL_ERROR,
                f"Too many requests in flight (limit {self.max_inflight})",
                batch,
            )
            return
        try:
            params = _decode(
                self.param_types.get(method, info.params),
                env.params if env.params is not msgspec.UNSET else _EMPTY,
            )
        except msgspec.ValidationError as exc:
            self._reply_error(
                rid, codes.INVALID_PARAMS, f"Invalid params for {method}: {exc}", batch
            )
            return
        except msgspec.DecodeError as exc:  # pragma: no cover - the envelope already parsed
            self._reply_error(rid, codes.PARSE_ERROR, f"Parse error: {exc}", batch)
            return
        self._start_request(rid, method, params, events, batch, request_info)

    def _start_request(
        self,
        rid: RequestId,
        method: str,
        params: Any,
        events: list[Event],
        batch: _Batch | None,
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
        self, rid: RequestId, env: Envelope, refusal: McpError, batch: _Batch | None
    ) -> None:
        refusal = self._revision_refusal(env.params) or refusal
        self._reply_error(rid, refusal.code, refusal.message, batch, data=refusal.data)

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
            params = _decode(info.params, env.params if env.params is not msgspec.UNSET else _EMPTY)
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
        if self.mark_unanswered and entry.batch is None:
            self._outbox.append(Outgoing(b"", rid, True))
        events.append(RequestCancelled(rid, params.reason))

    def _receive_progress(self, params: ProgressNotificationParams, events: list[Event]) -> None:
        rid = self._progress.get(params.progress_token)  # pending, or kept for a task
        if rid is None:
            return
        events.append(ProgressReceived(rid, params.progress, params.total, params.message))

    def _receive_response(self, env: Envelope, events: list[Event]) -> None:
        rid = env.id
        if not isinstance(rid, (int, str)):
            return
        pending = self._pending.pop(rid, None)
        if pending is None:
            # Not ours to decode: a late answer to a request we gave up, or (sessions shared
            # by several processes) one another process awaits. Reported, never answered
            # (JSON-RPC 2.0, section 5: only a request gets a reply). Re-encoded: a batch
            # member has no bytes of its own.
            events.append(StrayResponse(rid, msgspec.json.encode(env)))
            return
        token = pending.progress_token
        result: Any = None
        if env.error is not msgspec.UNSET:
            err = env.error
            events.append(ErrorReceived(rid, PeerError(err.code, err.message, err.data)))
        else:
            try:
                result = _decode(pending.result_type, env.result)  # type: ignore[arg-type]
            except msgspec.ValidationError as exc:
                events.append(
                    ErrorReceived(
                        rid,
                        PeerError(
                            codes.INVALID_PARAMS, f"Invalid result for {pending.method}: {exc}"
                        ),
                    )
                )
            else:
                self._on_result(rid, pending.method, result, events)
        if token is not None and not (
            isinstance(result, CreateTaskResult) and self._keep_progress(token, result.task.task_id)
        ):
            self._progress.pop(token, None)

    def _keep_progress(self, token: RequestId, task_id: str) -> bool:
        """Keep the progress token of a request answered with a `CreateTaskResult`: "The
        progressToken provided in the initial request remains valid throughout the task
        lifetime" (basic/utilities/tasks) - until `release_task_progress`, or until
        `max_kept_progress` newer ones push it out."""
        if len(task_id) > MAX_TASK_ID_LENGTH:
            return False
        old = self._kept_progress.pop(task_id, None)
        if old is not None:  # a peer reusing a task id: the newer request's progress wins
            self._progress.pop(old, None)
        self._kept_progress[task_id] = token
        while len(self._kept_progress) > self.max_kept_progress:
            oldest = next(iter(self._kept_progress))
            self._progress.pop(self._kept_progress.pop(oldest), None)
        return True

    def release_task_progress(self, task_id: str) -> RequestId | None:
        """Stop taking progress for the task `task_id` (it ended, or its requestor forgot
        it); returns the id of the request that created it, or None if none was kept."""
        token = self._kept_progress.pop(task_id, None)
        if token is None:
            return None
        return self._progress.pop(token, None)

    def has_progress(self, request_id: RequestId) -> bool:
        """Whether progress for one of our requests is still taken: pending, or kept because
        it created a task (our progress tokens are our request ids)."""
        return request_id in self._progress

    def _on_result(self, rid: RequestId, method: str, result: Any, events: list[Event]) -> None:
        events.append(ResponseReceived(rid, result))

    # ---------------------------------------------------------------- outbound

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
        self._check_outbound_request(method, params)
        rid = self.request_ids.next()
        token: RequestId | None = None
        if progress:
            token = rid
            params = _with_progress_token(params, token)
            self._progress[token] = rid
        if result_type is None:
            if info.task_augmented and task_params(params) is not None:
                result_type = CreateTaskResult
            else:
                result_type = self.result_types.get(method, info.result)
        self._pending[rid] = _Pending(method, result_type, deadline, token, related)
        if deadline is not None:
            self._deadline_seq += 1
            heapq.heappush(self._deadlines, (deadline, self._deadline_seq, rid))
        self._outbox.append(Outgoing(jsonrpc.encode_request(rid, method, params), related))
        return rid

    def _check_outbound_request(self, method: str, params: Any) -> None:
        """Raise LocalProtocolError if the lifecycle or the peer's capabilities forbid it."""

    def check_outbound_request(self, method: str, params: Any = None) -> None:
        """Raise LocalProtocolError now if `send_request(method, params)` would (for a request
        that is sent later, as a task's requests are)."""
        self._check_outbound_request(method, params)

    def send_notification(
        self, method: str, params: Any = None, *, related: RequestId | None = None
    ) -> None:
        self._outbox.append(Outgoing(jsonrpc.encode_notification(method, params), related))

    def send_response(self, request_id: RequestId, result: Any) -> None:
        """Answer an inbound request. Dropped if it was cancelled or already answered."""
        entry = self._inflight.pop(request_id, None)
        if entry is None:
            return
        if self.revision is not None and self.revision != LATEST_REVISION:
            result = shape_for_revision(result, self.revision)
        self._emit(request_id, jsonrpc.encode_response(request_id, result), entry.batch)

    def send_error(self, request_id: RequestId, error: McpError) -> None:
        entry = self._inflight.pop(request_id, None)
        if entry is None:
            return
        data = jsonrpc.encode_error(request_id, error.code, error.message, error.data)
        self._emit(request_id, data, entry.batch)

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

    def _take_pending(self, request_id: RequestId) -> _Pending | None:
        """Forget one of our requests (answered, failed or given up) and its progress token."""
        pending = self._pending.pop(request_id, None)
        if pending is not None and pending.progress_token is not None:
            self._progress.pop(pending.progress_token, None)
        return pending

    def is_pending(self, request_id: RequestId) -> bool:
        """Whether one of our requests still awaits its response."""
        return request_id in self._pending

    def cancel_request(self, request_id: RequestId, reason: str | None = None) -> None:
        """Give up on one of our requests: tell the peer, and ignore any late response."""
        pending = self._take_pending(request_id)
        if pending is None:
            return
        if pending.method == "initialize":
            return  # the initialize request MUST NOT be cancelled (basic/utilities/cancellation)
        params = CancelledNotificationParams(request_id=request_id, reason=reason)
        self.send_notification("notifications/cancelled", params, related=pending.related)

    def restart_deadline(self, request_id: RequestId, deadline: float) -> None:
        """Give one of our pending requests a new deadline (on progress, say: the spec lets
        a sender reset its timeout when the receiver shows it is working)."""
        pending = self._pending.get(request_id)
        if pending is None or pending.deadline is None:
            return
        pending.deadline = deadline
        self._deadline_seq += 1
        heapq.heappush(self._deadlines, (deadline, self._deadline_seq, request_id))

    def next_deadline(self) -> float | None:
        """The earliest deadline among our pending requests, for the driver's timer."""
        while self._deadlines:
            deadline, _, rid = self._deadlines[0]
            pending = self._pending.get(rid)
            if pending is not None and pending.deadline == deadline:
                return deadline
            heapq.heappop(self._deadlines)
        return None

    def expire(self, now: float) -> list[Event]:
        """Time out every pending request whose deadline is at or before `now`."""
        events: list[Event] = []
        while (deadline := self.next_deadline()) is not None and deadline <= now:
            _, _, rid = heapq.heappop(self._deadlines)
            self.cancel_request(rid, "request timed out")
            events.append(RequestTimedOut(rid))
        return events

    def data_to_send(self) -> list[Outgoing]:
        """Take everything queued for sending, in order."""
        out = self._outbox
        self._outbox = []
        return out

    def is_inflight(self, request_id: RequestId) -> bool:
        return request_id in self._inflight

    # ----------------------------------------------------------------- helpers

    def _finish_inflight(self, rid: RequestId, entry: _Inflight) -> None:
        self._inflight.pop(rid, None)
        batch = entry.batch
        if batch is not None:
            batch.open_ids.discard(rid)
            if batch.sealed and not batch.open_ids:
                self._flush_batch(batch)

    def _emit(self, rid: RequestId, data: bytes, batch: _Batch | None) -> None:
        if batch is None:
            self._outbox.append(Outgoing(data, rid, True))
            return
        batch.parts.append(data)
        batch.open_ids.discard(rid)
        if batch.sealed and not batch.open_ids:
            self._flush_batch(batch)

    def _flush_batch(self, batch: _Batch) -> None:
        if batch.parts:
            data = b"[" + b",".join(batch.parts) + b"]"
            self._outbox.append(Outgoing(data, batch.related(), True))
            batch.parts = []
        elif self.mark_unanswered and batch.route is not None:
            self._outbox.append(Outgoing(b"", batch.route, True))  # every member was cancelled

    def _reply_error(
        self,
        rid: RequestId,
        code: int,
        message: str,
        batch: _Batch | None,
        *,
        routed: bool = True,
        data: Any = None,
    ) -> None:
        data = jsonrpc.encode_error(rid, code, message, data)
        if batch is None:
            self._outbox.append(Outgoing(data, rid if routed else None, True))
            return
        batch.parts.append(data)
        if routed and batch.answered is None:
            batch.answered = rid

    def _reply_malformed(self, bad: Malformed, batch: _Batch | None = None) -> None:
        data = jsonrpc.encode_error(bad.id, bad.code, bad.message)
        if batch is None:
            # Related to no request, even when an id could be read: what is not a request
            # started none (its id may even be one in flight), so it answers the body.
            self._outbox.append(Outgoing(data, None, True))
        else:
            batch.parts.append(data)


def _with_progress_token(params: Any, token: RequestId) -> Any:
    """Return params with `_meta.progressToken` set (basic/utilities/progress)."""
    if params is None:
        return {"_meta": {"progressToken": token}}
    if isinstance(params, dict):
        fields = cast("dict[str, Any]", params)
        meta: dict[str, Any] = dict(fields.get("_meta") or {})
        meta["progressToken"] = token
        return {**fields, "_meta": meta}
    meta = dict(getattr(params, "meta", None) or {})
    meta["progressToken"] = token
    return msgspec.structs.replace(params, meta=meta)


@functools.cache
def _revision_module(revision: str) -> Any:
    return importlib.import_module(f"mcpkit.types._gen_{revision.replace('-', '_')}")


def shape_for_revision(result: Any, revision: str) -> Any:
    """A result as the older `revision` knew it: fields it did not have are left out (a
    2024-11-05 client gets no `structuredContent`, no `title`, no `icons`). A result that
    uses a shape the revision cannot express at all (a content type it lacks) goes as it is,
    which such clients ignore or refuse as they would any peer's extension."""
    if not isinstance(result, msgspec.Struct):
        return result
    old = getattr(_revision_module(revision), type(result).__name__, None)
    if old is None or old is type(result):
        return result
    try:
        return msgspec.convert(msgspec.to_builtins(result), old)
    except (msgspec.ValidationError, TypeError):
        return result
