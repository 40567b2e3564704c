"""Running a Server in the foreground (`Server.run()`): the event loop it runs on, a clean end
on SIGTERM, and its refusal to serve while `mcpkit run` imports the user's file."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Callable, Generator
from typing import Any

from mcpkit._extras import needs_extra
from mcpkit.errors import MissingExtra

__all__ = ["check_run_allowed", "loop_factory", "refusing_run", "until_terminated"]

logger = logging.getLogger("mcpkit.server")

# Why `Server.run()` may not serve now, while `mcpkit run` imports the user's file (see
# `refusing_run`); None: it may.
_run_refusal: str | None = None


@contextlib.contextmanager
def refusing_run(reason: str) -> Generator[None, None, None]:
    """While in this block, `Server.run()` raises RuntimeError(reason) instead of serving:
    `mcpkit run` serves the Server itself, so a `run()` called at import time would serve
    first, and then again. (Over stdio the taken stdio refuses it already.)"""
    global _run_refusal
    previous, _run_refusal = _run_refusal, reason
    try:
        yield
    finally:
        _run_refusal = previous


def check_run_allowed() -> None:
    """Raise the refusal `refusing_run` set, if any."""
    if _run_refusal is not None:
        raise RuntimeError(_run_refusal)


async def until_terminated(main: Any) -> None:
    """Run `main`, ending it as cleanly on SIGTERM as on end of input: handlers are cancelled
    and the lifespan hook is left, where Python's default would kill the process mid-way."""
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    terminated = False

    def terminate() -> None:
        nonlocal terminated
        terminated = True
        if task is not None:
            task.cancel()

    installed = False
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:  # leave a handler of the user's
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGTERM, terminate)  # not on Windows, off-thread
            installed = True
    try:
        await main
    except asyncio.CancelledError:
        if not terminated:
            raise
        logger.info("terminated by SIGTERM")
    finally:
        if installed:
            loop.remove_signal_handler(signal.SIGTERM)  # back to SIG_DFL, as it was


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop when it is installed and not turned off with MCPKIT_UVLOOP=0; with
    MCPKIT_UVLOOP=1 asked for, a MissingExtra when it is not installed."""
    asked = os.environ.get("MCPKIT_UVLOOP")
    if asked == "0":
        return None
    try:
        with needs_extra("fast", "MCPKIT_UVLOOP=1"):
            import uvloop
    except MissingExtra:
        if asked is None:
            return None
        raise
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory
