"""Run `mcpkit run ... --transport http` (or any command that serves HTTP) as a subprocess: read
the URL it serves at from its log, keep its log, stop it with a signal; every wait bounded."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import sqlite3
import sys
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping, Sequence
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
WAIT = 20.0  # seconds: a bound on hangs (a cold start imports uvicorn), not a measurement
SERVING = re.compile(r"over Streamable HTTP at (http://\S+)")
WORKERS = re.compile(r"with 2 worker processes \(pids (\d+), (\d+)\)")
STOP_TRIES = 50  # a stopped worker found holding the SQLite file's write lock: tries at most
#: Seconds the lock probe of a stopped worker's SQLite file waits. Far below the store's
#: deadline (5 s): while it waits, a worker stopped holding the lock keeps the running one's
#: writes waiting too (its lease at start, a session record), and a wait as long as the
#: deadline failed them (a CI run's "could not take this process's lease").
LOCK_PROBE = 0.05


def mcpkit(*args: str) -> list[str]:
    return [sys.executable, "-m", "mcpkit", *args]


class Running:
    """A server subprocess: `url` once it listens, `log` (its stderr lines so far)."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.url = ""
        self.log: list[str] = []
        self._found = asyncio.get_running_loop().create_future()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        assert self.proc.stderr is not None
        while line := await self.proc.stderr.readline():
            text = line.decode(errors="replace").rstrip("\n")
            self.log.append(text)
            match = SERVING.search(text)
            if match and not self._found.done():
                self._found.set_result(match.group(1))
        if not self._found.done():
            self._found.set_exception(AssertionError("exited before serving:\n" + self.text))
            # Marked retrieved: `started()` still raises it, and a test of a start meant to
            # fail, which never calls it, leaves no "exception was never retrieved" error.
            self._found.exception()

    @property
    def text(self) -> str:
        return "\n".join(self.log)

    async def started(self) -> str:
        async with asyncio.timeout(WAIT):
            self.url = await self._found
        return self.url

    def workers(self) -> list[int]:
        """The pids of the two workers the supervisor logged it started (`--workers 2`)."""
        found = next(m for line in self.log if (m := WORKERS.search(line)))
        return [int(found.group(1)), int(found.group(2))]

    def other(self, pid: int) -> int:
        """The worker that is not `pid`, of the two `workers`."""
        (found,) = [worker for worker in self.workers() if worker != pid]
        return found

    async def stop(self, sig: int = signal.SIGTERM) -> int:
        """Send `sig` and wait for the exit (and the whole log); the exit status."""
        self.proc.send_signal(sig)
        return await self.exited()

    async def exited(self) -> int:
        async with asyncio.timeout(WAIT):
            code = await self.proc.wait()
            await self._reader
        return code


@contextlib.asynccontextmanager
async def running(
    argv: Sequence[str], cwd: Path = REPO, env: Mapping[str, str] | None = None
) -> AsyncIterator[Running]:
    """Start `argv` with this checkout's mcpkit first on the path (and `env` added to this
    process's environment); always killed on exit."""
    env = {**os.environ, **(env or {})}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO / "src"), env.get("PYTHONPATH")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    server = Running(proc)
    try:
        yield server
    finally:
        if proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            async with asyncio.timeout(WAIT):
                await proc.wait()
        # Read the log to its end before leaving: the pipe's end of file is what closes its
        # transport, and a reader cancelled at once left that to a loop about to close, so
        # the transport was collected open (a ResourceWarning failing some later test).
        await asyncio.wait({server._reader}, timeout=WAIT)
        server._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await server._reader


def _state(pid: int) -> str:
    """The process's state letter in /proc (T: stopped, Z: a zombie)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def _writable(db: Path) -> bool:
    """Whether SQLite's write lock on `db` can be taken within `LOCK_PROBE` seconds. A
    running process holds it for a transaction at a time, so a False now and then is one
    more try of `stopped`, never a wait the other worker's writes would notice."""
    connection = sqlite3.connect(db, timeout=LOCK_PROBE, isolation_level=None)
    try:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc):
            raise
        return False
    finally:
        connection.close()


@contextlib.asynccontextmanager
async def stopped(pid: int, db: Path | None = None) -> AsyncIterator[None]:
    """Worker `pid` stopped (SIGSTOP, and seen stopped) until the block ends, then continued
    (SIGCONT): the workers accept from one shared listening socket, so meanwhile every new
    connection goes to another worker. Which worker serves a request is otherwise the
    kernel's choice: on a busy machine one may take every connection for long, or be the
    only one accepting yet while the other still starts.

    `db` is the SQLite file the workers share: a worker stopped in the middle of a
    transaction would hold its write lock, and the others would wait for it (SQLite's busy
    timeout), so it is continued and stopped again until it is stopped holding none."""
    for _ in range(STOP_TRIES):
        os.kill(pid, signal.SIGSTOP)
        async with asyncio.timeout(WAIT):  # signalled is not yet stopped
            while _state(pid) != "T":
                await asyncio.sleep(0.01)
        if db is None or await asyncio.to_thread(_writable, db):
            break
        os.kill(pid, signal.SIGCONT)
        await asyncio.sleep(0.05)
    else:
        raise AssertionError(
            f"worker {pid} held the write lock of {db} at each of {STOP_TRIES} stops"
        )
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


class AnswersCross:
    """Steers the calls of a client whose requests each go on a connection of their own
    (`Connection: close`) so that its answer to a tool's question reaches another worker than
    the one running the tool: under `on(runner)`, worker `runner` takes the call (the other
    stopped while it is sent); from the question (call `asked()` in the client's handler)
    until the answer's POST is answered, `runner` is stopped instead, so the other takes the
    answer and must hand it on. Give the client `auth` (it sees that POST answered)."""

    def __init__(self, sup: Running, db: Path | None) -> None:
        self._sup = sup
        self._db = db
        self._held = contextlib.AsyncExitStack()  # the worker stopped now, if any
        self._runner: int | None = None
        self.auth = _AfterAnswers(self._held.aclose)

    @contextlib.asynccontextmanager
    async def on(self, runner: int) -> AsyncIterator[None]:
        """Worker `runner` takes the calls made meanwhile."""
        self._runner = runner
        async with self._held:
            await self._held.enter_async_context(stopped(self._sup.other(runner), self._db))
            yield
        self._runner = None

    async def asked(self) -> None:
        """The running worker asked (so it holds the call): it is stopped, the other goes on,
        until the answer's POST is answered."""
        assert self._runner is not None, "asked outside `on`"
        await self._held.aclose()
        await self._held.enter_async_context(stopped(self._runner, self._db))


class _AfterAnswers(httpx.Auth):
    """An `httpx.Auth` that adds nothing to a request, and once a POST carrying a client's
    answer (a JSON-RPC response) is answered, awaits `then()`."""

    requires_request_body = True

    def __init__(self, then: Callable[[], Awaitable[object]]) -> None:
        self._then = then

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        yield request
        if request.method == "POST" and _is_answer(request.content):
            await self._then()


def _is_answer(body: bytes) -> bool:
    try:
        message = json.loads(body)
    except ValueError:
        return False
    return (
        isinstance(message, dict)
        and "method" not in message
        and ("result" in message or "error" in message)
    )
