"""Events a protocol session reports: past-tense facts about what the peer sent or what expired."""

from __future__ import annotations

from typing import Any

import msgspec

from mcpkit.errors import McpError

__all__ = [
    "ErrorReceived",
    "Event",
    "InitializeReceived",
    "InitializedReceived",
    "NotificationReceived",
    "ProgressReceived",
    "RequestCancelled",
    "RequestReceived",
    "RequestTimedOut",
    "ResponseReceived",
]


class RequestReceived(msgspec.Struct):
    """The peer asked something; answer with `send_response` or `send_error`."""

    request_id: int | str
    method: str
    params: Any
    progress_token: int | str | None = None


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


class RequestCancelled(msgspec.Struct):
    """The peer cancelled a request it sent us; no response will be sent for it."""

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


Event = (
    RequestReceived
    | NotificationReceived
    | ResponseReceived
    | ErrorReceived
    | RequestCancelled
    | RequestTimedOut
    | ProgressReceived
    | InitializeReceived
    | InitializedReceived
)
