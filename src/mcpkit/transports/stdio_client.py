"""The client end of the stdio transport: start the server as a subprocess, talk to it over
its stdin and stdout, and shut it down the way the spec asks.

Spec: basic/transports, "stdio", and basic/lifecycle, "Shutdown": close the server's stdin,
wait for it to exit, then SIGTERM, then SIGKILL. The child gets a small safe environment
(`default_environment()`) plus what the caller adds, never the whole of ours.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import queue
import shlex
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import IO, Any, Final, Literal, cast

import msgspec

from mcpkit.errors import ConnectionClosed, TransportError
from mcpkit.transports._lines import (
    DEFAULT_MAX_MESSAGE_SIZE,
    FlowControl,
    LineBuffer,
    tune_read_transport,
)

__all__ = [
    "STDERR_TAIL",
    "StderrOption",
    "StdioClientChannel",
    "StdioParameters",
    "default_environment",
    "open_stdio_client_channel",
]

#: What precedes the server's last stderr lines in an error about its end.
STDERR_TAIL = "; the last lines of its stderr:\n"

#: Where the server's stderr goes: our own stderr ("inherit"), nowhere else ("capture" and
#: "devnull"), or a file object or descriptor. Whatever the choice, it is read through a pipe
#: and its last lines are kept, so an error about the server's death can say why it died.
StderrOption = Literal["inherit", "capture", "devnull"] | IO[Any] | int

logger = logging.getLogger("mcpkit.client")

_POSIX_ENVIRONMENT: Final = ("HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER")
_WINDOWS_ENVIRONMENT: Final = (
    "APPDATA",
    "HOMEDRIVE",
    "HOMEPATH",
    "LOCALAPPDATA",
    "PATH",
    "PATHEXT",
    "PROCESSOR_ARCHITECTURE",
    "PROGRAMFILES",
    "SYSTEMDRIVE",
    "SYSTEMROOT",
    "TEMP",
    "USERNAME",
    "USERPROFILE",
)
_EXIT_GRACE: Final = 1.0  # seconds between exit and end of stdout we wait for the other
_KILL_TIMEOUT: Final = 5.0  # seconds to wait for the exit after SIGKILL
_RELEASE_TIMEOUT: Final = 2.0  # seconds to wait for the pipes to close at the very end
_TAIL_BYTES: Final = 4 * 1024
_TAIL_LINES: Final = 20
_FORWARD_LIMIT: Final = 1024 * 1024  # bytes of stderr waiting to be forwarded before we drop


class StdioParameters(msgspec.Struct, frozen=True):
    """How to start a stdio server: the command, its arguments, environment and limits."""

    command: str
    args: Sequence[str] = ()
    #: Added on top of `default_environment()`.
    env: Mapping[str, str] | None = None
    cwd: str | os.PathLike[str] | None = None
    stderr: StderrOption = "inherit"
    #: Seconds to wait for the server to exit once its stdin is closed, before SIGTERM.
    close_timeout: float = 2.0
    #: Seconds to wait after SIGTERM before SIGKILL.
    terminate_timeout: float = 2.0
    #: A longer line from the server is cut to this + 1 bytes (the session rejects it).
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE


def default_environment() -> dict[str, str]:
    """The variables a server inherits from us: only the few a program needs to run.

    Values that start with "()" are skipped: they are exported shell functions.
    """
    names = _WINDOWS_ENVIRONMENT if sys.platform == "win32" else _POSIX_ENVIRONMENT
    env: dict[str, str] = {}
    for name in names:
        value = os.environ.get(name)
        if value is not None and not value.startswith("()"):
            env[name] = value
    return env


class _StderrTail:
    """The last few KiB of the server's stderr, for error messages."""

    def __init__(self) -> None:
        self._data = bytearray()

    def feed(self, data: bytes) -> None:
        self._data += data
        if len(self._data) > 2 * _TAIL_BYTES:
            del self._data[:-_TAIL_BYTES]

    def text(self) -> str:
        text = bytes(self._data[-_TAIL_BYTES:]).decode("utf-8", errors="replace")
        return "\n".join(text.rstrip().splitlines()[-_TAIL_LINES:])


class _StderrForwarder:
    """Copies the server's stderr to where the user asked, from a thread of its own: a slow
    or stuck destination (a full pipe nobody reads) never blocks the event loop. Past
    `_FORWARD_LIMIT` bytes waiting, chunks are dropped (the tail still has them)."""

    def __init__(self, write: Callable[[bytes], None]) -> None:
        self._write = write
        self._queue: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._pending = 0
        self._thread: threading.Thread | None = None
        self.dropped = 0

    @property
    def pending(self) -> int:
        """Bytes fed and not yet written (at most `_FORWARD_LIMIT`)."""
        with self._lock:
            return self._pending

    def feed(self, data: bytes) -> None:
        with self._lock:
            if self._pending + len(data) > _FORWARD_LIMIT:
                if not self.dropped:
                    logger.warning(
                        "the server's stderr is written more slowly than it "
                        "arrives; dropping it past 1 MiB (its tail is kept)"
                    )
                self.dropped += len(data)
                return
            self._pending += len(data)
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="mcpkit-stderr", daemon=True)
            self._thread.start()
        self._queue.put(data)

    def close(self) -> None:
        if self._thread is not None:
            self._queue.put(None)

    async def wait_drained(self, timeout: float) -> None:
        """Wait (bounded, off the loop) until what was fed before `close` is written."""
        thread = self._thread
        if thread is not None and thread.is_alive():
            await asyncio.get_running_loop().run_in_executor(None, thread.join, timeout)

    def _run(self) -> None:
        failed = False
        while (data := self._queue.get()) is not None:
            if not failed:
                try:
                    self._write(data)
                except (OSError, ValueError):  # the destination was closed: keep draining
                    failed = True
            with self._lock:
                self._pending -= len(data)


class _ServerProcessProtocol(asyncio.SubprocessProtocol):
    """Routes the child's pipes: stdout to the line buffer, stderr to the tail (and on to
    where the user asked)."""

    # Read by asyncio.subprocess.Process, which we build over this protocol.
    stdin = stdout = stderr = None

    def __init__(
        self,
        lines: LineBuffer,
        flow: FlowControl,
        tail: _StderrTail,
        forward: _StderrForwarder | None,
    ) -> None:
        loop = asyncio.get_running_loop()
        self.lines = lines
        self.flow = flow
        self.tail = tail
        self.forward = forward
        self.exited: asyncio.Future[None] = loop.create_future()
        self.stderr_done: asyncio.Future[None] = loop.create_future()
        self.finished: asyncio.Future[None] = loop.create_future()
        self._grace: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        pipe = cast(asyncio.SubprocessTransport, transport).get_pipe_transport(1)
        if isinstance(pipe, asyncio.ReadTransport):
            tune_read_transport(pipe, self.lines)

    def pipe_data_received(self, fd: int, data: bytes | str) -> None:
        if fd == 1:
            self.lines.feed(cast(bytes, data))
        elif fd == 2:
            self.tail.feed(cast(bytes, data))
            if self.forward is not None:
                self.forward.feed(cast(bytes, data))

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        if fd == 0:
            self.flow.connection_lost()
        elif fd == 1:
            self.lines.feed_eof()
        elif fd == 2:
            self._stderr_ended()

    def _stderr_ended(self) -> None:
        _settle(self.stderr_done)
        if self.forward is not None:
            self.forward.close()
            self.forward = None

    def process_exited(self) -> None:
        _settle(self.exited)
        if not self.lines.eof:
            # A grandchild may hold stdout open after the server died: stop waiting soon.
            loop = asyncio.get_running_loop()
            self._grace = loop.call_later(_EXIT_GRACE, self.lines.feed_eof)

    def pause_writing(self) -> None:
        self.flow.pause_writing()

    def resume_writing(self) -> None:
        self.flow.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._grace is not None:
            self._grace.cancel()
        self.lines.feed_eof()
        self.flow.connection_lost()
        self._stderr_ended()
        for fut in (self.exited, self.finished):
            _settle(fut)


def _settle(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


class StdioClientChannel:
    """A MessageChannel to a server subprocess; `aclose()` shuts the process down."""

    def __init__(
        self,
        params: StdioParameters,
        transport: asyncio.SubprocessTransport,
        protocol: _ServerProcessProtocol,
    ) -> None:
        self.params = params
        self._transport = transport
        self._protocol = protocol
        self._lines = protocol.lines
        self._flow = protocol.flow
        self._tail = protocol.tail
        self._forward = protocol.forward
        # uvloop's pipe transports have the WriteTransport methods without subclassing it.
        stdin = cast("asyncio.WriteTransport | None", transport.get_pipe_transport(0))
        if stdin is None:
            raise TransportError("the server process has no stdin pipe")
        self._stdin = stdin
        self.process = asyncio.subprocess.Process(transport, protocol, asyncio.get_running_loop())
        self._ended: str | None = None
        self._closing = False
        self._closed: asyncio.Event | None = None

    @property
    def returncode(self) -> int | None:
        """The server's exit status once it has exited (negative: killed by that signal)."""
        return self._transport.get_returncode()

    def stderr_tail(self) -> str:
        """The last lines (at most 4 KiB) the server wrote to stderr, whatever `stderr` says."""
        return self._tail.text()

    # --------------------------------------------------------------- messages

    async def receive(self) -> bytes:
        lines = self._lines
        if lines.lines:
            return lines.pop()
        await lines.wait()
        if lines.lines:
            return lines.pop()
        raise ConnectionClosed(await self._end_message())

    async def send(self, data: bytes) -> None:
        stdin = self._stdin
        if self._closing or stdin.is_closing():
            raise ConnectionClosed(await self._write_failure())
        stdin.write(data + b"\n")
        if stdin.is_closing():  # the write failed (EPIPE): the transport is already closing
            raise ConnectionClosed(await self._write_failure())
        flow = self._flow
        if flow.paused:
            await flow.drain()
            if flow.lost:
                raise ConnectionClosed(await self._write_failure())

    # ------------------------------------------------------------ descriptions

    def _name(self) -> str:
        name = shlex.join([self.params.command, *self.params.args])
        if len(name) > 80:
            name = name[:77] + "..."
        return f"{name!r} (pid {self.process.pid})"

    async def _end_message(self) -> str:
        if self._closing:
            return "the stdio channel was closed"
        if self._ended is None:
            # Stdout ended; the exit status and the last stderr lines follow very soon.
            protocol = self._protocol
            await asyncio.wait((protocol.exited, protocol.stderr_done), timeout=_EXIT_GRACE)
            self._ended = self._describe_end()
        return self._ended

    def _describe_end(self) -> str:
        code = self.returncode
        if code is None:
            what = "closed its stdout but is still running"
        elif code < 0:
            what = f"exited: killed by signal {_signal_name(-code)}"
        else:
            what = f"exited with code {code}"
        message = f"the server process {self._name()} {what}"
        tail = self.stderr_tail()
        if tail:
            message += f"{STDERR_TAIL}{tail}"
        return message

    async def _write_failure(self) -> str:
        if self._closing:
            return "the stdio channel was closed"
        # A server that died at start-up breaks the pipe before its exit is reported: wait
        # (bounded) for the exit and its last stderr lines, which say why it died.
        protocol = self._protocol
        await asyncio.wait((protocol.exited, protocol.stderr_done), timeout=_EXIT_GRACE)
        if self.returncode is not None:
            return self._describe_end()
        message = f"cannot write to the server process {self._name()}: its stdin is closed"
        tail = self.stderr_tail()
        if tail:
            message += f"{STDERR_TAIL}{tail}"
        return message

    # ---------------------------------------------------------------- shutdown

    async def aclose(self) -> None:
        """Close stdin, wait, SIGTERM, wait, SIGKILL (spec: lifecycle, Shutdown); reap."""
        if self._closed is not None:
            await self._closed.wait()
            return
        self._closed = asyncio.Event()
        self._closing = True
        # Keep reading (and dropping) stdout: a server blocked on a full pipe cannot exit.
        self._lines.discard()
        try:
            await self._stop_process()
        finally:
            self._release()
            self._closed.set()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_RELEASE_TIMEOUT):
                await asyncio.shield(self._protocol.finished)
        if self._forward is not None and self._protocol.stderr_done.done():
            await self._forward.wait_drained(_RELEASE_TIMEOUT)

    async def _stop_process(self) -> None:
        self._stdin.close()
        if await self._exited_within(self.params.close_timeout):
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            self._transport.terminate()  # SIGTERM (TerminateProcess on Windows)
        if await self._exited_within(self.params.terminate_timeout):
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            self._transport.kill()  # SIGKILL
        await self._exited_within(_KILL_TIMEOUT)

    async def _exited_within(self, timeout: float) -> bool:
        exited = self._protocol.exited
        if not exited.done():
            await asyncio.wait((exited,), timeout=max(timeout, 0.0))
        return exited.done()

    def _release(self) -> None:
        stdin = self._stdin
        if self._protocol.exited.done() and stdin.get_write_buffer_size():
            stdin.abort()  # nobody will read what is still buffered
        self._transport.close()  # closes the pipes, and kills the process if it still runs


def _signal_name(number: int) -> str:
    try:
        return f"{number} ({signal.Signals(number).name})"
    except ValueError:
        return str(number)


def _stderr_forwarder(option: StderrOption) -> _StderrForwarder | None:
    """Where to copy the server's stderr to (None: nowhere; the tail is kept either way)."""
    if isinstance(option, str):
        if option == "inherit":
            return _StderrForwarder(_fd_writer(2))
        if option in ("capture", "devnull"):
            return None
        raise ValueError(
            f"stderr must be 'inherit', 'capture', 'devnull', a file or a "
            f"file descriptor, not {option!r}"
        )
    if isinstance(option, int):
        return _StderrForwarder(_fd_writer(option))
    try:
        return _StderrForwarder(_fd_writer(option.fileno()))
    except (OSError, ValueError, AttributeError):  # no descriptor (io.StringIO, say)
        return _StderrForwarder(_object_writer(option))


def _fd_writer(fd: int) -> Callable[[bytes], None]:
    def write(data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]

    return write


def _object_writer(target: IO[Any]) -> Callable[[bytes], None]:
    def write(data: bytes) -> None:
        try:
            target.write(data)
        except TypeError:  # a text stream
            target.write(data.decode("utf-8", errors="replace"))
        target.flush()

    return write


def _start_failure(params: StdioParameters, exc: OSError) -> TransportError:
    reason = "not found" if isinstance(exc, FileNotFoundError) else (exc.strerror or str(exc))
    cwd = params.cwd
    if cwd is not None and exc.filename is not None and str(exc.filename) == os.fspath(cwd):
        return TransportError(
            f"cannot start {params.command!r}: its working directory {os.fspath(cwd)!r}: {reason}"
        )
    if isinstance(exc, FileNotFoundError) and os.sep not in params.command:
        reason += " on the PATH"
    return TransportError(f"cannot start {params.command!r}: {reason}")


async def open_stdio_client_channel(params: StdioParameters) -> StdioClientChannel:
    """Start the server process described by `params` and return a channel to it."""
    loop = asyncio.get_running_loop()
    env = default_environment()
    if params.env:
        env.update(params.env)
    command = params.command
    if sys.platform == "win32":  # CreateProcess does not search PATH for .cmd/.bat files
        command = shutil.which(command, path=env.get("PATH")) or command
    forward = _stderr_forwarder(params.stderr)
    lines = LineBuffer(params.max_message_size)
    flow = FlowControl()
    try:
        transport, protocol = await loop.subprocess_exec(
            lambda: _ServerProcessProtocol(lines, flow, _StderrTail(), forward),
            command,
            *params.args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=params.cwd,
        )
    except OSError as exc:
        raise _start_failure(params, exc) from exc
    return StdioClientChannel(params, transport, protocol)
