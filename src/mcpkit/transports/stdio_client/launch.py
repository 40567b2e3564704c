"""`open_stdio_client_channel`: start the server a `StdioParameters` describes and return a
`StdioClientChannel` to it.

This is where the description becomes a process: the environment is `default_environment()`
plus the caller's additions, the command is resolved (on Windows only, where CreateProcess
does not search PATH for .cmd/.bat files), its three pipes go to a `ServerProcessProtocol`,
and an `OSError` from the start becomes a `TransportError` that says what was not found.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys

from mcpkit.errors import TransportError
from mcpkit.transports._lines import LineBuffer
from mcpkit.transports._pipes import FlowControl
from mcpkit.transports.stdio_client._process import ServerProcessProtocol
from mcpkit.transports.stdio_client._stderr import StderrTail, stderr_forwarder
from mcpkit.transports.stdio_client.parameters import StdioParameters, default_environment
from mcpkit.transports.stdio_client.process_channel import StdioClientChannel

__all__ = ["open_stdio_client_channel"]


async def open_stdio_client_channel(params: StdioParameters) -> StdioClientChannel:
    """Start the server process described by `params` and return a channel to it.

    Raises TransportError naming the command (or its working directory) when the process
    cannot be started. The channel returned owns the process: its `aclose()` stops it
    the way the spec asks, and is the only clean way to end it."""
    loop = asyncio.get_running_loop()
    # Not the whole parent environment: a server inherits only the few variables a program
    # needs (secrets in ours stay ours), plus what the caller passes.
    env = default_environment()
    if params.env:
        env.update(params.env)
    command = params.command
    if sys.platform == "win32":  # CreateProcess does not search PATH for .cmd/.bat files
        command = shutil.which(command, path=env.get("PATH")) or command
    forward = stderr_forwarder(params.stderr)
    # Bounded line reading: a server that never ends a line cannot fill our memory.
    lines = LineBuffer(params.max_message_size)
    flow = FlowControl()
    # exec, not a shell: the command and its arguments are never interpreted.
    try:
        transport, protocol = await loop.subprocess_exec(
            lambda: ServerProcessProtocol(lines, flow, StderrTail(), forward),
            command,
            *params.args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=params.cwd,
        )
    except OSError as exc:
        raise _start_failure(params, exc) from exc
    return StdioClientChannel(params, transport, protocol)


def _start_failure(params: StdioParameters, exc: OSError) -> TransportError:
    """What failed to start, in words: a missing working directory reads like a missing
    command in the OSError, so the two are told apart here."""
    reason = "not found" if isinstance(exc, FileNotFoundError) else (exc.strerror or str(exc))
    cwd = params.cwd
    if cwd is not None and exc.filename is not None and str(exc.filename) == os.fspath(cwd):
        return TransportError(
            f"cannot start {params.command!r}: its working directory {os.fspath(cwd)!r}: {reason}"
        )
    # A bare name was looked up on the PATH: say where it was not found.
    if isinstance(exc, FileNotFoundError) and os.sep not in params.command:
        reason += " on the PATH"
    return TransportError(f"cannot start {params.command!r}: {reason}")
