"""The listening sockets `run(transport="http")` serves: bound here rather than by uvicorn, so
that port 0's choice is known before the app is built (its Host check, the log line) and a
supervisor can bind once and hand the same sockets to every worker.

Apart from `_http_run` (uvicorn, the app, signals) because binding is plain socket work that
both the serving process and the supervisor of several workers do.
"""

from __future__ import annotations

import errno
import logging
import socket
from typing import Final

__all__ = ["bind_sockets", "url_of"]

logger = logging.getLogger("mcpkit.server")

#: Connections the kernel queues before accept: uvicorn's default, kept because these
#: sockets are bound here, not by uvicorn, which would otherwise have set it.
_BACKLOG: Final = 2048


def bind_sockets(host: str, port: int) -> list[socket.socket]:
    """Listening sockets on every address `host` names (`localhost`: 127.0.0.1 and ::1, so a
    client that tries either connects), all on one port: `port`, or the one the first got
    for port 0. The error names what to change."""
    # Checked here, not left to the bind: getaddrinfo takes a port up to 2**31 and wraps it
    # (70000 comes back as 4464), and the bind then raises OverflowError, not OSError.
    if not 0 <= port <= 65535:
        raise SystemExit(f"cannot serve on {host}:{port}: give a port from 0 to 65535")
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, OverflowError) as exc:
        raise SystemExit(
            f"cannot serve on {host}:{port} ({exc}): give an IP address or a name this machine "
            "resolves, and a port from 0 to 65535"
        ) from None
    # getaddrinfo may give one address several times (once per protocol, say): one
    # socket each, in its order, else the second bind of the same address fails.
    addresses: list[tuple[int, str]] = []
    for entry in found:
        key = (int(entry[0]), str(entry[4][0]))
        if key not in addresses:
            addresses.append(key)
    several = len(addresses) > 1
    # The first socket settles the port (port 0: the kernel's choice); the others take the
    # same one, so the one URL logged reaches the server over IPv4 and IPv6 alike.
    first = _listen(*addresses[0], port, several=several, host=host)
    sockets = [first]
    chosen: int = first.getsockname()[1]
    for other_family, address in addresses[1:]:
        try:
            sockets.append(_listen(other_family, address, chosen, several=several, host=host))
        except SystemExit:  # another family that this machine cannot bind (no IPv6, say)
            logger.debug("not listening on %s port %d too", address, chosen)
    return sockets


def _listen(family: int, address: str, port: int, *, several: bool, host: str) -> socket.socket:
    """A listening socket on `address`:`port`; SystemExit naming `host` and what to change
    when it cannot be bound (the port in use above all)."""
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        # A restarted server can bind at once, though its last connections still linger in
        # TIME_WAIT on the port.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # An IPv6 socket may also take the port's IPv4 addresses (Linux's default): beside
        # an IPv4 socket on the same port, that would make this bind fail as in use.
        if several and family == socket.AF_INET6:  # beside an IPv4 socket on the same port
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        # Accepted sockets inherit it on Linux: without it Nagle holds a response's last
        # write until the client's delayed ACK, up to 40 ms on every request.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind((address, port))
        sock.listen(_BACKLOG)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise SystemExit(
                f"cannot serve on {host}:{port}: the port is in use; give another port, or 0 "
                "for a free one"
            ) from None
        raise SystemExit(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
    return sock


def url_of(sock: socket.socket, path: str) -> str:
    """The URL a client reaches the app at through `sock`, for the log: the address as
    bound (the port chosen for port 0), an IPv6 one in brackets as RFC 3986 writes it."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}{path}"
