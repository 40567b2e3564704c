"""The pipes of the stdio transports: a read pipe or a reader thread feeding a `LineBuffer`,
and a write pipe whose flow control makes senders wait while the peer does not read.

Apart from `_lines` (the framing: bytes in, lines out, no I/O) because this is the asyncio
and thread plumbing around it, which the stdio server and the stdio client set up each for
its own descriptors.
"""

from __future__ import annotations

import asyncio
import collections
import os
import threading
from collections.abc import Awaitable, Callable
from typing import IO, Any, Final, TypeVar

from mcpkit.transports._lines import LineBuffer, noop

__all__ = [
    "READ_CHUNK",
    "FlowControl",
    "connect_read_fd",
    "connect_write_fd",
    "start_reader_thread",
    "tune_read_transport",
]

#: Bytes asked of one read. asyncio's pipe transports ask for 256 KiB, and on glibc a buffer
#: that large is a fresh mmap per read, slower than the read itself for a small message.
#: 64 KiB, a Linux pipe's capacity, stays on the heap.
READ_CHUNK: Final = 64 * 1024


class FlowControl:
    """Write-side backpressure: paused by the transport's high-water mark, resumed below it.

    Senders await `drain` after each write, so a peer that stops reading its stdin (or our
    stdout) blocks the sending tasks instead of letting the write buffer grow without bound.
    `lost` tells a woken sender the pipe closed, so it raises instead of writing again.
    """

    def __init__(self) -> None:
        self.paused = False
        self.lost = False
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()

    def pause_writing(self) -> None:
        self.paused = True

    def resume_writing(self) -> None:
        self.paused = False
        self._release()

    def connection_lost(self) -> None:
        # Release every waiter: a transport that is gone will never call resume_writing.
        self.lost = True
        self.paused = False
        self._release()

    def _release(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)

    async def drain(self) -> None:
        """Wait while the transport's buffer is above its high-water mark."""
        while self.paused:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            await waiter


class _WritePipeProtocol(asyncio.BaseProtocol):
    """The protocol of a write pipe: forwards flow control and restores blocking mode."""

    def __init__(self, flow: FlowControl, fd: int, was_blocking: bool) -> None:
        self.flow = flow
        self.fd = fd
        self.was_blocking = was_blocking
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def pause_writing(self) -> None:
        self.flow.pause_writing()

    def resume_writing(self) -> None:
        self.flow.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self.flow.connection_lost()
        _restore_blocking(self.fd, self.was_blocking)
        if not self.closed.done():
            self.closed.set_result(None)


class _ReadPipeProtocol(asyncio.Protocol):
    """Forwards a read pipe to a LineBuffer; restores blocking mode before the fd closes."""

    def __init__(self, buffer: LineBuffer, fd: int, was_blocking: bool) -> None:
        self.buffer = buffer
        self.fd = fd
        self.was_blocking = was_blocking
        # Bound straight to the buffer so each chunk goes to feed() without a forwarding
        # method in between; the protocol adds nothing to the data.
        self.data_received = buffer.feed  # type: ignore[method-assign]

    def eof_received(self) -> bool | None:
        self.buffer.feed_eof()
        return None  # nothing more will come; the pipe transport closes itself after this

    def connection_lost(self, exc: Exception | None) -> None:
        _restore_blocking(self.fd, self.was_blocking)
        self.buffer.feed_eof()


def _restore_blocking(fd: int, blocking: bool) -> None:
    # The fd is a dup of stdin/stdout: its O_NONBLOCK flag lives on the open file
    # description, which other processes may share, so put it back as we found it.
    if blocking:
        try:
            os.set_blocking(fd, True)
        except OSError:
            pass


async def connect_read_fd(fd: int, buffer: LineBuffer) -> asyncio.ReadTransport:
    """Read `fd` (a pipe or socket, which the transport will own and close) into `buffer`."""
    loop = asyncio.get_running_loop()
    transport, _ = await _connect_fd(
        fd, "rb", loop.connect_read_pipe, lambda blocking: _ReadPipeProtocol(buffer, fd, blocking)
    )
    tune_read_transport(transport, buffer)
    return transport


_T = TypeVar("_T", bound=asyncio.BaseTransport)
_P = TypeVar("_P", bound=asyncio.BaseProtocol)


async def _connect_fd(
    fd: int,
    mode: str,
    connect: Callable[[Callable[[], _P], IO[Any]], Awaitable[tuple[_T, _P]]],
    protocol: Callable[[bool], _P],
) -> tuple[_T, _P]:
    """`connect` (the loop's `connect_read_pipe` or `connect_write_pipe`) `fd`, opened in
    `mode`, with the protocol `protocol(was_blocking)` makes.

    asyncio's pipe transport sets the fd non-blocking; its original mode is noted first so
    that the protocol can restore it when the transport closes the fd. On failure the fd is
    closed here, so the caller never has to know whether the transport took it."""
    was_blocking = os.get_blocking(fd)
    pipe = open(fd, mode, buffering=0, closefd=True)  # the transport closes it
    try:
        return await connect(lambda: protocol(was_blocking), pipe)
    except BaseException:
        _restore_blocking(fd, was_blocking)
        pipe.close()
        raise


def tune_read_transport(transport: asyncio.ReadTransport, buffer: LineBuffer) -> None:
    """Make `transport` feed `buffer` with flow control, reading READ_CHUNK at a time.

    Also used by the stdio client on the subprocess's stdout transport. `max_size` is an
    undocumented attribute of asyncio's Unix pipe transport (uvloop has none), hence the
    check before setting it: without it reads stay at 256 KiB, slower but still correct.
    """
    if isinstance(getattr(transport, "max_size", None), int):
        transport.max_size = READ_CHUNK  # type: ignore[attr-defined]
    buffer.pause = transport.pause_reading
    buffer.resume = transport.resume_reading


async def connect_write_fd(
    fd: int, flow: FlowControl
) -> tuple[asyncio.WriteTransport, _WritePipeProtocol]:
    """Write to `fd` (a pipe or socket, which the transport will own and close).

    Returns the protocol too: its `closed` future resolves when the reader goes away, which
    is how the stdio server learns that nobody reads its stdout even while it writes nothing.
    """
    loop = asyncio.get_running_loop()
    return await _connect_fd(
        fd, "wb", loop.connect_write_pipe, lambda blocking: _WritePipeProtocol(flow, fd, blocking)
    )


def start_reader_thread(
    read: Callable[[int], bytes], buffer: LineBuffer, on_exit: Callable[[], None] = noop
) -> Callable[[], None]:
    """Feed `buffer` from a blocking `read(n)` in a daemon thread; return a stop function.

    For sources the event loop cannot poll (regular files, terminals, Windows handles). The
    thread honours the buffer's pause/resume, and `on_exit` runs in the thread at the end.
    """
    reader = _ReaderThread(read, buffer, on_exit)
    threading.Thread(target=reader.pump, name="mcpkit-stdio-reader", daemon=True).start()
    return reader.stop


class _ReaderThread:
    """The reader thread's state: the blocking read, and the events that throttle it.

    Only `pump` runs in the thread; everything it produces reaches the buffer through
    call_soon_threadsafe, because LineBuffer is not thread-safe and wakes loop futures.
    """

    def __init__(
        self, read: Callable[[int], bytes], buffer: LineBuffer, on_exit: Callable[[], None]
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._read = read
        self._buffer = buffer
        self._on_exit = on_exit
        self._running = threading.Event()
        self._running.set()
        self._stopped = threading.Event()
        # Chunks posted to the loop but not yet fed: without this bound a fast source (a big
        # regular file) could fill the loop's queue before the buffer gets to say "pause".
        self._in_flight = threading.Semaphore(4)
        # The buffer's back-pressure turns into an Event the thread waits on between reads.
        buffer.pause = self._running.clear
        buffer.resume = self._running.set

    def stop(self) -> None:
        """Ask the thread to end before its next read. A read already blocked cannot be
        interrupted; the thread ends when it returns. Both events are released so a paused
        or throttled thread wakes to see the stop."""
        self._stopped.set()
        self._running.set()
        self._in_flight.release()

    def _feed(self, chunk: bytes) -> None:
        self._in_flight.release()
        self._buffer.feed(chunk)

    def _post(self, callback: Callable[..., None], *args: object) -> bool:
        """Run `callback(*args)` on the loop; False once the loop is closed."""
        try:
            self._loop.call_soon_threadsafe(callback, *args)
        except RuntimeError:  # the loop is closed: nobody is listening any more
            return False
        return True

    def pump(self) -> None:
        """The thread's body: read until end of file, an error, stop(), or a closed loop.

        A read error is treated as end of file: for the channel either way the peer is gone.
        `on_exit` runs in every case, which is where the caller closes its descriptor.
        """
        try:
            while self._running.wait() and self._in_flight.acquire():
                if self._stopped.is_set():
                    break
                try:
                    chunk = self._read(READ_CHUNK)
                except (OSError, ValueError):  # ValueError: a closed file object
                    chunk = b""
                if not chunk:
                    self._post(self._buffer.feed_eof)
                    break
                if not self._post(self._feed, chunk):
                    break
        finally:
            self._on_exit()
