"""The client end of the stdio transport: start the server as a subprocess, talk to it over
its stdin and stdout, and shut it down the way the spec asks.

Spec: basic/transports, "stdio", and basic/lifecycle, "Shutdown": close the server's stdin,
wait for it to exit, then SIGTERM, then SIGKILL. The child gets a small safe environment
(`default_environment()`) plus what the caller adds, never the whole of ours.

Every public name is importable from here. Where each lives: `parameters` (what to start),
`launch` (starting it), `process_channel` (the messages, and the errors about the server's end),
`_process` (its pipes routed, and the stop escalation), `_stderr` (its stderr kept and copied).
"""

from __future__ import annotations

from mcpkit.transports.stdio_client.launch import open_stdio_client_channel
from mcpkit.transports.stdio_client.parameters import (
    StderrOption,
    StdioParameters,
    default_environment,
)
from mcpkit.transports.stdio_client.process_channel import STDERR_TAIL, StdioClientChannel

__all__ = [
    "STDERR_TAIL",
    "StderrOption",
    "StdioClientChannel",
    "StdioParameters",
    "default_environment",
    "open_stdio_client_channel",
]
