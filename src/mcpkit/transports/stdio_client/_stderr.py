"""The server's stderr: its last lines kept for error messages (`StderrTail`), and a copy
sent where `StdioParameters.stderr` asks (`StderrForwarder`, built by `stderr_forwarder`).

Stderr is always read through a pipe, whatever the option says, so that an error about the
server's end can quote why it ended; the copy is written from a thread of its own so that a
slow destination never blocks the event loop or the server.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import threading
from collections.abc import Callable
from typing import IO, Any, Final

from mcpkit.transports.stdio_client.parameters import StderrOption

__all__ = ["StderrForwarder", "StderrTail", "stderr_forwarder"]

logger = logging.getLogger("mcpkit.client")

#: How much of the server's stderr an error message quotes: enough for a traceback's last
#: frames and its exception, not so much that the message buries the reason.
_TAIL_BYTES: Final = 4 * 1024
_TAIL_LINES: Final = 20
_FORWARD_LIMIT: Final = 1024 * 1024  # bytes of stderr waiting to be forwarded before we drop


class StderrTail:
    """The last few KiB of the server's stderr, for error messages."""

    def __init__(self) -> None:
        self._data = bytearray()

    def feed(self, data: bytes) -> None:
        # Trimmed only past twice the size kept, so a chatty server does not make every chunk
        # move the whole buffer; text() reads only the last _TAIL_BYTES anyway.
        self._data += data
        if len(self._data) > 2 * _TAIL_BYTES:
            del self._data[:-_TAIL_BYTES]

    def text(self) -> str:
        """The last lines, decoded leniently: a server may write any bytes to stderr, and a
        cut may fall inside a UTF-8 sequence."""
        text = bytes(self._data[-_TAIL_BYTES:]).decode("utf-8", errors="replace")
        return "\n".join(text.rstrip().splitlines()[-_TAIL_LINES:])


class StderrForwarder:
    """Copies the server's stderr to where the user asked, from a thread of its own: a slow
    or stuck destination (a full pipe nobody reads) never blocks the event loop. Past
    `_FORWARD_LIMIT` bytes waiting, chunks are dropped (the tail still has them)."""

    def __init__(self, write: Callable[[bytes], None]) -> None:
        self._write = write
        self._queue: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        # Bytes queued and not yet written; the lock guards it between the loop and the thread.
        self._pending = 0
        # Started on the first chunk: a quiet server never costs a thread.
        self._thread: threading.Thread | None = None
        #: Bytes dropped because the destination fell behind; the first drop is logged once.
        self.dropped = 0

    @property
    def pending(self) -> int:
        """Bytes fed and not yet written (at most `_FORWARD_LIMIT`)."""
        with self._lock:
            return self._pending

    def feed(self, data: bytes) -> None:
        """Queue a chunk for the thread, or drop it if the destination is too far behind.

        Called on the event loop for every stderr chunk; it never blocks, so a destination
        that stopped reading cannot stall the loop (nor, through a full stderr pipe, the
        server).
        """
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
        """No more chunks: the thread writes what is queued, then ends."""
        if self._thread is not None:
            self._queue.put(None)

    async def wait_drained(self, timeout: float) -> None:
        """Wait (bounded, off the loop) until what was fed before `close` is written."""
        thread = self._thread
        if thread is not None and thread.is_alive():
            await asyncio.get_running_loop().run_in_executor(None, thread.join, timeout)

    def _run(self) -> None:
        """The thread: write chunks in order until close's None arrives. After a failed
        write it keeps taking chunks (so `pending` still falls) but writes no more."""
        failed = False
        while (data := self._queue.get()) is not None:
            if not failed:
                try:
                    self._write(data)
                except (OSError, ValueError):  # the destination was closed: keep draining
                    failed = True
            with self._lock:
                self._pending -= len(data)


def stderr_forwarder(option: StderrOption) -> StderrForwarder | None:
    """Where to copy the server's stderr to (None: nowhere; the tail is kept either way)."""
    if isinstance(option, str):
        if option == "inherit":
            return StderrForwarder(_fd_writer(2))
        if option in ("capture", "devnull"):
            return None
        raise ValueError(
            f"stderr must be 'inherit', 'capture', 'devnull', a file or a "
            f"file descriptor, not {option!r}"
        )
    if isinstance(option, int):
        return StderrForwarder(_fd_writer(option))
    try:
        return StderrForwarder(_fd_writer(option.fileno()))
    except (OSError, ValueError, AttributeError):  # no descriptor (io.StringIO, say)
        return StderrForwarder(_object_writer(option))


def _fd_writer(fd: int) -> Callable[[bytes], None]:
    """A blocking write of every byte to `fd` (os.write may write only part).

    The descriptor is the caller's (or our fd 2) and stays open: the forwarder never closes it.
    """

    def write(data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]

    return write


def _object_writer(target: IO[Any]) -> Callable[[bytes], None]:
    """A write to a file object without a descriptor: bytes if it takes them, else text."""

    def write(data: bytes) -> None:
        try:
            target.write(data)
        except TypeError:  # a text stream
            target.write(data.decode("utf-8", errors="replace"))
        target.flush()

    return write
