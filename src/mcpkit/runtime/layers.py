"""Middleware machinery both sides share: running a request through its layers, and the
request log the server's and the client's `RequestLogging` write.

A layer is `async (request, params, call_next) -> result`, where `request` is what that side
knows of the request (the server's `Context`, the client's `OutgoingRequest`). The server and
the client each name their own types (`mcpkit.server.middleware`, `mcpkit.client.middleware`);
the logic is here once.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from typing import Any, ClassVar, Final, Generic, Protocol, TypeVar

from mcpkit.errors import McpError, RequestTimeout
from mcpkit.protocol.jsonrpc import field_of
from mcpkit.types import CallToolResult
from mcpkit.types._gen_2026_07_28 import CallToolResult as CallToolResult2026

__all__ = [
    "CallNext",
    "Layer",
    "LifecycleWatcher",
    "NamedRequest",
    "RequestLog",
    "call_through",
    "is_tool_error",
    "outcome_of",
    "target_of",
    "tell_session_began",
    "tell_session_ended",
]

#: What a layer knows of the request it wraps.
R = TypeVar("R")


class NamedRequest(Protocol):
    """A request as both sides' layers see it: at least its method's name."""

    @property
    def method(self) -> str: ...


#: A request the request log can name (the server's Context, the client's OutgoingRequest).
N = TypeVar("N", bound=NamedRequest)

#: The next layer inward: give it the params (changed or not), await its result.
CallNext = Callable[[Any], Awaitable[Any]]

#: A layer around every request of one side: `async (request, params, call_next) -> result`.
Layer = Callable[[R, Any, CallNext], Awaitable[Any]]


#: What a side calls a session: the server's `ServerSessionHandle`, the `Client`.
S = TypeVar("S")


class LifecycleWatcher(Generic[S]):
    """A layer that is also told when a session of its side begins and ends, the two ends of
    its lifecycle (basic/lifecycle; the metrics layers time sessions). The server tells the
    watchers among its middleware when one of its sessions ends (its record says when it
    began); the client, when it has connected and when it closes. A 2026-07-28 exchange has
    no session: nothing is told of it."""

    def session_began(self, session: S) -> None:
        """`session` began (nothing by default)."""

    def session_ended(self, session: S) -> None:
        """`session` ended (nothing by default)."""


def _watchers_in(layers: Iterable[object]) -> Iterator[LifecycleWatcher[Any]]:
    """The layers among `layers` that watch sessions."""
    for layer in layers:
        if isinstance(layer, LifecycleWatcher):
            yield layer


def tell_session_began(layers: Iterable[object], session: object) -> None:
    """Tell the layers among `layers` that watch sessions that `session` began."""
    for watcher in _watchers_in(layers):
        watcher.session_began(session)


def tell_session_ended(layers: Iterable[object], session: object) -> None:
    """Tell the layers among `layers` that watch sessions that `session` ended."""
    for watcher in _watchers_in(layers):
        watcher.session_ended(session)


def _layer(layer: Layer[R], request: R, inner: CallNext) -> CallNext:
    def call(params: Any) -> Awaitable[Any]:
        return layer(request, params, inner)

    return call


def call_through(
    layers: Sequence[Layer[R]], request: R, params: Any, innermost: CallNext
) -> Awaitable[Any]:
    """Run `innermost(params)` inside `layers`, the first of them outermost. With no layers
    this is `innermost(params)` itself: a request pays nothing for middleware it does not
    have."""
    call = innermost
    for layer in reversed(layers):
        call = _layer(layer, request, call)
    return call(params)


def target_of(params: Any) -> str | None:
    """The tool or prompt name, or the resource URI, a request is about (None if neither)."""
    for key in ("name", "uri"):
        value = field_of(params, key)
        if isinstance(value, str):
            return value
    return None


#: A tools/call result as each revision decodes it (a `ToolResult` is the first's).
_TOOL_RESULTS: Final = (CallToolResult, CallToolResult2026)


def is_tool_error(result: object) -> bool:
    """Whether `result` is a tools/call result with isError (a tool's own failure)."""
    return isinstance(result, _TOOL_RESULTS) and result.is_error is True


def outcome_of(result: object) -> str:
    """ "ok", or "tool_error" for a tools/call result with isError (a tool's own failure)."""
    return "tool_error" if is_tool_error(result) else "ok"


class RequestLog(Generic[N]):
    """One log record per request: method, target (tool/prompt name or resource URI),
    duration and outcome, in the message and as `record.mcp` (a dict, for structured
    handlers). A side may add fields (`more_fields`); everything else is the same on both
    sides.

    Outcomes: "ok", "tool_error" (a tool result with isError), "error" (McpError, with its
    code), "timeout" (where `timeouts_apart`: nothing answered in time), "cancelled",
    "exception" (anything else, with the exception's class)."""

    #: The logger used when none is given.
    default_logger: ClassVar[str] = "mcpkit.requests"
    #: Whether a RequestTimeout is its own outcome ("timeout") or an "error" like any McpError.
    timeouts_apart: ClassVar[bool] = False

    def __init__(
        self,
        logger: logging.Logger | None = None,
        *,
        level: int = logging.INFO,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.logger = logger if logger is not None else logging.getLogger(self.default_logger)
        self.level = level
        self.clock = clock

    def more_fields(self, request: N, params: Any, fields: dict[str, Any]) -> None:
        """Add what this side knows to a record's fields (nothing by default)."""

    async def __call__(self, request: N, params: Any, call_next: CallNext) -> Any:
        if not self.logger.isEnabledFor(self.level):
            return await call_next(params)
        start = self.clock()
        fields: dict[str, Any] = {"method": request.method, "target": target_of(params)}
        try:
            result = await call_next(params)
        except McpError as exc:
            # A RequestTimeout is an McpError too, but nothing answered it.
            if self.timeouts_apart and isinstance(exc, RequestTimeout):
                fields["outcome"] = "timeout"
            else:
                fields.update(outcome="error", code=exc.code)
            raise
        except asyncio.CancelledError:
            fields["outcome"] = "cancelled"
            raise
        except Exception as exc:
            fields.update(outcome="exception", exception=type(exc).__name__)
            raise
        else:
            fields["outcome"] = outcome_of(result)
            return result
        finally:
            # The record is written however the request ended, cancellation included.
            fields["duration_ms"] = round((self.clock() - start) * 1000, 3)
            self.more_fields(request, params, fields)
            self.logger.log(
                self.level,
                "%s %s %s %.1f ms",
                fields["method"],
                fields["target"] or "-",
                fields["outcome"],
                fields["duration_ms"],
                extra={"mcp": fields},
            )
