"""The server as an operating-system process: where its pipes' bytes go
(`ServerProcessProtocol`), and how it is stopped (`stop_process`).

The protocol routes stdout to the line buffer and stderr to its tail and forwarder, and
turns the process's exit and its pipes' ends into futures the channel waits on. Stopping
follows the spec (basic/lifecycle, "Shutdown"): close the server's stdin, wait for it to
exit, then SIGTERM, then SIGKILL.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Final, cast

from mcpkit.transports._lines import LineBuffer
from mcpkit.transports._pipes import FlowControl, tune_read_transport
from mcpkit.transports.stdio_client._stderr import StderrForwarder, StderrTail

__all__ = ["EXIT_GRACE", "KILL_TIMEOUT", "ServerProcessProtocol", "stop_process"]

#: Seconds we wait, once the process has exited or its stdout has ended, for the other to
#: follow. The two normally come together; the bound covers a grandchild holding stdout open.
EXIT_GRACE: Final = 1.0
#: Seconds to wait for the exit after SIGKILL: the kernel may still be tearing the process
#: down (a stuck disk), and close() gives up rather than hang for ever.
KILL_TIMEOUT: Final = 5.0


class ServerProcessProtocol(asyncio.SubprocessProtocol):
    """Routes the child's pipes: stdout to the line buffer, stderr to the tail (and on to
    where the user asked)."""

    # Read by asyncio.subprocess.Process, which we build over this protocol.
    stdin = stdout = stderr = None

    def __init__(
        self,
        lines: LineBuffer,
        flow: FlowControl,
        tail: StderrTail,
        forward: StderrForwarder | None,
    ) -> None:
        loop = asyncio.get_running_loop()
        self.lines = lines
        self.flow = flow
        self.tail = tail
        self.forward = forward
        # Done when the process has exited: stop_process waits on it between its steps.
        self.exited: asyncio.Future[None] = loop.create_future()
        # Done when stderr has ended: its last lines are in the tail, for error messages.
        self.stderr_done: asyncio.Future[None] = loop.create_future()
        # Done when the transport has let go of the process and every pipe (connection_lost).
        self.finished: asyncio.Future[None] = loop.create_future()
        # The timer that ends input EXIT_GRACE after the exit, if stdout is still open then.
        self._grace: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Flow control for the server's stdout: when our queue of lines is full, reading
        # the pipe stops, the pipe fills, and the server blocks in its write until we catch up.
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
        """One pipe closed: stdin (the server stopped reading, or we closed it), stdout (no
        more messages will come), or stderr (the tail is final)."""
        if fd == 0:
            self.flow.connection_lost()
        elif fd == 1:
            self.lines.feed_eof()
        elif fd == 2:
            self._stderr_ended()

    def _stderr_ended(self) -> None:
        """Mark stderr final and let the forwarder's thread finish what it was given; safe
        to call twice (the pipe's end, then the transport's)."""
        _settle(self.stderr_done)
        if self.forward is not None:
            self.forward.close()
            self.forward = None

    def process_exited(self) -> None:
        _settle(self.exited)
        if not self.lines.eof:
            # A grandchild may hold stdout open after the server died: stop waiting soon.
            loop = asyncio.get_running_loop()
            self._grace = loop.call_later(EXIT_GRACE, self.lines.feed_eof)

    def pause_writing(self) -> None:
        self.flow.pause_writing()

    def resume_writing(self) -> None:
        self.flow.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        """The transport is done with the process: settle everything still open, so that no
        waiter (a receive, a drain, aclose) is left waiting on a pipe that will never end."""
        if self._grace is not None:
            self._grace.cancel()
        self.lines.feed_eof()
        self.flow.connection_lost()
        self._stderr_ended()
        for fut in (self.exited, self.finished):
            _settle(fut)


def _settle(fut: asyncio.Future[None]) -> None:
    """Resolve `fut` unless it already is: each of them can be reached from two callbacks."""
    if not fut.done():
        fut.set_result(None)


async def stop_process(
    transport: asyncio.SubprocessTransport,
    stdin: asyncio.WriteTransport,
    exited: asyncio.Future[None],
    *,
    close_timeout: float,
    terminate_timeout: float,
) -> None:
    """Close stdin, wait, SIGTERM, wait, SIGKILL, wait (spec: lifecycle, Shutdown); each
    step only if the process has not exited (`exited` done) by then.

    Closing stdin first gives the server its end of file, the spec's graceful signal, and
    the chance to finish and flush; the signals are for one that ignores it or hangs. A
    process already gone by the time we signal it raises ProcessLookupError, ignored.
    """
    stdin.close()
    if await _exited_within(exited, close_timeout):
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        transport.terminate()  # SIGTERM (TerminateProcess on Windows)
    if await _exited_within(exited, terminate_timeout):
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        transport.kill()  # SIGKILL
    await _exited_within(exited, KILL_TIMEOUT)


async def _exited_within(exited: asyncio.Future[None], timeout: float) -> bool:
    """Wait up to `timeout` seconds (a negative one counts as none) for the exit; whether
    it happened. asyncio.wait rather than wait_for: the future must not be cancelled."""
    if not exited.done():
        await asyncio.wait((exited,), timeout=max(timeout, 0.0))
    return exited.done()
