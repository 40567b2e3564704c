"""A raw JSON-RPC peer for a real server subprocess: bounded writes, a reader thread, reaping.

Every write and every wait has a deadline, so a server that stops reading, stops writing
or dies fails the test with the tail of its stderr instead of hanging it; `close()` always
reaps the process.
"""

from __future__ import annotations

import itertools
import json
import os
import queue
import select
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Final

__all__ = [
    "BackgroundWriter",
    "COMMANDS",
    "PEERS",
    "WAIT",
    "RawServer",
    "ServerGone",
    "rss_kib",
    "write_bounded",
]

PEERS: Final = Path(__file__).parent / "peers"
SERVER_SCRIPT: Final = str(PEERS / "hostile_server.py")
WAIT: Final = 10.0  # seconds: a bound on hangs, not a performance assertion

#: The two ways a user starts a server: the file itself (`server.run()`), and `mcpkit run`.
COMMANDS: Final = {
    "script": [sys.executable, SERVER_SCRIPT],
    "mcpkit-run": [sys.executable, "-m", "mcpkit", "run", SERVER_SCRIPT],
}

INITIALIZE: Final = {
    "jsonrpc": "2.0",
    "id": "init",
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "hostile", "version": "0"},
    },
}
INITIALIZED: Final = {"jsonrpc": "2.0", "method": "notifications/initialized"}

_EOF: Final = object()
_POLL: Final = 0.05  # seconds between checks of the reader thread's stop and pause flags


def _parse(line: bytes) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        return {"unparsed": line}


class ServerGone(AssertionError):
    """The server closed its stdout (exited) or did not answer in time."""


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    """The resident set size of process `pid` in KiB (Linux: /proc/PID/status VmRSS), or its
    peak so far with `field="VmHWM"`."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for process {pid}")


def write_bounded(fd: int, data: bytes, deadline: float, stall: float | None = None) -> int:
    """Write `data` to the non-blocking `fd` until done, past `deadline`, or (if `stall` is
    given) after `stall` seconds in which the reader took nothing. Returns bytes written."""
    view = memoryview(data)
    written = 0
    last_progress = time.monotonic()
    while written < len(data):
        now = time.monotonic()
        if now >= deadline or (stall is not None and now - last_progress >= stall):
            break
        _, ready, _ = select.select([], [fd], [], min(0.05, deadline - now))
        if not ready:
            continue
        try:
            n = os.write(fd, view[written : written + 65536])
        except BlockingIOError:
            continue
        written += n
        last_progress = time.monotonic()
    return written


class BackgroundWriter:
    """Writes `data` to a non-blocking descriptor from a thread, within `timeout` seconds,
    so a test can keep writing to a server that has stopped reading without blocking."""

    def __init__(self, fd: int, data: bytes, timeout: float) -> None:
        self.total = len(data)
        self.written = 0
        self.last_progress = time.monotonic()
        self.error: BaseException | None = None
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(fd, data, timeout), daemon=True)
        self._thread.start()

    def _run(self, fd: int, data: bytes, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        view = memoryview(data)
        try:
            while (
                self.written < self.total
                and not self._stopped.is_set()
                and time.monotonic() < deadline
            ):
                # Short slices of the deadline, so that stop() takes effect at once.
                chunk = write_bounded(
                    fd,
                    view[self.written : self.written + 16384].tobytes(),
                    min(deadline, time.monotonic() + _POLL),
                )
                if chunk:
                    self.written += chunk
                    self.last_progress = time.monotonic()
        except OSError as exc:
            self.error = exc

    def stop(self) -> None:
        """Stop writing (before the descriptor is closed) and wait for the thread."""
        self._stopped.set()
        self._thread.join(WAIT)

    @property
    def idle(self) -> float:
        """Seconds since the server last took any of our bytes (0 once all are written)."""
        if self.written >= self.total:
            return 0.0
        return time.monotonic() - self.last_progress

    @property
    def finished(self) -> bool:
        return not self._thread.is_alive()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)


class RawServer:
    """One server subprocess spoken to in raw bytes. Use as a context manager."""

    def __init__(self, command: list[str], *, env: dict[str, str] | None = None) -> None:
        self._stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env={**os.environ, **(env or {})},
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self._in_fd = self.proc.stdin.fileno()
        os.set_blocking(self._in_fd, False)
        self._messages: queue.Queue[Any] = queue.Queue()
        self._reader: threading.Thread | None = None
        self._reading = threading.Event()
        self._reading.set()
        self._stop = threading.Event()
        self._writers: list[BackgroundWriter] = []
        self._ids = itertools.count(1)
        self.eof = False
        self._start_reading()

    @property
    def pid(self) -> int:
        return self.proc.pid

    def __enter__(self) -> RawServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ output

    def _start_reading(self) -> None:
        """Start the thread that reads the server's stdout and splits it into messages."""
        self._reader = threading.Thread(target=self._read_lines, daemon=True)
        self._reader.start()

    def pause_reading(self) -> None:
        """Stop taking the server's output (its pipe fills up), until `resume_reading`."""
        self._reading.clear()

    def resume_reading(self) -> None:
        self._reading.set()

    def close_read_end(self) -> None:
        """Close our end of the server's stdout (as a client that goes away would), keeping
        its stdin open."""
        self._stop.set()
        self._reading.set()
        if self._reader is not None:
            self._reader.join(timeout=WAIT)
        assert self.proc.stdout is not None
        self.proc.stdout.close()

    def _read_lines(self) -> None:
        # Raw reads with a short select timeout, so the thread can pause and stop at once
        # (closing a buffered file under a blocked read would wait for the read).
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        partial = b""
        while not self._stop.is_set():
            if not self._reading.wait(_POLL):
                continue
            ready, _, _ = select.select([fd], [], [], _POLL)
            if not ready:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            *lines, partial = (partial + chunk).split(b"\n")
            for line in lines:
                self._messages.put(_parse(line))
        self._messages.put(_EOF)

    def next_message(self, timeout: float = WAIT) -> Any:
        """The next message the server wrote; raises ServerGone on exit or silence."""
        try:
            msg = self._messages.get(timeout=timeout)
        except queue.Empty:
            raise ServerGone(f"no message within {timeout} s{self.stderr_note()}") from None
        if msg is _EOF:
            self.eof = True
            self._messages.put(_EOF)  # every later call sees the end too
            self.proc.wait(timeout=WAIT)
            raise ServerGone(
                f"the server closed stdout (exit code {self.proc.returncode}){self.stderr_note()}"
            )
        return msg

    def answer_to(self, rid: Any, timeout: float = WAIT) -> tuple[Any, list[Any]]:
        """Read until the answer to `rid`; return it and every message read before it."""
        before: list[Any] = []
        deadline = time.monotonic() + timeout
        while True:
            msg = self.next_message(max(0.0, deadline - time.monotonic()))
            if isinstance(msg, dict) and msg.get("id") == rid and "method" not in msg:
                return msg, before
            before.append(msg)

    def stderr_note(self) -> str:
        self._stderr.seek(0)
        tail = self._stderr.read()[-1500:].decode("utf-8", "replace").strip()
        return f"; the server's stderr ends with:\n{tail}" if tail else ""

    # ------------------------------------------------------------------- input

    def write_in_background(self, data: bytes, timeout: float) -> BackgroundWriter:
        writer = BackgroundWriter(self._in_fd, data, timeout)
        self._writers.append(writer)
        return writer

    def write(self, data: bytes, timeout: float = WAIT) -> None:
        """Write raw bytes (add the newline yourself); fail if the server stops reading."""
        try:
            written = write_bounded(self._in_fd, data, time.monotonic() + timeout)
        except BrokenPipeError:
            self.proc.wait(timeout=WAIT)
            raise ServerGone(
                f"the server closed stdin (exit code {self.proc.returncode}){self.stderr_note()}"
            ) from None
        if written < len(data):
            raise ServerGone(
                f"the server took {written} of {len(data)} bytes within "
                f"{timeout} s{self.stderr_note()}"
            )

    def send(self, message: Any) -> None:
        self.write(json.dumps(message).encode() + b"\n")

    def request(self, method: str, params: Any = None) -> Any:
        """Send a request with a fresh id and return its answer."""
        rid = f"r{next(self._ids)}"
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            message["params"] = params
        self.send(message)
        return self.answer_to(rid)[0]

    def initialize(self) -> None:
        self.send(INITIALIZE)
        answer, _ = self.answer_to("init")
        assert answer["result"]["protocolVersion"] == "2025-11-25", answer
        self.send(INITIALIZED)

    def ping_after(self) -> list[Any]:
        """Send a ping; assert it is answered; return what the server wrote before it."""
        rid = f"probe-{next(self._ids)}"
        self.send({"jsonrpc": "2.0", "id": rid, "method": "ping"})
        answer, before = self.answer_to(rid)
        assert answer == {"jsonrpc": "2.0", "id": rid, "result": {}}, answer
        return before

    # ---------------------------------------------------------------- shutdown

    def close(self) -> None:
        """Stop our writers, keep draining the server's output, close its stdin, wait
        (bounded) for it to exit, kill it if need be; always reap it."""
        proc = self.proc
        for writer in self._writers:
            writer.stop()  # before stdin is closed: a thread must not write to a reused fd
        self._reading.set()  # a server blocked on a full stdout can then see stdin close
        try:
            if proc.stdin is not None:
                proc.stdin.close()
        except OSError:
            pass  # a broken pipe: the server is gone already
        try:
            proc.wait(timeout=WAIT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=WAIT)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=WAIT)
            self._stop.set()
            if self._reader is not None:
                self._reader.join(timeout=WAIT)
            if proc.stdout is not None:
                proc.stdout.close()
            self._stderr.close()
