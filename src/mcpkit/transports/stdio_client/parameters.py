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

#: What a program expects to find on POSIX: where it lives and who runs it, how to find
#: executables, and the terminal type for anything it prints. Credentials, tokens and
#: proxy settings are left out on purpose; a server that needs one gets it through `env`.
_POSIX_ENVIRONMENT: Final = ("HOME", "LOGNAME", "PATH", "SHELL", "TERM", "USER")
#: The Windows counterpart: without SYSTEMROOT many programs (Python included) cannot even
#: start, and TEMP and the profile paths are where programs keep their files.
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
    """How to start a stdio server: the command, its arguments, environment and limits.

    Frozen and plain, so a description can be built, compared, stored in a configuration and
    handed to `open_stdio_client_channel` later; nothing here is checked until the start.
    """

    #: An executable's name (looked up on PATH) or path; run directly, never through a shell.
    command: str
    args: Sequence[str] = ()
    #: Added on top of `default_environment()`.
    env: Mapping[str, str] | None = None
    #: The server's working directory; None: ours.
    cwd: str | os.PathLike[str] | None = None
    #: Where the server's stderr is copied; see StderrOption.
    stderr: StderrOption = "inherit"
    #: Seconds to wait for the server to exit once its stdin is closed, before SIGTERM.
    close_timeout: float = 2.0
    #: Seconds to wait after SIGTERM before SIGKILL.
    terminate_timeout: float = 2.0
    #: A longer line from the server is cut to this + 1 bytes (the session rejects it).
    max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE


def default_environment() -> dict[str, str]:
    """The variables a server inherits from us: only the few a program needs to run.

    Values that start with "()" are skipped: they are exported shell functions, which a
    shell in the child would define again (the route of the 2014 "Shellshock" attacks).
    A new dict each call, so the caller may add to it.
    """
    names = _WINDOWS_ENVIRONMENT if sys.platform == "win32" else _POSIX_ENVIRONMENT
    env: dict[str, str] = {}
    for name in names:
        value = os.environ.get(name)
        if value is not None and not value.startswith("()"):
            env[name] = value
    return env
