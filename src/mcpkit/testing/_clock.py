"""A fake clock for tests: an asyncio loop whose time jumps to the next timer when idle."""

from __future__ import annotations

import asyncio
import selectors
import time
from collections.abc import Coroutine, Mapping
from typing import Any, TypeVar

from mcpkit.runtime.workers import default_pool

__all__ = ["FakeClockLoop", "run_with_fake_clock"]

T = TypeVar("T")


class _JumpingSelector(selectors.BaseSelector):
    """Wraps a real selector; when the loop would sleep until its next timer and no I/O has
    come for `idle` seconds of real time spent waiting, moves the loop's clock to that timer
    instead. The wait counts across timers: a loop with a timer every 0.1 s (a sweep, a
    poll) is as idle as one with none, and once `idle` has passed its clock runs from timer
    to timer until I/O comes again (before, each such timer was waited for in real time)."""

    def __init__(self, idle: float) -> None:
        self._real = selectors.DefaultSelector()
        self.idle = idle
        self.loop: FakeClockLoop | None = None
        self._waited = 0.0  # real seconds waited with no I/O since the last I/O

    def register(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._real.register(fileobj, events, data)

    def unregister(self, fileobj: Any) -> selectors.SelectorKey:
        return self._real.unregister(fileobj)

    def modify(self, fileobj: Any, events: int, data: Any = None) -> selectors.SelectorKey:
        return self._real.modify(fileobj, events, data)

    def get_map(self) -> Mapping[Any, selectors.SelectorKey]:
        return self._real.get_map()

    def close(self) -> None:
        self._real.close()

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout is not None and timeout <= 0:
            return self._seen(self._real.select(0))
        if default_pool().busy:  # a sync handler is running: its result comes for real
            return self._seen(self._real.select(timeout))
        if timeout is None:  # no timer: only I/O can come
            return self._seen(self._real.select(None))
        wait = max(0.0, min(self.idle - self._waited, timeout))
        started = time.monotonic()
        events = self._real.select(wait)
        if events:
            return self._seen(events)
        self._waited += time.monotonic() - started
        assert self.loop is not None
        self.loop.advance(timeout)
        return []

    def _seen(
        self, events: list[tuple[selectors.SelectorKey, int]]
    ) -> list[tuple[selectors.SelectorKey, int]]:
        if events:
            self._waited = 0.0
        return events


class FakeClockLoop(asyncio.SelectorEventLoop):
    """An event loop on a virtual clock: whenever every task waits for a timer (a sleep, a
    request timeout, a deadline) and no I/O arrives for `idle` seconds of real time, the
    clock jumps to the next timer. Tests of timeouts then take no real time and behave the
    same on a slow machine. While a sync handler runs in mcpkit's worker pool the loop waits
    for it for real. Meant for in-process tests (`Client(server)`); with subprocesses, raise
    `idle` above their response time."""

    def __init__(self, *, start: float = 0.0, idle: float = 0.005) -> None:
        selector = _JumpingSelector(idle)
        super().__init__(selector)
        selector.loop = self
        self._now = start

    def time(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move the clock forward (timers that come due fire on the next pass)."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        self._now += seconds


def run_with_fake_clock(
    main: Coroutine[Any, Any, T], *, start: float = 0.0, idle: float = 0.005
) -> T:
    """`asyncio.run(main)` on a `FakeClockLoop`."""
    with asyncio.Runner(loop_factory=lambda: FakeClockLoop(start=start, idle=idle)) as runner:
        return runner.run(main)
