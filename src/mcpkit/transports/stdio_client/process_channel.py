"""`StdioClientChannel`: the `MessageChannel` over a server subprocess's stdin and stdout,
and the messages that say how the server ended when the channel cannot go on.

Lines in come from the process protocol's line buffer; lines out are written to stdin with
its flow control. When stdout ends or a write fails, the error names the command, its exit
status and the last lines of its stderr, so a server that died at start-up says why.
`aclose()` stops the process as the spec asks (`_process.stop_process`) and reaps it.
"""

from __future__ import annotations

import asyncio
import contextlib
import shlex
import signal
from typing import Final, cast

from mcpkit.errors import ConnectionClosed, TransportError
from mcpkit.transports.stdio_client._process import (
    EXIT_GRACE,
    KILL_TIMEOUT,
    ServerProcessProtocol,
    stop_process,
)
from mcpkit.transports.stdio_client.parameters import StdioParameters

__all__ = ["STDERR_TAIL", "StdioClientChannel"]

#: What precedes the server's last stderr lines in an error about its end.
STDERR_TAIL = "; the last lines of its stderr:\n"

#: Seconds aclose() waits, after the process is gone, for its pipes to close and for the
#: forwarded stderr to be written: bounded, since a grandchild may keep a pipe open.
_RELEASE_TIMEOUT: Final = 2.0


class StdioClientChannel:
    """A MessageChannel to a server subprocess; `aclose()` shuts the process down."""

    def __init__(
        self,
        params: StdioParameters,
        transport: asyncio.SubprocessTransport,
        protocol: ServerProcessProtocol,
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
        # The description of the server's end, worked out once: every later receive and
        # send raises the same message.
        self._ended: str | None = None
        # Set when aclose() starts: errors from then on say "closed", not "the server died".
        self._closing = False
        # Set when aclose() has finished; a second aclose() waits on it instead of stopping
        # the process twice.
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
        """The server's next stdout line; ConnectionClosed, saying how it ended, after the last.

        A server that writes something other than JSON to stdout breaks the spec's rule for
        stdio; such a line is passed on as is, and the session decides what to do with it.
        """
        lines = self._lines
        if lines.lines:
            return lines.pop()
        await lines.wait()
        if lines.lines:
            return lines.pop()
        raise ConnectionClosed(await self._end_message())

    async def send(self, data: bytes) -> None:
        """Write one message and its newline to the server's stdin, waiting while the pipe is
        full (a server that stops reading slows us down instead of filling our memory)."""
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
        """The command line as a shell would show it (cut to 80 characters) and the pid."""
        name = shlex.join([self.params.command, *self.params.args])
        if len(name) > 80:
            name = name[:77] + "..."
        return f"{name!r} (pid {self.process.pid})"

    async def _end_message(self) -> str:
        """Why receive cannot go on: we closed the channel, or the server ended its stdout
        (described with its exit status and stderr once they are known, then remembered)."""
        if self._closing:
            return "the stdio channel was closed"
        if self._ended is None:
            # Stdout ended; the exit status and the last stderr lines follow very soon.
            protocol = self._protocol
            await asyncio.wait((protocol.exited, protocol.stderr_done), timeout=EXIT_GRACE)
            self._ended = self._describe_end()
        return self._ended

    def _describe_end(self) -> str:
        """How the server ended, for ConnectionClosed: exit status or signal, then stderr."""
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
        """Why send cannot go on: like `_end_message`, from the stdin side."""
        if self._closing:
            return "the stdio channel was closed"
        # A server that died at start-up breaks the pipe before its exit is reported: wait
        # (bounded) for the exit and its last stderr lines, which say why it died.
        protocol = self._protocol
        await asyncio.wait((protocol.exited, protocol.stderr_done), timeout=EXIT_GRACE)
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
            await stop_process(
                self._transport,
                self._stdin,
                self._protocol.exited,
                close_timeout=self.params.close_timeout,
                terminate_timeout=self.params.terminate_timeout,
            )
        finally:
            self._release()
            if not self._protocol.exited.done():
                # Cancelled on the way (a deadline, a task group ending): `_release` killed
                # it, and it is reaped before the cancellation goes on. Left to the loop, a
                # process that exits after its loop closed is never reaped.
                await asyncio.wait((self._protocol.exited,), timeout=KILL_TIMEOUT)
            self._closed.set()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(_RELEASE_TIMEOUT):
                await asyncio.shield(self._protocol.finished)
        if self._forward is not None and self._protocol.stderr_done.done():
            await self._forward.wait_drained(_RELEASE_TIMEOUT)

    def _release(self) -> None:
        """Let go of the process and its pipes, whatever state stop_process left them in."""
        stdin = self._stdin
        if self._protocol.exited.done() and stdin.get_write_buffer_size():
            stdin.abort()  # nobody will read what is still buffered
        self._transport.close()  # closes the pipes, and kills the process if it still runs


def _signal_name(number: int) -> str:
    """'9 (SIGKILL)', or the bare number for one this platform does not name."""
    try:
        return f"{number} ({signal.Signals(number).name})"
    except ValueError:
        return str(number)
