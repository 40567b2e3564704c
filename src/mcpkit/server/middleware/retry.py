"""`RetryTools`: a tool call that failed with a passing fault is made again, for tools that
say they may be (`idempotentHint`) or that are named, a bounded number of times with
backoff and within a time budget."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

from mcpkit.server.catalog.calling.tool_failures import failures_inside
from mcpkit.server.middleware.typed import CallToolNext, TypedMiddleware
from mcpkit.types import CallToolResult

if TYPE_CHECKING:
    from mcpkit.server.context import Context

__all__ = ["RetryTools"]


class RetryTools(TypedMiddleware):
    """Call a tool again when it failed with an exception of `retry_on` (default:
    ConnectionError and TimeoutError), at most `attempts` calls in all, waiting `backoff`
    seconds before the second, doubled before each next one up to `max_backoff`. Only for
    tools whose annotations say `idempotentHint: true`, and those named in `tools`: a call
    made twice must do no more than once. No retry starts that could not begin within
    `budget` seconds of the first call (None: no budget), and a cancelled call (the client
    gave up, or its deadline passed) is never retried. The last failure is answered as it
    would have been without this middleware."""

    def __init__(
        self,
        *,
        retry_on: tuple[type[Exception], ...] = (ConnectionError, TimeoutError),
        attempts: int = 3,
        backoff: float = 0.1,
        max_backoff: float = 2.0,
        budget: float | None = 10.0,
        tools: Iterable[str] = (),
    ) -> None:
        if attempts < 1:
            raise ValueError(f"attempts must be at least 1, not {attempts}")
        if backoff < 0 or max_backoff < 0 or (budget is not None and budget < 0):
            raise ValueError("backoff, max_backoff and budget must not be negative")
        if isinstance(tools, str):  # an iterable of letters: surely a slip
            raise TypeError(f"tools takes a list of names, not {tools!r}")
        kinds = cast("tuple[object, ...]", retry_on)  # (as given, whatever its hint says)
        if not all(isinstance(k, type) and issubclass(k, Exception) for k in kinds):
            raise TypeError(f"retry_on takes a tuple of exception classes, not {retry_on!r}")
        self.retry_on = retry_on
        self.attempts = attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.budget = budget
        self.tools = frozenset(tools)

    def may_retry(self, ctx: Context, name: str) -> bool:
        """Whether a call of tool `name` may be made again: named, or marked idempotent."""
        if name in self.tools:
            return True
        # The annotations this server lists the tool with, its own or a mounted server's it
        # chose to serve: the caution about untrusted annotations (server/tools) is a client's.
        spec = ctx.server.tools.get(name)
        annotations = None if spec is None else spec.wire.annotations
        return annotations is not None and annotations.idempotent_hint is True

    async def on_call_tool(
        self, ctx: Context, name: str, arguments: dict[str, Any], call_next: CallToolNext
    ) -> Any:
        """Call, and call again on a passing fault. A cancelled call raises CancelledError,
        which is no Exception, so no `retry_on` catches it and it is never retried."""
        if not self.may_retry(ctx, name):
            return await call_next(name, arguments)
        loop = asyncio.get_running_loop()
        # The budget runs from the first call: retries never stretch a call past it.
        ends = None if self.budget is None else loop.time() + self.budget
        delay = self.backoff
        for attempt in range(1, self.attempts + 1):
            last = attempt == self.attempts
            # A tool's exception is an error result by now (server/tools, "Error Handling"):
            # it is heard here, to tell a passing fault from any other error.
            with failures_inside() as failures:
                try:
                    result = await call_next(name, arguments)
                except self.retry_on:  # (raised by a layer inside this one)
                    if last or not _in_time(loop, ends, delay):
                        raise
                else:
                    failed = _failed_with(result, failures, self.retry_on)
                    if last or not failed or not _in_time(loop, ends, delay):
                        return result
            await asyncio.sleep(delay)
            delay = min(delay * 2, self.max_backoff)
        raise AssertionError("unreachable: the last attempt returns or raises")


def _failed_with(
    result: Any, failures: list[BaseException], kinds: tuple[type[Exception], ...]
) -> bool:
    """Whether `result` is a tool error its tool's exception of one of `kinds` made."""
    return (
        isinstance(result, CallToolResult)
        and bool(result.is_error)
        and bool(failures)
        and isinstance(failures[-1], kinds)
    )


def _in_time(loop: asyncio.AbstractEventLoop, ends: float | None, delay: float) -> bool:
    """Whether a retry after `delay` would begin inside the budget; one that would not is
    not waited for, and the failure in hand is the answer."""
    return ends is None or loop.time() + delay < ends
