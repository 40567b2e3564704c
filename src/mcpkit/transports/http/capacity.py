"""The defaults and checks of what one HTTP server spends on all its clients together: request
bodies held at once (kept by the app's `BodyBudget`, in `_exchange`, beside the body read it
bounds), how long a request's headers and body may take and how many connections may be open
at once (kept in uvicorn's protocol, since ASGI never sees a connection before its headers
are complete: `uvicorn_connections`, the one module that reads uvicorn's internals). Nothing
here runs per request.

Each refusal names the setting that decides it (docs/http.md, "Limits and exposure")."""

from __future__ import annotations

from typing import Final

__all__ = [
    "DEFAULT_BODY_TIMEOUT",
    "DEFAULT_HEADER_TIMEOUT",
    "DEFAULT_MAX_BODY_BYTES",
    "check_connection_settings",
    "default_max_connections",
]

#: Seconds a request's body may take to arrive, as a whole (not per read).
DEFAULT_BODY_TIMEOUT: Final = 30.0
#: Bytes of request bodies held at once across the app (four bodies of the default 16 MiB
#: max_message_size).
DEFAULT_MAX_BODY_BYTES: Final = 64 * 1024 * 1024
#: Seconds a connection may take to send a request's headers, from its opening or the end of
#: its previous response.
DEFAULT_HEADER_TIMEOUT: Final = 10.0
# File descriptors kept for everything else the process opens (its listeners, log files,
# the stores, the subprocesses a proxy runs).
_FD_RESERVE: Final = 128
_MAX_CONNECTIONS_CEILING: Final = 10_000


def default_max_connections() -> int:
    """Connections open at once by default: what this process's file-descriptor limit leaves
    after a reserve (with Linux's usual 1024, 896), at most 10,000. Past the limit every
    accept fails, for everyone, and uvicorn logs errors in a loop."""
    try:
        import resource
    except ImportError:  # not a Unix: no such limit to read
        return 1000
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return _MAX_CONNECTIONS_CEILING
    return max(16, min(_MAX_CONNECTIONS_CEILING, soft - _FD_RESERVE))


def check_connection_settings(
    header_timeout: float, body_timeout: float, max_connections: int
) -> None:
    """Raise ValueError naming the setting when one is out of range."""
    if not header_timeout > 0:
        raise ValueError("header_timeout must be a positive number of seconds")
    if not body_timeout > 0:
        raise ValueError("body_timeout must be a positive number of seconds")
    if max_connections < 1:
        raise ValueError("max_connections must be at least 1")
