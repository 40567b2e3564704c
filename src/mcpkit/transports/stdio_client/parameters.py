"""What the caller says about a stdio server, and what the server inherits from us.

`StdioParameters` is the whole description of one server to start (command, arguments,
environment, working directory, where its stderr goes, shutdown timeouts); it is plain data,
so `connect` and the CLI build it without starting anything. `default_environment()` is the
small safe environment the child starts from (spec: basic/transports, "stdio"), never the
whole of ours.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import IO, Any, Final, Literal

import msgspec

from mcpkit.transports._lines import DEFAULT_MAX_MESSAGE_SIZE

__all__ = ["StderrOption", "StdioParameters", "default_environment"]

#: Where the server's stderr goes: our own stderr ("inherit"), nowhere else ("capture" and
#: "devnull"), or a file object or descriptor. Whatever the choice, it is read through a pipe
#: and its last lines are kept, so an error about the server's death can say why it died.
StderrOption = Literal["inherit", "capture", "devnull"] | IO[Any] | int

_POSIX_ENVIRONMENT: Final = ("HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER")
_WINDOWS_ENVIRONMENT: Final = (
    "APPDATA",
    "HOMEDRIVE",
    "HOMEPATH",
    "LOCALAPPDATA",
    "PATH",
    "PATHEXT",
    "PROCESSOR_ARCHITECTURE",
    "PROGRAMFILES",
    "SYSTEMDRIVE",
    "SYSTEMROOT",
    "TEMP",
    "USERNAME",
    "USERPROFILE",
)


class StdioParameters(msgspec.Struct, frozen=True):
    """How to start a stdio server: the command, its arguments, environment and limits."""

    command: str
    args: Sequence[str] = ()
    #: Added on top of `default_environment()`.
    env: Mapping[str, str] | None = None
    cwd: str | os.PathLike[str] | None = None
    stderr: StderrOption = "inherit"
    #: Seconds to wait for the server to exit once its stdin is closed, before SIGTERM.
    close_timeout: float = 2.0
    #: Seconds to wait after SIGTERM before SIGKILL.
    terminate_timeout: float = 2.0
    #: A longer line from the server is cut to this + 1 bytes (the session rejects it).
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE


def default_environment() -> dict[str, str]:
    """The variables a server inherits from us: only the few a program needs to run.

    Values that start with "()" are skipped: they are exported shell functions.
    """
    names = _WINDOWS_ENVIRONMENT if sys.platform == "win32" else _POSIX_ENVIRONMENT
    env: dict[str, str] = {}
    for name in names:
        value = os.environ.get(name)
        if value is not None and not value.startswith("()"):
            env[name] = value
    return env
