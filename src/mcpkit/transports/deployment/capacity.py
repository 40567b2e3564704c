"""The defaults and checks of what one HTTP server spends on all its clients together: request
bodies held at once (`BodyBytes`, the app's, which the binding's body read checks a body
against as its `_exchange.BodyBudget`), how long a request's headers and body may take and
how many connections may be open at once (kept in uvicorn's protocol, since ASGI never sees a
connection before its headers are complete: `uvicorn_protocol`, the one module that hooks into
uvicorn). Nothing here runs for a usual request: a body read whole is checked against
`BodyBytes` with no call.

Each refusal names the setting that decides it (docs/http.md, "Limits and exposure")."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from mcpkit.transports.http.checks import Refusal

__all__ = [
    "BodyBytes",
    "DEFAULT_BODY_TIMEOUT",
    "DEFAULT_HEADER_TIMEOUT",
    "DEFAULT_KEEP_ALIVE",
    "DEFAULT_MAX_BODY_BYTES",
    "MAX_KEEP_ALIVE",
    "check_connection_settings",
    "check_keep_alive",
    "default_max_connections",
]

logger = logging.getLogger("mcpkit.http")

#: Seconds a request's body may take to arrive, as a whole (not per read).
DEFAULT_BODY_TIMEOUT: Final = 30.0
#: Bytes of request bodies held at once across the app (four bodies of the default 16 MiB
#: max_message_size).
DEFAULT_MAX_BODY_BYTES: Final = 64 * 1024 * 1024
#: Seconds a connection may take to send a request's headers, from its opening or the end of
#: its previous response.
DEFAULT_HEADER_TIMEOUT: Final = 10.0
#: Seconds an idle connection is kept open after a response for the client's next request
#: (uvicorn's own default). Behind a load balancer that reuses its connections, it must be
#: above the balancer's idle timeout (AWS ALB: 60 s), or a request sent as the server closes
#: the connection fails with 502.
DEFAULT_KEEP_ALIVE: Final = 5
#: The longest `keep_alive` taken: above any balancer's idle timeout by default (an ALB's
#: can be raised to 4,000 s), and a bound on what an idle client can hold.
MAX_KEEP_ALIVE: Final = 7200
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


def check_keep_alive(keep_alive: int) -> None:
    """Raise ValueError naming `keep_alive` unless it is whole seconds from 1 to MAX_KEEP_ALIVE
    (whole, as uvicorn's `timeout_keep_alive` and balancers' idle timeouts are)."""
    if int(keep_alive) != keep_alive:  # (a float given from untyped code)
        raise ValueError(f"keep_alive must be a whole number of seconds, not {keep_alive!r}")
    if not 1 <= keep_alive <= MAX_KEEP_ALIVE:
        raise ValueError(f"keep_alive must be 1 to {MAX_KEEP_ALIVE} seconds, not {keep_alive}")


class BodyBytes:
    """Request bodies being read by one app: at most `max_bytes` held at once across all
    requests. A body that would pass them is refused with 503 and Retry-After (the others
    finish first)."""

    __slots__ = ("held", "max_bytes")

    def __init__(self, max_bytes: int) -> None:
        if max_bytes < 1:
            raise ValueError("max_body_bytes must be a positive number of bytes")
        self.max_bytes = max_bytes
        self.held = 0

    def take(self, size: int) -> Refusal | None:
        """Hold `size` bytes more, or the refusal when that would pass `max_bytes`."""
        refusal = self.room(size)
        if refusal is None:
            self.held += size
        return refusal

    def room(self, size: int) -> Refusal | None:
        """The refusal `take` would answer for `size` bytes more now, else None (none held)."""
        if self.held + size > self.max_bytes:
            # Imported on a refusal only: `mcpkit run`'s parser reads this module's defaults,
            # and building it must not load the binding (tests/cli/test_verbs.py).
            from mcpkit.transports.http.checks import refuse

            logger.warning(
                "refused a request body: %d bytes of bodies are being read, max_body_bytes is %d",
                self.held,
                self.max_bytes,
            )
            return refuse(
                503,
                f"this server holds {self.held} bytes of request bodies being read, near its "
                f"max_body_bytes setting ({self.max_bytes}): try again shortly, or raise "
                "max_body_bytes",
                headers=((b"retry-after", b"1"),),
            )
        return None

    def give_back(self, size: int) -> None:
        self.held -= size
