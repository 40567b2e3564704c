"""Server middleware: layers around every request a `Server` handles, and two ready ones."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

import msgspec

from mcpkit.errors import McpError

if TYPE_CHECKING:
    from mcpkit.server.context import Context

__all__ = ["CallNext", "Middleware", "RequestLogging", "Timing", "call_through"]

#: The next layer inward: give it the params (changed or not), await its result.
CallNext = Callable[[Any], Awaitable[Any]]

#: A layer: `async (ctx, params, call_next) -> result`. `ctx.method` names the request; the
#: layer may change `params` before `call_next(params)`, change or replace the result, or
#: raise McpError. A plain async function or an object with such an `async __call__`.
Middleware = Callable[["Context", Any, CallNext], Awaitable[Any]]


def _layer(layer: Middleware, ctx: Context, inner: CallNext) -> CallNext:
    def call(params: Any) -> Awaitable[Any]:
        return layer(ctx, params, inner)

    return call


def call_through(
    layers: Sequence[Middleware], ctx: Context, params: Any, innermost: CallNext
) -> Awaitable[Any]:
    """Run `innermost(params)` inside `layers`, the first of them outermost."""
    call = innermost
    for layer in reversed(layers):
        call = _layer(layer, ctx, call)
    return call(params)


def target_of(params: Any) -> str | None:
    """The tool or prompt name, or the resource URI, a request is about (None if neither)."""
    for key in ("name", "uri"):
        value = _field(params, key)
        if isinstance(value, str):
            return value
    return None


def outcome_of(result: Any) -> str:
    """ "ok", or "tool_error" for a tools/call result with isError (a tool's own failure)."""
    return "tool_error" if getattr(result, "is_error", None) else "ok"


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
        start = self.clock()
        try:
            return await call_next(params)
        finally:
            self.report(ctx.method, self.clock() - start)


class RequestLogging:
    """One log record per request: method, target (tool/prompt name or resource URI),
    duration, outcome and session id, in the message and as `record.mcp` (a dict, for
    structured handlers). Arguments are left out unless `include_arguments=True`: they may
    hold what the user would not want in a log.

    Outcomes: "ok", "tool_error" (a tool result with isError), "error" (McpError, with its
    code), "cancelled", "exception" (anything else, logged at ERROR by the server anyway).
    """

    def __init__(
        self,
        logger: logging.Logger | None = None,
        *,
        level: int = logging.INFO,
        include_arguments: bool = False,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.logger = logger if logger is not None else logging.getLogger("mcpkit.requests")
        self.level = level
        self.include_arguments = include_arguments
        self.clock = clock

    async def __call__(self, ctx: Context, params: Any, call_next: CallNext) -> Any:
        if not self.logger.isEnabledFor(self.level):
            return await call_next(params)
        start = self.clock()
        fields: dict[str, Any] = {"method": ctx.method, "target": target_of(params)}
        try:
            result = await call_next(params)
        except McpError as exc:
            fields.update(outcome="error", code=exc.code)
            raise
        except asyncio.CancelledError:
            fields["outcome"] = "cancelled"
            raise
        except Exception:
            fields["outcome"] = "exception"
            raise
        else:
            fields["outcome"] = outcome_of(result)
            return result
        finally:
            self._emit(ctx, params, fields, self.clock() - start)

    def _emit(self, ctx: Context, params: Any, fields: dict[str, Any], seconds: float) -> None:
        info = ctx.request_info
        fields["duration_ms"] = round(seconds * 1000, 3)
        fields["session_id"] = info.header("mcp-session-id") if info is not None else None
        if self.include_arguments:
            fields["arguments"] = _arguments(params)
        self.logger.log(
            self.level,
            "%s %s %s %.1f ms",
            fields["method"],
            fields["target"] or "-",
            fields["outcome"],
            fields["duration_ms"],
            extra={"mcp": fields},
        )


def _field(params: Any, key: str) -> Any:
    """`key` of params decoded as a struct (tools/call) or left a dict (the other methods)."""
    if isinstance(params, dict):
        return cast("dict[str, Any]", params).get(key)
    return getattr(params, key, None)


def _arguments(params: Any) -> Any:
    raw = _field(params, "arguments")
    return bytes(raw).decode("utf-8", "replace") if isinstance(raw, msgspec.Raw) else raw
