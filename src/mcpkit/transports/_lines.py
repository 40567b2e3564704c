"""Newline framing shared by the stdio transports: bounded line splitting on the way in.
The pipes the lines come from and go to (flow-controlled writes, the read pipe's protocol,
the reader thread) are `_pipes`.

The stdio transport delimits messages with newlines and forbids embedded ones (spec:
basic/transports, "stdio"), so framing is a split on b"\\n". Nothing here buffers an
unbounded line: a line longer than the limit is cut to `limit + 1` bytes (enough for the
protocol session to see it is too long and answer with an error) and the rest of it is
dropped as it arrives.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import Callable
from typing import Final

# Defined once, in a module that imports no other part of mcpkit: no protocol core loads here.
from mcpkit.protocol.limits import DEFAULT_MAX_MESSAGE_SIZE

__all__ = ["DEFAULT_MAX_MESSAGE_SIZE", "HIGH_WATER", "LOW_WATER", "LineBuffer", "noop"]

#: Stop reading once this many bytes of complete lines wait to be popped; resume below LOW.
#: A peer that writes faster than the session handles messages would otherwise grow the queue
#: without bound (the message size limit bounds one line, not how many wait). The gap between
#: the two marks keeps a reader that drains slowly from pausing and resuming on every line.
HIGH_WATER: Final = 1024 * 1024
LOW_WATER: Final = 256 * 1024


def noop() -> None:
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
        self.pause: Callable[[], None] = noop
        self.resume: Callable[[], None] = noop
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
