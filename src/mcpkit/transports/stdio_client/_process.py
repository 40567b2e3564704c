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

from mcpkit.transports._lines import FlowControl, LineBuffer, tune_read_transport
from mcpkit.transports.stdio_client._stderr import StderrForwarder, StderrTail

__all__ = ["EXIT_GRACE", "KILL_TIMEOUT", "ServerProcessProtocol", "stop_process"]

EXIT_GRACE: Final = 1.0  # seconds between exit and end of stdout we wait for the other
KILL_TIMEOUT: Final = 5.0  # seconds to wait for the exit after SIGKILL


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
            self._grace = loop.call_later(EXIT_GRACE, self.lines.feed_eof)

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


async def stop_process(
    transport: asyncio.SubprocessTransport,
    stdin: asyncio.WriteTransport,
    exited: asyncio.Future[None],
    *,
    close_timeout: float,
    terminate_timeout: float,
) -> None:
    """Close stdin, wait, SIGTERM, wait, SIGKILL, wait (spec: lifecycle, Shutdown); each
    step only if the process has not exited (`exited` done) by then."""
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
    if not exited.done():
        await asyncio.wait((exited,), timeout=max(timeout, 0.0))
    return exited.done()
