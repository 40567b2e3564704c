"""What the store checks share: a wall clock that moves only when told, and a check that a
call raises."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

__all__ = ["ManualClock", "raised"]

E = TypeVar("E", bound=BaseException)


class ManualClock:
    """Wall-clock seconds since the epoch, as `time.time()` counts them, that move only when
    told: `clock()` reads it, `clock.advance(seconds)` moves it on. A store under check reads
    the time from the clock it is given (as `MemoryTaskStore(clock=...)` does), so that the
    checks expire what they want without waiting. It starts at 2025-11-24T16:00:00Z."""

    __slots__ = ("now",)

    def __init__(self, now: float = 1_764_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self.now += seconds


async def raised(call: Awaitable[object], kind: type[E]) -> E:
    """The `kind` exception awaiting `call` raised (AssertionError when it raised none): the
    checks do without pytest, which mcpkit.testing never imports."""
    try:
        await call
    except kind as exc:
        return exc
    raise AssertionError(f"expected {kind.__name__}, but nothing was raised")
