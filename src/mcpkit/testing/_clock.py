"""A fake clock for tests: an asyncio loop whose time jumps to the next timer when idle."""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Coroutine, Mapping
from typing import Any, TypeVar

from mcpkit.runtime.workers import default_pool

__all__ = ["FakeClockLoop", "run_with_fake_clock"]

T = TypeVar("T")


class _JumpingSelector(selectors.BaseSelector):
    """Wraps a real selector; when the loop would sleep until its next timer and nothing
    happens for `idle` seconds of real time, moves the loop's clock to that timer instead."""

    def __init__(self, idle: float) -> None:
        self._real = selectors.DefaultSelector()
        self.idle = idle
        self.loop: FakeClockLoop | None = None

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
            return self._real.select(0)
        if default_pool().busy:  # a sync handler is running: its result comes for real
            return self._real.select(timeout)
        events = self._real.select(self.idle if timeout is None else min(self.idle, timeout))
        if events or timeout is None:
            return events or self._real.select(None)
        assert self.loop is not None
        self.loop.advance(timeout)
        return []


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
