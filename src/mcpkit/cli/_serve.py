"""Serve a Server for `mcpkit run`: over the stdio descriptors it took before importing user
code, or over Streamable HTTP."""

from __future__ import annotations

import os
from typing import Any

__all__ = ["serve_http", "serve_taken_stdio"]


def serve_taken_stdio(server: Any, in_fd: int, out_fd: int, *, verb: str = "run") -> None:
    """`Server.run()` over the protocol's own duplicates of fds 0 and 1.

    `Server.run()` alone would take the process's stdio itself; under `mcpkit run` it was
    taken before the user's file was imported, so fds 0 and 1 now point at the null device
    and stderr. The channel duplicates what it is given, so ours are closed afterwards.
    """
    if os.isatty(in_fd):
        # A person ran it in a terminal: without a word it looks hung (nothing on stdout,
        # which is the protocol's).
        dev = "`mcpkit dev FILE` opens the inspector, " if verb == "run" else ""
        os.write(
            2,
            f"mcpkit {verb}: serving {getattr(server, 'name', 'the server')} over stdio, "
            f"waiting for an MCP client on stdin (Ctrl+C stops it; {dev}`--transport http` "
            "serves HTTP)\n".encode(),
        )
    try:
        server.run(stdin=in_fd, stdout=out_fd)
    finally:
        os.close(in_fd)
        os.close(out_fd)


def serve_http(server: Any, options: dict[str, Any]) -> None:
    """`Server.run(transport="http", **options)`: until SIGINT or SIGTERM."""
    from mcpkit.server.serving._http_run import http_implementation

    try:
        http_implementation(options.get("http"))  # a missing parser is the user's to install
    except ValueError as exc:
        raise SystemExit(f"mcpkit run: {exc}") from None
    server.run(transport="http", **options)
