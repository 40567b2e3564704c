"""Taking this process's own stdin and stdout for MCP: private duplicates of fds 0 and 1 for
the protocol, fd 1 (and `sys.stdout`) pointed at stderr and fd 0 at the null device.

Spec: basic/transports, "stdio": a server writes nothing but MCP messages to stdout. Apart
from `stdio_server` (the channel over whatever descriptors it is given) because this acts on
the whole process, once: `mcpkit run` takes the stdio before it imports the user's module,
long before any channel exists.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import IO, Any

from mcpkit.errors import TransportError

__all__ = ["Source", "close_quietly", "take_process_stdio", "take_std_streams"]

#: Where bytes are read from or written to: our own descriptor (a duplicate, closed by us),
#: or a caller's file object without a usable one (used as is, never closed by us).
Source = int | IO[Any]

#: Set once fds 0 and 1 have been taken: a second taker would duplicate fds that now point at
#: the null device and stderr, and read or write nothing useful, so it is refused instead.
_process_stdio_taken = False


def take_process_stdio() -> tuple[int, int]:
    """Take this process's stdin and stdout for MCP: private duplicates of fds 0 and 1.

    For a caller that must protect stdout before running other code (`mcpkit run` takes it
    before importing the user's module); raises TransportError if the stdio is already taken.
    """
    in_fd, out_fd = take_std_streams(True, True)
    assert isinstance(in_fd, int) and isinstance(out_fd, int)  # both taken: descriptors
    return in_fd, out_fd


def take_std_streams(take_in: bool, take_out: bool) -> tuple[Source, Source]:
    """Duplicate fds 0 and 1 for the protocol; point fd 0 at the null device, fd 1 at stderr.

    Order matters for fd 1 (spec: basic/transports, stdio: nothing but MCP messages on
    stdout): text printed before this call (at import time, say) usually still sits in
    `sys.stdout`'s buffer, so the protocol's copy is taken first, fd 1 is pointed at stderr,
    and only then is that buffer flushed, onto stderr.
    """
    global _process_stdio_taken
    if not (take_in or take_out):
        return -1, -1
    if _process_stdio_taken:
        raise TransportError("this process's stdio is already used by an mcpkit channel")
    in_fd = _dup_std(0) if take_in else -1
    try:
        out_fd = _dup_std(1) if take_out else -1
    except BaseException:
        close_quietly(in_fd)
        raise
    if take_in:
        _point_at_devnull(0, os.O_RDONLY)
    if take_out:
        _point_stdout_at_stderr()
    _process_stdio_taken = True
    return in_fd, out_fd


def _flush_python_stdout(streams: tuple[IO[str] | None, ...]) -> None:
    """Flush each stream, ignoring any error: a stream replaced or closed by the embedding
    application must not stop the server from starting."""
    for stream in streams:
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.flush()


def _point_stdout_at_stderr() -> None:
    """Point fd 1 and `sys.stdout` at stderr, then flush what Python still buffered for fd 1
    (it lands on stderr, never in the protocol stream)."""
    # Both: an application may have replaced sys.stdout, and each object has its own buffer.
    buffered = (sys.stdout, sys.__stdout__)
    try:
        os.dup2(2, 1)
    except OSError:  # no stderr either: print() output is discarded
        _point_at_devnull(1, os.O_WRONLY)
    _flush_python_stdout(buffered)
    if sys.stderr is not None:
        sys.stdout = sys.stderr


def _dup_std(fd: int) -> int:
    """A private duplicate of fd 0 or 1; TransportError when the process was started
    without it (a closed stdin or stdout cannot carry the protocol)."""
    try:
        return os.dup(fd)
    except OSError as exc:
        name = "stdin" if fd == 0 else "stdout"
        raise TransportError(f"cannot use this process's {name}: {exc.strerror}") from exc


def _point_at_devnull(fd: int, flags: int) -> None:
    """Make `fd` the null device: still a valid descriptor, so code that reads or writes it
    (or a child that inherits it) sees end of file or a sink, and the number is not free
    for the next open() to reuse. Best effort: failing leaves the fd as it was."""
    with contextlib.suppress(OSError):
        null = os.open(os.devnull, flags)
        if null != fd:
            os.dup2(null, fd)
            os.close(null)


def close_quietly(source: Source) -> None:
    """Close our own descriptor, if it is one (-1 means "not taken"); file objects are the
    caller's and left open. Errors are ignored: this runs on cleanup paths."""
    if isinstance(source, int) and source >= 0:
        with contextlib.suppress(OSError):
            os.close(source)
