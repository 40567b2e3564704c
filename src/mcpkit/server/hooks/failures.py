"""The exception a tool raised, kept for the middleware that asked for it: a tool's failure
becomes an error result before any layer sees it (`catalog.tools.run_tool`)."""

from __future__ import annotations

import contextvars

__all__ = ["caught", "note_failure"]

#: Set by a middleware around `call_next`: where the failing tool's exception goes.
caught: contextvars.ContextVar[list[BaseException] | None] = contextvars.ContextVar(
    "mcpkit_tool_failures", default=None
)


def note_failure(exc: BaseException) -> None:
    """Keep `exc`, the exception a tool raised, for the middleware around its call, if any
    asked (only on the failure path: a call that succeeds never comes here)."""
    kept = caught.get()
    if kept is not None:
        kept.append(exc)
