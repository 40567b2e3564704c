"""The exception a tool raised, kept for the middleware that asked for it: a tool's failure
becomes an error result before any layer sees it (`catalog.calling.tool_calls.run_as_set`)."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Generator

__all__ = ["failures_inside", "note_failure"]

#: Where a failing tool's exception goes: the list of the innermost middleware asking.
_caught: contextvars.ContextVar[list[BaseException] | None] = contextvars.ContextVar(
    "mcpkit_tool_failures", default=None
)


@contextlib.contextmanager
def failures_inside() -> Generator[list[BaseException], None, None]:
    """The exceptions the tools called inside the block raise, in order. A middleware
    around this one that asks too hears of them as well, once the block ends (an error
    transform around a retry sees the last attempt's)."""
    outer = _caught.get()
    mine: list[BaseException] = []
    token = _caught.set(mine)
    try:
        yield mine
    finally:
        _caught.reset(token)
        if outer is not None:
            outer.extend(mine)


def note_failure(exc: BaseException) -> None:
    """Keep `exc`, the exception a tool raised, for the middleware around its call, if any
    asked (only on the failure path: a call that succeeds never comes here)."""
    kept = _caught.get()
    if kept is not None:
        kept.append(exc)
