"""Subprocesses a test runs to their end, never left running: a process still running when
its test's loop closes is reaped by nobody, and the collector then warns of it (`subprocess N
is still running`, `Loop ... that handles pid N is closed`) inside whatever test runs next on
that worker, which fails for it.

`starts(n)` marks an `async def` test that starts `n` programs in turn with a limit that
covers them: mcpkit's plugin bounds a test at 30 s, which is room for one program's start on
a busy machine, not for several (tests/test_test_limits.py finds the tests that need it)."""

from __future__ import annotations

import asyncio
import contextlib
import signal

import pytest

__all__ = ["PROGRAM", "finished", "interruptible", "starts"]

#: Seconds one program started by a test may take to start, do its part and stop on a busy
#: machine (a load average of 40 made a 2 s start take 20): a bound on hangs, not a measurement.
PROGRAM = 60
#: The plugin's own bound, kept for what the test does besides starting programs.
TEST = 30


def starts(programs: int) -> pytest.MarkDecorator:
    """The limit of a test that starts `programs` programs, one after another or together."""
    return pytest.mark.mcpkit_timeout(TEST + programs * PROGRAM)


async def finished(process: asyncio.subprocess.Process) -> tuple[bytes, bytes]:
    """`process.communicate()`: its output once it exits. However the wait ends (a test's
    timeout cancelling it, say), a process still running is killed and reaped first."""
    try:
        return await process.communicate()
    finally:
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()


def interruptible() -> None:
    """A child's `preexec_fn` for a test that sends it SIGINT: the default disposition, as a
    program started at a terminal has. A suite started in the background by a script (`cmd &`
    with no job control) inherits SIGINT ignored, and Python then keeps it ignored in every
    child, which would wait out the test's time limit instead of stopping."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
