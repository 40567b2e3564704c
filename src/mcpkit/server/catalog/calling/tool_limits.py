"""What bounds one tool's call, decided when it is registered: `timeout=` seconds, after which
its work is cancelled and the call ends with a tool error, and `max_result=`, the budget its
result's content is cut to (`result_budget`, `result_store`).

A tool with neither has no `ToolLimits` at all (`ToolSpec.limits` is None), so its calls go
straight to their run (`tool_calls.run_as_set`) and pay nothing for this module.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass
from typing import Final, Protocol, cast

from mcpkit.server.catalog.calling.result_budget import ResultBudget, budget_of
from mcpkit.server.catalog.calling.result_store import Caller, fit_result
from mcpkit.types import CallToolResult, TextContent

__all__ = ["Limited", "ToolLimits", "check_timeout", "keeps_overflow", "limits_of"]

logger = logging.getLogger("mcpkit.server")

#: What a timeout's message says after the tool's name.
_TIMED_OUT: Final = "tool {name!r} timed out after {seconds} s"


def check_timeout(where: str, timeout: object) -> float | None:
    """`timeout` as seconds (None: no timeout); ValueError naming `where` for anything but a
    positive finite number."""
    if timeout is None:
        return None
    if (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not math.isfinite(timeout)
        or timeout <= 0
    ):
        raise ValueError(f"{where}: timeout must be a number of seconds above 0, not {timeout!r}")
    return float(timeout)


@dataclass(frozen=True, slots=True)
class ToolLimits:
    """The bounds of one tool's calls: `timeout` seconds (None: none) and the `budget` its
    result's content must fit (None: any size)."""

    timeout: float | None
    budget: ResultBudget | None = None

    async def bound(
        self, name: str, is_async: bool, call: Awaitable[CallToolResult], ctx: object
    ) -> CallToolResult:
        """`call`, the tool `name`'s run (`run_as_set`) for the request of `ctx`, within these
        bounds."""
        timeout = self.timeout
        if timeout is None:
            result = await call
        else:
            within = asyncio.timeout(timeout)
            try:
                async with within:
                    result = await call
            except TimeoutError:
                if not within.expired():
                    raise  # (not ours: `run_as_set` lets only McpError out, but be exact)
                return _timed_out(name, timeout, is_async)
        budget = self.budget
        if budget is None:
            return result
        # (`run_as_set` hands the request's Context on as `object`: it sits below the Context)
        return await fit_result(budget, name, result, cast("Caller", ctx))


def _timed_out(name: str, timeout: float, is_async: bool) -> CallToolResult:
    """The tool error of a call past its timeout (server/tools, "Error Handling": a failure
    of the tool's work, which the model can act on, is a result with isError, not a protocol
    error)."""
    message = _TIMED_OUT.format(name=name, seconds=f"{timeout:g}")
    if is_async:
        logger.info("%s: its work was cancelled", message)
    else:
        # A thread cannot be stopped from outside: the call is answered on time, and the
        # function goes on until it returns, its result dropped.
        logger.warning(
            "%s: it is a plain function, which cannot be cancelled; its worker thread runs on "
            "until it returns, and what it returns is dropped",
            message,
        )
    return CallToolResult(content=[TextContent(text=message)], is_error=True)


class Limited(Protocol):
    """A tool as far as its limits go (`ToolSpec`)."""

    @property
    def limits(self) -> ToolLimits | None: ...


def keeps_overflow(tools: Iterable[Limited]) -> bool:
    """Whether some tool keeps what its result budget cuts as resources for its caller to
    read (so the server declares resources, whatever else it has)."""
    return any(
        spec.limits is not None
        and spec.limits.budget is not None
        and spec.limits.budget.overflow != "truncate"
        for spec in tools
    )


def limits_of(where: str, timeout: object, max_result: object = None) -> ToolLimits | None:
    """The `ToolLimits` of `timeout=` and `max_result=` as given to `@server.tool` (or
    `Server`'s defaults), checked; None when neither bounds anything."""
    seconds = check_timeout(where, timeout)
    budget = budget_of(where, max_result)
    if seconds is None and budget is None:
        return None
    return ToolLimits(seconds, budget)
