"""Subprocesses a test runs to their end, never left running: a process still running when
its test's loop closes is reaped by nobody, and the collector then warns of it (`subprocess N
is still running`, `Loop ... that handles pid N is closed`) inside whatever test runs next on
that worker, which fails for it."""

from __future__ import annotations

import asyncio
import contextlib

__all__ = ["finished"]


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
