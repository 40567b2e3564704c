"""`Timing` and `RequestLogging`: two layers that report each request (its duration; one log
record) and add nothing to the wire."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec

from mcpkit.protocol.jsonrpc import field_of
from mcpkit.runtime.layers import CallNext, RequestLog

if TYPE_CHECKING:
    from mcpkit.server.context import Context

__all__ = ["RequestLogging", "Timing"]


class Timing:
    """Reports `report(method, seconds)` after every request, however it ended; adds nothing
    to the wire. `clock` is `time.perf_counter` unless given (a fake clock in tests)."""

    def __init__(
        self,
        report: Callable[[str, float], None],
        *,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.report = report
        self.clock = clock

    async def __call__(self, ctx: Context, params: Any, call_next: CallNext) -> Any:
        """Time the layers inside; in `finally`, so that a request that failed or was
        cancelled is reported as well."""
        start = self.clock()
        try:
            return await call_next(params)
        finally:
            self.report(ctx.method, self.clock() - start)


class RequestLogging(RequestLog["Context"]):
    """One log record per request: method, target (tool/prompt name or resource URI),
    duration, outcome and session id, in the message and as `record.mcp` (a dict, for
    structured handlers). Arguments are left out unless `include_arguments=True`: they may
    hold what the user would not want in a log.

    Outcomes: "ok", "tool_error" (a tool result with isError), "error" (McpError, with its
    code), "cancelled", "exception" (anything else, with its class; logged at ERROR by the
    server anyway). The client's `RequestLogging` is the same record
    (`mcpkit.runtime.layers.RequestLog`).
    """

    def __init__(
        self,
        logger: logging.Logger | None = None,
        *,
        level: int = logging.INFO,
        include_arguments: bool = False,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        super().__init__(logger, level=level, clock=clock)
        self.include_arguments = include_arguments

    def more_fields(self, request: Context, params: Any, fields: dict[str, Any]) -> None:
        # From the HTTP request: None over stdio, and for a 2026-07-28 request, which has
        # no session to name.
        info = request.request_info
        fields["session_id"] = info.header("mcp-session-id") if info is not None else None
        if self.include_arguments:
            fields["arguments"] = _arguments(params)


def _arguments(params: Any) -> Any:
    """The arguments for the log. Still-raw JSON goes in as its text, as it came (a byte
    that is no UTF-8 replaced), rather than decoded a second time for a log line."""
    raw = field_of(params, "arguments")
    return bytes(raw).decode("utf-8", "replace") if isinstance(raw, msgspec.Raw) else raw
