"""What bounds one tool's call, decided when it is registered: `timeout=` seconds, after which
its work is cancelled and the call ends with a tool error.

A tool with neither has no `ToolLimits` at all (`ToolSpec.limits` is None), so its calls go
straight to `run_tool` and pay nothing for this module.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Final

from mcpkit.types import CallToolResult, TextContent

__all__ = ["ToolLimits", "check_timeout", "limits_of"]

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
    """The bounds of one tool's calls: `timeout` seconds (None: none)."""

    timeout: float | None

    async def bound(
        self, name: str, is_async: bool, call: Awaitable[CallToolResult], ctx: object
    ) -> CallToolResult:
        """`call`, the tool `name`'s run (`run_tool`) for the request of `ctx`, within these
        bounds."""
        timeout = self.timeout
        if timeout is None:
            return await call
        within = asyncio.timeout(timeout)
        try:
            async with within:
                return await call
        except TimeoutError:
            if not within.expired():
                raise  # (not ours: `run_tool` lets only McpError out, but be exact)
            return _timed_out(name, timeout, is_async)


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


def limits_of(where: str, timeout: object) -> ToolLimits | None:
    """The `ToolLimits` of `timeout=` as given to `@server.tool` (or `Server`'s default),
    checked; None when it bounds nothing."""
    seconds = check_timeout(where, timeout)
    if seconds is None:
        return None
    return ToolLimits(seconds)
