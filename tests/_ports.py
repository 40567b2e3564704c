"""A port for a server a test starts later, chosen so nothing else takes it meanwhile.

Binding port 0 and closing the socket names a free port, but one from the kernel's
ephemeral range, which every other program's port-0 bind and outgoing connection draws
from: on a busy machine (two suites side by side, say) it may be taken before the server
the test starts binds it. `spare_port` instead picks, at random, a free port below that
range, where the kernel hands out nothing on its own; only a program that names the same
port could take it. Where the range leaves no room below it, a port-0 choice is the
fallback.
"""

from __future__ import annotations

import random
import socket
from pathlib import Path

__all__ = ["spare_port"]

_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_LOWEST = 10_000  # below it: the ports services are configured on (6379, 8080, ...)
_TRIES = 64


def _ephemeral_start() -> int:
    """The first port of the kernel's ephemeral range (Linux's default where unreadable)."""
    try:
        return int(_RANGE.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32_768


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def spare_port() -> int:
    """A free port of 127.0.0.1 outside the ephemeral range (see the module's text)."""
    top = _ephemeral_start()
    if top - _LOWEST >= _TRIES:
        for _ in range(_TRIES):
            port = random.randrange(_LOWEST, top)
            if _free(port):
                return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        chosen: int = probe.getsockname()[1]
        return chosen
