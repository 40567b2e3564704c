"""The requesting half of a session: our requests to the peer, and what comes back for them.

A request we send gets an id from the session's `RequestIds`, an entry in `PendingRequests`
(its result type, its deadline, its progress token) and a place in the outbox. What comes
back is, in the end, exactly one of: its response (`ResponseReceived`), an error
(`ErrorReceived`: the peer's, or ours when the response cannot be decoded), or its deadline
passing (`RequestTimedOut`, and `notifications/cancelled` to the peer). Until then progress
notifications naming its token are reported (`ProgressReceived`). A response to an id nobody
awaits is reported as `StrayResponse`, never answered: JSON-RPC 2.0 (section 5) replies only
to requests.

`Requesting` is one of the two parts a `Session` holds (with `answering.Answering`): it owns
the pending table and sends through the outbox it is handed.
"""

from __future__ import annotations

from typing import Any

import msgspec

from mcpkit.errors import PeerError
from mcpkit.protocol import codes, jsonrpc
from mcpkit.protocol.events import (
    ErrorReceived,
    Event,
    ProgressReceived,
    RequestTimedOut,
    StrayResponse,
)
from mcpkit.protocol.ids import RequestIds
from mcpkit.protocol.jsonrpc import Envelope
from mcpkit.protocol.outbox import Outbox
from mcpkit.protocol.pending import Pending, PendingRequests, with_progress_token
from mcpkit.types import (
    CancelledNotificationParams,
    CreateTaskResult,
    ProgressNotificationParams,
    RequestId,
)

__all__ = ["Requesting"]


class Requesting:
    """Our requests to the peer (`pending`), and the notifications we send, through the
    outbox this is handed; and what comes back for our requests.

    What may be sent (the method's table, the lifecycle and capability rules) is the
    session's to check before `send_request`; what a result means beyond itself (the
    client's handshake) is the session's too: `receive_response` returns the result."""

    __slots__ = ("outbox", "pending", "request_ids")

    def __init__(self, outbox: Outbox, request_ids: RequestIds) -> None:
        #: Our requests awaiting the peer's answer (`mcpkit.protocol.pending`).
        self.pending = PendingRequests()
        #: Where our requests and notifications go (the session's, shared).
        self.outbox = outbox
        #: Where our requests' ids come from (see `mcpkit.protocol.ids`).
        self.request_ids = request_ids

    def receive_progress(self, params: ProgressNotificationParams, events: list[Event]) -> None:
        """The peer's progress on one of our requests (or a task it created)."""
        rid = self.pending.progress_target(params.progress_token)  # pending, or kept
        if rid is None:
            # A token of no active request of ours (it ended, we gave it up, or it never was
            # ours): basic/utilities/progress lets a sender use only active tokens, so the
            # notification is the peer's mistake, and a notification is never answered.
            return
        events.append(ProgressReceived(rid, params.progress, params.total, params.message))

    def receive_response(
        self, env: Envelope, events: list[Event]
    ) -> tuple[RequestId, str, Any] | None:
        """A response or error from the peer: what fails or strays is told in `events`; a
        result decoded for one of our requests is returned (its id, method and result), for
        the session to report."""
        rid = env.id
        if not isinstance(rid, (int, str)):
            # An error under a null id: the peer could not read the id of what it refuses
            # (JSON-RPC 2.0, section 5), so there is no request of ours to fail.
            return None
        # Out of pending before its body is looked at: a response ends the request whatever
        # it holds, so a result we cannot decode fails the request instead of leaving it
        # waiting for its deadline.
        pending = self.pending.answered(rid)
        if pending is None:
            # Not ours to decode: a late answer to a request we gave up, or (sessions shared
            # by several processes) one another process awaits. Reported, never answered
            # (JSON-RPC 2.0, section 5: only a request gets a reply). Re-encoded: a batch
            # member has no bytes of its own.
            events.append(StrayResponse(rid, msgspec.json.encode(env)))
            return None
        decoded = None
        if env.error is not msgspec.UNSET:
            err = env.error
            events.append(ErrorReceived(rid, PeerError(err.code, err.message, err.data)))
        else:
            try:
                result = jsonrpc.decode_part(pending.result_type, env.result)
            # -32602 is our choice: the spec names no code for a result that fails its schema.
            except msgspec.ValidationError as exc:
                why = f"Invalid result for {pending.method}: {exc}"
                events.append(ErrorReceived(rid, PeerError(codes.INVALID_PARAMS, why)))
            else:
                decoded = (rid, pending.method, result)
        # The progress token ends with the request, unless the result created a task: then
        # it stays valid for the task's lifetime (basic/utilities/progress, Behavior
        # Requirements), until `release_task_progress`.
        token = pending.progress_token
        if token is not None and not (
            decoded is not None
            and isinstance(decoded[2], CreateTaskResult)
            and self.pending.keep_progress(token, decoded[2].task.task_id)
        ):
            self.pending.forget_progress(token)
        return decoded

    def release_task_progress(self, task_id: str) -> RequestId | None:
        """Stop taking progress for the task `task_id` (it ended, or its requestor forgot
        it); returns the id of the request that created it, or None if none was kept.
        A request answered with a `CreateTaskResult` keeps its progress token: "The
        progressToken provided in the initial request remains valid throughout the task
        lifetime" (basic/utilities/tasks); `max_kept_progress` bounds how many are kept."""
        return self.pending.release_task_progress(task_id)

    def has_progress(self, request_id: RequestId) -> bool:
        """Whether progress for one of our requests is still taken: pending, or kept because
        it created a task (our progress tokens are our request ids)."""
        return self.pending.has_progress(request_id)

    def send_request(
        self,
        method: str,
        params: Any,
        result_type: Any,
        *,
        deadline: float | None = None,
        progress: bool = False,
        related: RequestId | None = None,
    ) -> RequestId:
        """Queue a request the session checked, whose result decodes as `result_type`;
        returns its id. `deadline` is on the caller's clock (see `expire`)."""
        rid = self.request_ids.next()
        token: RequestId | None = None
        if progress:
            # The request's own id as its progress token: unique among our active requests,
            # as basic/utilities/progress requires, with no second counter to keep.
            token = rid
            params = with_progress_token(params, token)
        self.pending.add(rid, Pending(method, result_type, deadline, token, related))
        self.outbox.send(jsonrpc.encode_request(rid, method, params), related)
        return rid

    def send_notification(
        self, method: str, params: Any = None, *, related: RequestId | None = None
    ) -> None:
        """Queue a notification. `related` is the peer's request it is sent while serving, so
        that it travels with that request (on its stream, over HTTP)."""
        self.outbox.send(jsonrpc.encode_notification(method, params), related)

    def is_pending(self, request_id: RequestId) -> bool:
        """Whether one of our requests still awaits its response."""
        return request_id in self.pending

    def cancel_request(self, request_id: RequestId, reason: str | None = None) -> None:
        """Give up on one of our requests: tell the peer, and ignore any late response."""
        # Forgotten before the peer is told: a response that crosses the cancellation is then
        # a StrayResponse, not this request's answer, as basic/utilities/cancellation has the
        # sender ignore it.
        pending = self.pending.take(request_id)
        if pending is None:
            return
        if pending.method == "initialize":
            return  # the initialize request MUST NOT be cancelled (basic/utilities/cancellation)
        params = CancelledNotificationParams(request_id=request_id, reason=reason)
        # Related as the request was, so it takes the same way to the peer (over HTTP, the
        # stream of the peer's request we sent it while serving).
        self.send_notification("notifications/cancelled", params, related=pending.related)

    def restart_deadline(self, request_id: RequestId, deadline: float) -> None:
        """Give one of our pending requests a new deadline (on progress, say: basic/lifecycle,
        Timeouts, lets a sender reset its timeout when the receiver shows it is working)."""
        self.pending.restart_deadline(request_id, deadline)

    def expire(self, now: float) -> list[Event]:
        """Time out every pending request whose deadline is at or before `now`.

        basic/lifecycle, Timeouts: a request with no answer in time gets a cancellation
        notification, and its sender stops waiting (each gets `RequestTimedOut`)."""
        events: list[Event] = []
        while (rid := self.pending.pop_due(now)) is not None:
            self.cancel_request(rid, "request timed out")
            events.append(RequestTimedOut(rid))
        return events
