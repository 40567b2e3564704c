"""Newline framing shared by the stdio transports: bounded line splitting on the way in,
flow-controlled writes on the way out.

The stdio transport delimits messages with newlines and forbids embedded ones (spec:
basic/transports, "stdio"), so framing is a split on b"\\n". Nothing here buffers an
unbounded line: a line longer than the limit is cut to `limit + 1` bytes (enough for the
protocol session to see it is too long and answer with an error) and the rest of it is
dropped as it arrives.
"""

from __future__ import annotations

import asyncio
import collections
import os
import threading
from collections.abc import Callable
from typing import Final

# Defined once, in a module that imports no other part of mcpkit: no protocol core loads here.
from mcpkit.protocol.limits import DEFAULT_MAX_MESSAGE_SIZE

__all__ = [
    "DEFAULT_MAX_MESSAGE_SIZE",
    "FlowControl",
    "LineBuffer",
    "READ_CHUNK",
    "connect_read_fd",
    "connect_write_fd",
    "start_reader_thread",
    "tune_read_transport",
]

#: Stop reading once this many bytes of complete lines wait to be popped; resume below LOW.
#: A peer that writes faster than the session handles messages would otherwise grow the queue
#: without bound (the message size limit bounds one line, not how many wait). The gap between
#: the two marks keeps a reader that drains slowly from pausing and resuming on every line.
HIGH_WATER: Final = 1024 * 1024
LOW_WATER: Final = 256 * 1024

#: Bytes asked of one read. asyncio's pipe transports ask for 256 KiB, and on glibc a buffer
#: that large is a fresh mmap per read, slower than the read itself for a small message.
#: 64 KiB, a Linux pipe's capacity, stays on the heap.
READ_CHUNK: Final = 64 * 1024


def _noop() -> None:
    """The default pause/resume/on_exit hook: a source with nothing to throttle or tidy."""


class LineBuffer:
    """Turns a byte stream (`feed`, `feed_eof`) into a queue of lines (`lines`, `pop`, `wait`).

    Blank (empty or whitespace-only) lines are skipped. When more than HIGH_WATER bytes of
    lines are waiting, `pause` is called (stop reading the source); `resume` once the reader
    has caught up. The owner sets those two hooks to match its source.
    """

    def __init__(self, max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE) -> None:
        if max_message_size < 1:
            raise ValueError("max_message_size must be at least 1")
        self.limit = max_message_size
        self.lines: collections.deque[bytes] = collections.deque()
        # Bytes in self.lines, kept as a running sum so the water marks cost nothing to test.
        self.queued = 0
        self.eof = False
        self.pause: Callable[[], None] = _noop
        self.resume: Callable[[], None] = _noop
        self._paused = False
        # The start of a line whose newline has not arrived yet, as the chunks came (joined
        # once, when the line ends or passes the limit), and its length so far.
        self._partial: list[bytes] = []
        self._partial_len = 0
        self._skipping = False  # inside an oversize line whose head was already queued
        # Set by discard(): bytes the source still delivers after that are dropped on arrival.
        self._discarding = False
        # The one task blocked in wait(); a single consumer is the channel's contract.
        self._waiter: asyncio.Future[None] | None = None

    # ------------------------------------------------------------------ input

    def feed(self, data: bytes) -> None:
        """Split a chunk from the source into lines and queue them; hold back an unfinished
        tail for the next chunk. Called by the read pipe's protocol (as its data_received) or
        on the loop by the reader thread, so it never blocks and never raises on bad input:
        deciding that a line is not JSON, or too long, is the protocol session's job.
        """
        if self._discarding:
            return
        if self._partial or self._skipping:
            data = self._finish_pending(data)
            if not data:
                self._wake()
                return
        # One split per chunk rather than a find() loop: a chunk from a busy peer holds many
        # short messages, and the split does the scan in C. The last part has no newline yet.
        parts = data.split(b"\n")
        tail = parts.pop()
        limit = self.limit
        append = self.lines.append
        queued = self.queued
        for part in parts:
            size = len(part)
            if size > limit:
                # Keep one byte over the limit, so the session still sees the line as too long
                # (and answers with an error) without holding the rest of it.
                part = part[: limit + 1]
                size = limit + 1
            elif not size or part.isspace():
                # A blank line (empty, or the lone "\r" of a CRLF peer's empty line) carries
                # no message: skipped, rather than answered with a parse error.
                continue
            append(part)
            queued += size
        self.queued = queued
        if tail:
            self._hold(tail)
        self._wake()

    def _finish_pending(self, data: bytes) -> bytes:
        """Complete (or extend) the line begun in an earlier chunk; return what follows it."""
        end = data.find(b"\n")
        if self._skipping:
            # The head of this oversize line is already queued: drop bytes up to its newline.
            if end < 0:
                return b""
            self._skipping = False
            return data[end + 1 :]
        if end < 0:
            self._hold(data)
            return b""
        self._partial.append(data[:end])
        line = b"".join(self._partial)
        self._partial.clear()
        self._partial_len = 0
        self._queue(line)
        return data[end + 1 :]

    def _hold(self, piece: bytes) -> None:
        """Keep the start of an unfinished line, or cut it short once it is over the limit."""
        self._partial.append(piece)
        self._partial_len += len(piece)
        if self._partial_len > self.limit:
            # Cut as soon as the limit is passed, not when the newline comes: a peer sending
            # one endless line must not make us buffer it. The rest is skipped by
            # _finish_pending until its newline arrives.
            head = b"".join(self._partial)[: self.limit + 1]
            self._partial.clear()
            self._partial_len = 0
            self._skipping = True
            self._queue(head)

    def _queue(self, line: bytes) -> None:
        """Queue one complete line joined from pieces, with feed's cut and blank-line rules."""
        if len(line) > self.limit:
            line = line[: self.limit + 1]
        elif not line or line.isspace():
            return
        self.lines.append(line)
        self.queued += len(line)

    def feed_eof(self) -> None:
        """The source ended: a last line without its newline still counts.

        Idempotent: both the protocol's eof_received and its connection_lost call it, and the
        reader thread posts it once more when its read returns nothing.
        """
        if self.eof:
            return
        if self._partial and not self._discarding:
            line = b"".join(self._partial)
            self._partial.clear()
            self._queue(line)
        self.eof = True
        self._wake()

    def discard(self) -> None:
        """Drop everything queued and everything still to come (the reader has gone).

        Called when the channel closes or its output is lost: nobody will answer what is
        queued. A paused source is resumed so it can run to its end and be closed instead of
        staying blocked behind a full buffer; the waiter is woken and then sees `eof`.
        """
        self._discarding = True
        self.lines.clear()
        self.queued = 0
        self._partial.clear()
        self._partial_len = 0
        self.eof = True
        if self._paused:
            self._paused = False
            self.resume()
        self._wake()

    def _wake(self) -> None:
        """After input: pause the source if the queue passed HIGH_WATER, wake the waiter.

        The source can only be asked to stop before its next read, so one more chunk may
        still arrive after `pause`; the queue can pass HIGH_WATER by that much.
        """
        if self.queued > HIGH_WATER and not self._paused:
            self._paused = True
            self.pause()
        waiter = self._waiter
        if waiter is not None and (self.lines or self.eof) and not waiter.done():
            waiter.set_result(None)

    # ----------------------------------------------------------------- output

    def pop(self) -> bytes:
        """Take the next queued line (the caller checked `lines` is not empty)."""
        line = self.lines.popleft()
        self.queued -= len(line)
        if self._paused and self.queued <= LOW_WATER:
            self._paused = False
            self.resume()
        return line

    async def wait(self) -> None:
        """Wait until a line is queued or the source has ended.

        One waiter at a time: lines are handed out in order to a single receive loop, and a
        second concurrent receiver would take messages out of order, so it is refused.
        """
        if self._waiter is not None:
            raise RuntimeError("another task is already waiting to receive")
        while not self.lines and not self.eof:
            waiter = asyncio.get_running_loop().create_future()
            self._waiter = waiter
            try:
                await waiter
            finally:
                self._waiter = None


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
    """Read `fd` (a pipe or socket, which the transport will own and close) into `buffer`.

    asyncio's pipe transport sets the fd non-blocking; its original mode is noted first so
    that the protocol can restore it when the transport closes the fd. On failure the fd is
    closed here, so the caller never has to know whether the transport took it.
    """
    loop = asyncio.get_running_loop()
    was_blocking = os.get_blocking(fd)
    pipe = open(fd, "rb", buffering=0, closefd=True)  # the transport closes it
    try:
        transport, _ = await loop.connect_read_pipe(
            lambda: _ReadPipeProtocol(buffer, fd, was_blocking), pipe
        )
    except BaseException:
        _restore_blocking(fd, was_blocking)
        pipe.close()
        raise
    tune_read_transport(transport, buffer)
    return transport


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
    was_blocking = os.get_blocking(fd)
    pipe = open(fd, "wb", buffering=0, closefd=True)  # the transport closes it
    try:
        transport, protocol = await loop.connect_write_pipe(
            lambda: _WritePipeProtocol(flow, fd, was_blocking), pipe
        )
    except BaseException:
        _restore_blocking(fd, was_blocking)
        pipe.close()
        raise
    return transport, protocol


def start_reader_thread(
    read: Callable[[int], bytes], buffer: LineBuffer, on_exit: Callable[[], None] = _noop
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
