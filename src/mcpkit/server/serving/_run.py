"""Running a Server in the foreground (`Server.run()`): the event loop it runs on, a clean end
on SIGTERM, its logging to stderr, a store checked to answer before anything serves, and its
refusal to serve while `mcpkit run` imports the user's file."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import Callable, Generator
from typing import TYPE_CHECKING, Any

from mcpkit._extras import needs_extra
from mcpkit.errors import MissingExtra

if TYPE_CHECKING:
    from collections.abc import Coroutine

    from mcpkit.stores.url import Stores

__all__ = [
    "check_run_allowed",
    "checked",
    "log_to_stderr",
    "loop_factory",
    "refusing_run",
    "until_terminated",
]

logger = logging.getLogger("mcpkit.server")

# Why `Server.run()` may not serve now, while `mcpkit run` imports the user's file (see
# `refusing_run`); None: it may.
# Module-level on purpose: `mcpkit run` and the user's file share nothing else, and the
# refusal must reach whichever Server the file builds.
_run_refusal: str | None = None


@contextlib.contextmanager
def refusing_run(reason: str) -> Generator[None, None, None]:
    """While in this block, `Server.run()` raises RuntimeError(reason) instead of serving:
    `mcpkit run` serves the Server itself, so a `run()` called at import time would serve
    first, and then again. (Over stdio the taken stdio refuses it already.)"""
    global _run_refusal
    # Restored, not cleared, on the way out: nested uses (a test inside `mcpkit run`) each
    # get back what was in force before them.
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
    # SIGTERM is how process managers (systemd, Docker, Kubernetes) stop a server; its
    # default action kills the process at once, leaving stores and lifespans open. Turning it
    # into a cancellation of `main` runs every `finally` and `async with` on the way out.
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    terminated = False

    def terminate() -> None:
        nonlocal terminated
        terminated = True
        if task is not None:
            task.cancel()

    # Only where SIGTERM still has its default action: an application that installed its
    # own handler decides itself what SIGTERM means.
    installed = False
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGTERM, terminate)  # not on Windows, off-thread
            installed = True
    try:
        await main
    except asyncio.CancelledError:
        # A cancellation from anything but our SIGTERM handler is the caller's, and goes on.
        if not terminated:
            raise
        logger.info("terminated by SIGTERM")
    finally:
        if installed:
            loop.remove_signal_handler(signal.SIGTERM)  # back to SIG_DFL, as it was


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop when it is installed and not turned off with MCPKIT_UVLOOP=0; with
    MCPKIT_UVLOOP=1 asked for, a MissingExtra when it is not installed."""
    # Three cases: not set (uvloop if it happens to be installed, else asyncio, silently),
    # "0" (asyncio, e.g. to rule uvloop out when chasing a bug), "1" (uvloop or an error:
    # the operator asked for it, and must not get asyncio without knowing).
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
    # A factory for `asyncio.Runner`, not a policy set process-wide: only the loop `run()`
    # makes is uvloop's, and the application's own loops are left as they are.
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


async def checked(store: Stores, main: Coroutine[Any, Any, None]) -> None:
    """`main`, once the store answers (`Stores.check`): a store that is down is one line and
    a non-zero exit before anything serves."""
    from mcpkit.stores.url import StoreUnavailable

    try:
        await store.check()
    except StoreUnavailable as exc:
        # Closed, never awaited: the coroutine was made by the caller, and Python would
        # warn that it was never awaited.
        main.close()
        raise SystemExit(f"{exc}: start it, or give another store URL") from None
    await main


def log_to_stderr() -> None:
    """Log INFO and above to stderr, unless the program configured logging itself.

    stderr, never stdout: over stdio, stdout is the protocol's; and the "serving ... at URL"
    line is how a user of `run()` learns where the server is, so INFO must show."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
