"""Several processes serving one port (`Server.run(transport="http", workers=N)`, `mcpkit run
--workers N`): a supervisor binds the listening sockets, starts N copies of the command that
started it, each handed the sockets (`MCPKIT_LISTEN_FDS`), and restarts a worker that dies.

Each worker is the whole program run again (`sys.orig_argv`), so it imports the user's server
itself, exactly as the supervisor did: nothing is pickled, and `python server.py` works as
`mcpkit run server.py` does. The kernel hands each new connection to one worker waiting on
the shared socket. What the workers share beyond the port is the store (`--store`; given
none, a private SQLite file, `_private_store`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from types import FrameType
from typing import Final

from mcpkit.server.asking.request_state import KEY_ENV

__all__ = ["LISTEN_FDS", "inherited_sockets", "is_worker", "supervise", "until_orphaned"]

logger = logging.getLogger("mcpkit.server.workers")

#: The descriptors of the listening sockets a worker serves, comma-separated.
LISTEN_FDS: Final = "MCPKIT_LISTEN_FDS"
#: The supervisor's pid: a worker whose parent is another one (the supervisor died) stops.
SUPERVISOR: Final = "MCPKIT_SUPERVISOR"
#: The worker's slot number (0 to N-1), a worker started again taking its slot's. Also how
#: code elsewhere learns it runs in one of several processes: the authorization front
#: (`mcpkit.auth.front.app`) refuses a per-process signing key there.
WORKER: Final = "MCPKIT_WORKER"
_ORPHAN_CHECK = 0.5  # seconds between a worker's looks at its parent
_QUICK_EXIT = 3.0  # seconds: a worker that ends sooner after its start failed to start
_QUICK_EXITS = 3  # in a row: the program cannot serve (an import error): give up
_STOP_WAIT = 15.0  # seconds a worker has to finish after SIGTERM (its graceful shutdown)


def is_worker() -> bool:
    """Whether this process was started by a supervisor to serve its sockets."""
    return LISTEN_FDS in os.environ


async def until_orphaned(supervisor: int) -> None:
    """Return once this worker's supervisor (`supervisor`, a pid) is gone: SIGKILL leaves it
    no time to stop its workers, which would otherwise serve on, unsupervised, forever."""
    while os.getppid() == supervisor:
        await asyncio.sleep(_ORPHAN_CHECK)
    logger.warning("the supervisor (pid %d) is gone: this worker stops", supervisor)


def inherited_sockets() -> tuple[list[socket.socket], int] | None:
    """The listening sockets the supervisor handed this worker and the supervisor's pid, or
    None outside a worker. Read once: the variables are removed so that a process the server
    starts does not think itself a worker."""
    # `socket(fileno=...)` finds the family and type of the descriptor itself, so the worker
    # needs only the numbers, IPv4 and IPv6 alike.
    fds = os.environ.pop(LISTEN_FDS, None)
    supervisor = os.environ.pop(SUPERVISOR, None)
    if fds is None or supervisor is None:
        return None
    return [socket.socket(fileno=int(fd)) for fd in fds.split(",")], int(supervisor)


def supervise(
    sockets: list[socket.socket],
    workers: int,
    *,
    name: str,
    url: str,
    env: Mapping[str, str] | None = None,
) -> int:
    """Run `workers` workers on `sockets` until SIGINT or SIGTERM, restarting any that dies
    meanwhile, with `env` added to their environment; the exit status to leave with (1 when
    the workers cannot start)."""
    fds = [sock.fileno() for sock in sockets]
    # The interpreter's own arguments too (`-m`, `-X`...): the worker starts exactly as this
    # process did, and so finds the same server the same way.
    argv = [sys.executable, *sys.orig_argv[1:]]
    env = {**os.environ, **(env or {}), LISTEN_FDS: ",".join(map(str, fds))}
    if not env.get(KEY_ENV):
        # The workers seal a 2026-07-28 requestState with one key, so that the retry of a
        # tool that asked its client something opens on whichever worker it reaches. Drawn
        # here when none is configured (other hosts need the same one configured).
        env[KEY_ENV] = secrets.token_urlsafe(32)
    stopping: list[int] = []

    # The handler only notes the signal: the loop below sees it within its next tick and
    # stops the workers from ordinary code, not from inside a signal handler that could
    # interrupt a Popen half-way.
    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.append(signum)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    procs: dict[int, tuple[subprocess.Popen[bytes], float]] = {}
    quick_exits = 0
    try:
        for slot in range(workers):
            procs[slot] = (_start(argv, env, fds, slot), time.monotonic())
        logger.info(
            "serving %s over Streamable HTTP at %s with %d worker processes (pids %s); stop "
            "with Ctrl+C or SIGTERM",
            name,
            url,
            workers,
            ", ".join(str(p.pid) for p, _ in procs.values()),
        )
        # A plain polling loop, no event loop: the supervisor serves nothing itself, it only
        # watches its workers and the signals noted by `stop`.
        while not stopping:
            time.sleep(0.1)
            for slot, (proc, started) in list(procs.items()):
                code = proc.poll()
                if code is None or stopping:
                    continue
                # A worker that dies at once every time (an import error, a bad setting)
                # would be restarted forever, flooding the log: a few in a row end it all.
                quick = time.monotonic() - started < _QUICK_EXIT
                quick_exits = quick_exits + 1 if quick else 0
                if quick_exits >= _QUICK_EXITS:
                    logger.error(
                        "workers of %s keep exiting as they start (the last with status %s): "
                        "stopping; run it with --workers 1 to see why",
                        name,
                        code,
                    )
                    return 1
                logger.warning(
                    "worker %d (pid %d) of %s ended with status %s: starting another",
                    slot,
                    proc.pid,
                    name,
                    code,
                )
                # Restarted in the same slot: the workers stay numbered 0 to N-1.
                procs[slot] = (_start(argv, env, fds, slot), time.monotonic())
        return 0
    finally:
        _stop_all([proc for proc, _ in procs.values()])
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if stopping:
            logger.info("stopped by %s", signal.Signals(stopping[0]).name)


def _start(
    argv: list[str], env: dict[str, str], fds: list[int], slot: int
) -> subprocess.Popen[bytes]:
    """Start the worker of `slot`, the listening sockets passed to it as inherited
    descriptors (`pass_fds`: every other descriptor of the supervisor is closed in it), and
    no stdin, which the workers would otherwise fight over."""
    # In the supervisor's process group: a Ctrl+C, or a kill of the group, reaches every
    # worker too (each shuts down gracefully once, whatever it is sent after).
    return subprocess.Popen(
        argv,
        env={**env, WORKER: str(slot), SUPERVISOR: str(os.getpid())},
        stdin=subprocess.DEVNULL,
        pass_fds=fds,
    )


def _stop_all(procs: list[subprocess.Popen[bytes]]) -> None:
    """SIGTERM every worker still running, then wait for each (SIGKILL past `_STOP_WAIT`)."""
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    # One deadline for all, not one per worker: they stop side by side, so the supervisor
    # waits at most `_STOP_WAIT` in all, however many workers there are.
    deadline = time.monotonic() + _STOP_WAIT
    for proc in procs:
        try:
            proc.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            logger.warning("worker pid %d did not stop in %.0f s: killed", proc.pid, _STOP_WAIT)
            proc.kill()
            proc.wait()
