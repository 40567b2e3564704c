"""A host's configuration file read safely: only a regular file (a link to one is followed),
never more than `MAX_CONFIG_BYTES`, and without waiting on a named pipe or a device that a
project's checkout may put where a host's file belongs."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import Final

__all__ = ["MAX_CONFIG_BYTES", "NotAConfigFile", "read_config_bytes"]

#: Larger than any configuration; ~/.claude.json, which Claude Code also keeps its projects'
#: history in, reaches tens of megabytes.
MAX_CONFIG_BYTES: Final = 64 * 1024 * 1024


if sys.platform == "win32":
    _FLAGS = os.O_RDONLY | os.O_BINARY
else:  # O_NONBLOCK: opening a named pipe would otherwise wait for a writer, forever
    _FLAGS = os.O_RDONLY | os.O_NONBLOCK


class NotAConfigFile(OSError):
    """The path names something that is no configuration file (a folder, a pipe, a device),
    or a file over `MAX_CONFIG_BYTES`; the message says which."""


def read_config_bytes(path: Path, limit: int = MAX_CONFIG_BYTES) -> bytes:
    """The bytes of the file at `path`; FileNotFoundError when there is none, NotAConfigFile
    (an OSError) when it is no regular file or is over `limit` bytes, other OSErrors as the
    system gives them."""
    fd = os.open(path, _FLAGS)
    try:
        found = os.fstat(fd)
        if not stat.S_ISREG(found.st_mode):
            kind = "a folder" if stat.S_ISDIR(found.st_mode) else "not a regular file"
            raise NotAConfigFile(f"{path} is {kind}")
        chunks: list[bytes] = []
        size = 0
        while chunk := os.read(fd, 1 << 20):
            size += len(chunk)
            if size > limit:  # read up to the limit only: the file may still be growing
                raise NotAConfigFile(f"{path} is over {limit} bytes, too large to be a config")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)
