"""The server end of the stdio transport: messages arrive on stdin and leave on stdout.

Spec: basic/transports, "stdio". A server must write nothing but MCP messages to stdout, so
when this module takes over the process's real stdio it keeps a private duplicate of the
stdout file descriptor for the protocol and points fd 1 (and `sys.stdout`) at stderr: a
stray `print()` in a tool then lands in the log instead of corrupting the stream. Stdin is
taken the same way and fd 0 is pointed at the null device, so a child process a tool starts
cannot swallow protocol bytes. Taking them is `process_stdio`; here are the channel and the
reading and writing of the descriptors it is given.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import stat
import sys
from collections.abc import Callable
from typing import IO, Any, Final

from mcpkit.errors import ConnectionClosed
from mcpkit.transports._lines import DEFAULT_MAX_MESSAGE_SIZE, LineBuffer
from mcpkit.transports._pipes import (
    FlowControl,
    connect_read_fd,
    connect_write_fd,
    start_reader_thread,
)
from mcpkit.transports.process_stdio import Source, close_quietly, take_std_streams

__all__ = ["StdStream", "StdioServerChannel", "open_stdio_server_channel"]

#: A stream given in place of the process's own stdin or stdout: a file descriptor, or a
#: file object (one with a working `fileno()` is used through its descriptor).
StdStream = IO[bytes] | IO[str] | int

_CLOSE_FLUSH_TIMEOUT: Final = 2.0  # seconds aclose() waits for queued output to drain


class StdioServerChannel:
    """A MessageChannel over newline-delimited JSON on a pair of byte streams.

    Built by `open_stdio_server_channel`, in one of two shapes for the output: an asyncio
    write transport with flow control (pipes and sockets), or a blocking writer run in a
    worker thread (regular files, terminals, file objects without a descriptor). Input is
    always a LineBuffer, filled by a read transport or by a reader thread. One receive
    loop reads it; sends may come from many tasks at once.
    """

    def __init__(
        self,
        buffer: LineBuffer,
        *,
        stop_reading: Callable[[], None],
        out_transport: asyncio.WriteTransport | None = None,
        out_closed: asyncio.Future[None] | None = None,
        flow: FlowControl | None = None,
        write_blocking: Callable[[bytes], None] | None = None,
        close_blocking: Callable[[], None] | None = None,
    ) -> None:
        self._buffer = buffer
        self._stop_reading = stop_reading
        self._out = out_transport
        self._out_closed = out_closed
        self._flow = flow if flow is not None else FlowControl()
        self._write_blocking = write_blocking
        self._close_blocking = close_blocking
        # The worker-thread write in progress: the next blocking send waits for it, and
        # aclose waits (bounded) for it before closing the descriptor under it.
        self._last_write: asyncio.Future[None] | None = None
        self._closed = False
        # The client stopped reading stdout: sends fail and receive ends (_on_output_closed).
        self._output_lost = False
        if out_closed is not None:
            out_closed.add_done_callback(self._on_output_closed)

    @property
    def writable(self) -> bool:
        """False once stdout cannot take more: closed by us, or its reader has gone."""
        if self._closed or self._output_lost:
            return False
        return self._out is not None or self._write_blocking is not None

    def _on_output_closed(self, _: object) -> None:
        """The reader of stdout went away (the pipe transport watches for it even while we
        write nothing): whatever comes in now can never be answered, so end input too and
        let the session end, rather than leave tools running for nobody."""
        if self._closed:
            return
        self._output_lost = True
        self._buffer.discard()
        self._stop_reading()

    async def receive(self) -> bytes:
        """The next line from stdin, newline stripped; not parsed (the session does that).

        Raises ConnectionClosed once input has ended and every queued line was taken, with a
        message saying why: closed by us, the client stopped reading, or stdin's end of file
        (the spec's graceful shutdown signal: the client closed the server's input).
        """
        buffer = self._buffer
        if buffer.lines:
            return buffer.pop()
        await buffer.wait()
        if buffer.lines:
            return buffer.pop()
        # Input ended with nothing queued: the message names the cause for whoever logs it.
        if self._closed:
            raise ConnectionClosed("the stdio channel was closed")
        if self._output_lost:
            raise ConnectionClosed(_STDOUT_CLOSED)
        raise ConnectionClosed("stdin reached end of file: the client closed the connection")

    async def send(self, data: bytes) -> None:
        """Write one encoded message and its newline to stdout.

        The caller's bytes are one JSON text with no raw newline in it (JSON encoders escape
        them), which is what keeps the framing sound. Returns once the transport has taken
        the bytes and is below its high-water mark, so a client that stops reading slows the
        sending tasks down instead of growing our buffer; ConnectionClosed once it is gone.
        """
        out = self._out
        if out is None:
            await self._send_blocking(data)
            return
        if self._closed or out.is_closing():
            raise ConnectionClosed(_STDOUT_CLOSED)
        out.write(data + b"\n")
        if out.is_closing():  # the write failed (EPIPE): the transport is already closing
            raise ConnectionClosed(_STDOUT_CLOSED)
        if self._flow.paused:
            await self._flow.drain()
            if self._flow.lost:
                raise ConnectionClosed(_STDOUT_CLOSED)

    async def _send_blocking(self, data: bytes) -> None:
        """Write in a worker thread, one message at a time and each to the end: a thread's
        write cannot be stopped, so a cancelled send keeps the next one waiting behind its
        bytes (or two threads would interleave theirs), and nothing queues beyond it."""
        write = self._write_blocking
        if self._closed or write is None:
            raise ConnectionClosed(_STDOUT_CLOSED)
        while (previous := self._last_write) is not None and not previous.done():
            await asyncio.wait([previous])
            write = self._write_blocking
            if self._closed or write is None:
                raise ConnectionClosed(_STDOUT_CLOSED)
        loop = asyncio.get_running_loop()
        pending = loop.run_in_executor(None, write, data + b"\n")
        pending.add_done_callback(self._write_finished)
        self._last_write = pending
        try:
            await asyncio.shield(pending)
        except (OSError, ValueError) as exc:  # ValueError: the file object was closed
            raise ConnectionClosed(f"{_STDOUT_CLOSED} ({exc})") from exc

    def _write_finished(self, pending: asyncio.Future[None]) -> None:
        """A failed thread write retires the writer: stdout is broken for every later send.

        Reading the exception here also keeps asyncio from logging "exception was never
        retrieved" when the task that awaited the write was cancelled meanwhile.
        """
        if not pending.cancelled() and pending.exception() is not None:
            self._write_blocking = None  # retrieved here, whoever awaited it was cancelled

    async def aclose(self) -> None:
        """Stop reading, flush what is queued for stdout (bounded), then close it.

        The flush matters: a server's last answers are often still buffered when it closes,
        and the client reads until end of file. The bound keeps a client that stopped reading
        from holding the server's shutdown forever; past it the output is aborted.
        """
        if self._closed:
            return
        self._closed = True
        self._buffer.discard()
        self._stop_reading()
        if self._out is not None:
            self._out.close()  # flushes its buffer first
            if self._out_closed is not None:
                try:
                    async with asyncio.timeout(_CLOSE_FLUSH_TIMEOUT):
                        await asyncio.shield(self._out_closed)
                except TimeoutError:
                    self._out.abort()
            return
        close = self._close_blocking
        self._close_blocking = None
        last = self._last_write
        if last is not None and not last.done():
            await asyncio.wait([last], timeout=_CLOSE_FLUSH_TIMEOUT)
            if not last.done():
                return  # a write is stuck in its thread; leave the descriptor to it
        if close is not None:
            close()


#: Why a send fails once stdout is gone; the reader of a pipe going away is the usual cause.
_STDOUT_CLOSED: Final = "stdout is closed: the client stopped reading"


async def open_stdio_server_channel(
    *,
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
    stdin: StdStream | None = None,
    stdout: StdStream | None = None,
) -> StdioServerChannel:
    """Open the server end of stdio: this process's own stdin and stdout unless given.

    Taking the process's stdout protects it (see the module docstring); streams passed in
    are duplicated and left as they were: the caller still owns and closes them.
    """
    buffer = LineBuffer(max_message_size)
    # Taken before anything else runs, so no output written from here on reaches fd 1.
    in_source, out_target = take_std_streams(stdin is None, stdout is None)
    if stdin is not None:
        in_source = _own(stdin)
    if stdout is not None:
        out_target = _own(stdout)
    try:
        stop_reading = await _start_reading(in_source, buffer)
    except BaseException:
        close_quietly(out_target)
        raise
    # A pipe or socket gets an asyncio transport (flow control, and notice when the reader
    # leaves); anything else a worker thread, since the loop cannot poll it.
    if isinstance(out_target, int) and _pollable(out_target):
        flow = FlowControl()
        try:
            transport, protocol = await connect_write_fd(out_target, flow)
        except BaseException:
            stop_reading()
            raise
        return StdioServerChannel(
            buffer,
            stop_reading=stop_reading,
            out_transport=transport,
            out_closed=protocol.closed,
            flow=flow,
        )
    write, close = _blocking_writer(out_target)
    return StdioServerChannel(
        buffer, stop_reading=stop_reading, write_blocking=write, close_blocking=close
    )


# ------------------------------------------------------------------------ helpers


def _own(stream: StdStream) -> Source:
    """Our own duplicate of a given stream's descriptor, or the object when it has none."""
    if isinstance(stream, int):
        return os.dup(stream)
    try:
        fd = stream.fileno()
    except (OSError, ValueError, AttributeError):  # io.UnsupportedOperation is both
        return stream
    # Bytes the caller wrote to the object but not yet to its fd would otherwise come out
    # after ours; the flush is best effort, as the object may be read-only.
    with contextlib.suppress(Exception):
        stream.flush()
    return os.dup(fd)


def _pollable(fd: int) -> bool:
    """Whether asyncio can watch `fd`: pipes and sockets, on POSIX (epoll and kqueue
    refuse regular files; terminals and devices would put shared descriptions in
    non-blocking mode, which the shell and stderr writers do not expect)."""
    if sys.platform == "win32":
        return False
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


async def _start_reading(source: Source, buffer: LineBuffer) -> Callable[[], None]:
    """Start filling `buffer` from `source`; return the function that stops it."""
    if isinstance(source, int):
        fd = source
        if _pollable(fd):
            transport = await connect_read_fd(fd, buffer)
            return transport.close

        def read_fd(n: int) -> bytes:
            return os.read(fd, n)

        # The thread closes the descriptor when it ends (closing it under a blocked read
        # would race with the reuse of its number).
        return start_reader_thread(read_fd, buffer, on_exit=lambda: close_quietly(fd))
    # A text stream (sys.stdin-like) is read through its binary buffer: the protocol is
    # bytes. read1 returns what is available instead of waiting to fill READ_CHUNK, so a
    # message is not held back until more input arrives.
    raw: Any = getattr(source, "buffer", source)
    read: Callable[[int], bytes] = getattr(raw, "read1", raw.read)
    return start_reader_thread(read, buffer)


def _blocking_writer(target: Source) -> tuple[Callable[[bytes], None], Callable[[], None]]:
    """A blocking write for a worker thread, and the close to call after the last write.

    A descriptor is written until every byte is out (os.write may take only part of it)
    and closed, being ours; a file object is flushed after each message, so the client sees
    it at once, and left open, being the caller's.
    """
    if isinstance(target, int):
        fd = target

        def write_fd(data: bytes) -> None:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]

        return write_fd, lambda: close_quietly(fd)
    raw: Any = getattr(target, "buffer", target)

    def write_object(data: bytes) -> None:
        raw.write(data)
        raw.flush()

    return write_object, lambda: None
