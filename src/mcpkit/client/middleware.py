"""Client middleware: layers around every request a `Client` sends, shaped as the server's.

`OutgoingRequest` and `ClientMiddleware` are defined beside `Client` (a layer's request names
the client sending it) and named here, where layers find them."""

from __future__ import annotations

from typing import Any, Final, cast

from mcpkit.client.client import ClientMiddleware, OutgoingRequest
from mcpkit.protocol.meta_keys import STATE_KEY_META, check_state_key
from mcpkit.runtime.layers import CallNext, RequestLog, call_through

__all__ = [
    "CallNext",
    "ClientMiddleware",
    "OutgoingRequest",
    "RequestLogging",
    "StateKey",
    "call_through",
]

#: The requests that run a server's handler, which may keep state for its caller.
_HANDLED: Final = frozenset({"tools/call", "resources/read", "prompts/get", "completion/complete"})


class RequestLogging(RequestLog[OutgoingRequest]):
    """One log record per request the client sends: method, target (tool or prompt name,
    resource URI), duration and outcome, in the message and as `record.mcp` (a dict, for
    structured handlers), under `mcpkit.client.requests` unless another logger is given.
    Arguments are never logged.

    Outcomes: "ok", "tool_error" (a tool result with isError), "error" (a JSON-RPC error,
    with its code), "timeout", "cancelled", "exception" (anything else: the connection
    closed, say, with the exception's class). The server's `RequestLogging` is the same
    record (`mcpkit.runtime.layers.RequestLog`).
    """

    default_logger = "mcpkit.client.requests"
    timeouts_apart = True


class StateKey:
    """Sends `key` as `_meta["io.mcpkit/stateKey"]` with every request that runs a handler
    (tools/call, resources/read, prompts/get, completion/complete): on an mcpkit server, a
    2026-07-28 caller with no access token keeps its state under it (docs/server.md, "State";
    what the command line's `--state-key` and the inspector's State key field send). A key
    the request's own `meta=` gives wins. ValueError for a key shorter than 32 characters:
    anyone who sends the same key reaches the same state."""

    def __init__(self, key: str) -> None:
        wrong = check_state_key(key)
        if wrong is not None:
            raise ValueError(f"StateKey: {wrong}")
        self.key = key

    async def __call__(self, request: OutgoingRequest, params: Any, call_next: CallNext) -> Any:
        if request.method in _HANDLED and (params is None or isinstance(params, dict)):
            given = cast("dict[str, Any]", params or {})
            own: dict[str, Any] = given.get("_meta") or {}
            params = {**given, "_meta": {STATE_KEY_META: self.key, **own}}
        return await call_next(params)
