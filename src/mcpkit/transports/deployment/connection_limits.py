"""The connection limits of mcpkit's uvicorn protocol off a request's path: the class `guarded`
builds (`ConnectionLimits`, uvicorn's protocol after `uvicorn_protocol.ConnectionGuard`, which
notes what each request's bytes tell), the sweep that closes connections past
`header_timeout` or `body_timeout`, the room made for a new connection when
`max_connections` are open, and the refusals, sent before any request was read and followed
by a linger rather than a reset. What they read of uvicorn is what `uvicorn_protocol`'s
docstring lists (`check_uvicorn_shape` checks it at start). A room apart from
`ConnectionGuard` because none of it runs while a connection serves its requests: it runs
when one opens, is refused, or is swept, or when a request's body comes after its headers.

Each refusal names the setting that decides it (docs/http.md, "Limits and exposure")."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Final

from mcpkit._asgi import first_header
from mcpkit.transports.deployment.capacity import (
    DEFAULT_KEEP_ALIVE,
    check_connection_settings,
    check_keep_alive,
)
from mcpkit.transports.deployment.uvicorn_protocol import ConnectionGuard, is_busy
from mcpkit.transports.deployment.uvicorn_shape import check_uvicorn_shape
from mcpkit.transports.http.checks import client_address, refuse
from mcpkit.transports.http.get_delete import LISTEN_SINCE

__all__ = ["LINGER_SECONDS", "ConnectionLimits", "guarded"]

logger = logging.getLogger("mcpkit.http")

#: Seconds a refused connection keeps reading (and discarding) after its answer: RFC 9112
#: section 9.6. Closing while the client still sends makes the kernel answer its next bytes
#: with a reset, and a reset can discard the refusal from the client's buffer unread.
LINGER_SECONDS: Final = 2.0
_CLOSE: Final = (b"connection", b"close")


def guarded(
    base: Any,
    *,
    header_timeout: float,
    body_timeout: float,
    max_connections: int,
    keep_alive: int = DEFAULT_KEEP_ALIVE,
) -> type[asyncio.Protocol]:
    """uvicorn's protocol class `base` (`HttpToolsProtocol`, `H11Protocol`, or a subclass),
    with deadlines for a request's headers and body and a cap on open connections.

    A connection that has not completed a request's headers `header_timeout` seconds after it
    opened (after its last response: `keep_alive` seconds when longer, as uvicorn, given it
    as `timeout_keep_alive`, closes it quietly then) is answered 408 and closed: a silent or
    dribbling client no longer holds a file descriptor for ever. A body not complete `body_timeout`
    seconds after its headers is answered 408 and the connection closed (the app reading it
    sees the client go); a body that arrives with its headers, the usual case, costs no
    timer. When `max_connections` are open, a new
    one ends the connection idle the longest (no request in progress: waiting for headers,
    or kept alive between requests); when every connection has a request in progress, the
    oldest connection of the client address holding the most ends (a listen stream, say),
    provided that address holds more than the newcomer's would; when the addresses holding
    the most hold as many as the newcomer's would, the oldest listen of theirs goes (a
    session's GET stream or a 2026-07-28 `subscriptions/listen`, `get_delete.LISTEN_SINCE`:
    its client opens it again, no answer waits on it); when the newcomer's address holds
    the most, or none of those is a listen, the new one is answered 503 with Retry-After and
    closed. So a flood of connections from one address falls on that address, never on the
    others. Both name their setting.

    Raises `UvicornShapeChanged` when `base` lacks what the guard reads of uvicorn (the module
    docstring lists it), and ValueError naming a setting out of range."""
    check_uvicorn_shape(base)
    check_connection_settings(header_timeout, body_timeout, max_connections)
    check_keep_alive(keep_alive)
    settings: dict[str, Any] = {
        "header_timeout": header_timeout,
        # Idle between requests, uvicorn's keep-alive closes the connection quietly: the
        # deadline must not answer 408 before it (a balancer reusing it would see the 408).
        "idle_timeout": max(header_timeout, keep_alive),
        "body_timeout": body_timeout,
        "max_connections": max_connections,
        "timed_out": _raw_refusal(
            408,
            "Request Timeout",
            f"the request's headers did not arrive within header_timeout ({header_timeout:g} s)",
        ),
        "body_timed_out": _raw_refusal(
            408,
            "Request Timeout",
            f"the request body did not arrive within body_timeout ({body_timeout:g} s): send it "
            "at once, or raise body_timeout",
        ),
        "full": _raw_refusal(
            503,
            "Service Unavailable",
            f"this server has {max_connections} open connections, its max_connections setting, "
            "each with a request in progress: try again later, or raise max_connections",
            retry_after=5,
        ),
        "__doc__": f"{base.__name__} with connection limits (connection_limits.guarded).",
    }
    settings["_sweeps"] = {}
    cls: type[asyncio.Protocol] = type(
        "Guarded" + base.__name__, (ConnectionLimits, base), settings
    )
    cls.__module__ = __name__
    return cls


class ConnectionLimits(ConnectionGuard):
    """The deadlines, the room and the refusals of `ConnectionGuard`'s connections (the class
    attributes are set by `guarded`)."""

    def _sweep_soon(self) -> None:
        key = id(self.connections)
        if key not in self._sweeps:
            period = min(self.header_timeout, self.body_timeout) / 4
            self._sweeps[key] = self.loop.call_later(
                period, _sweep, self.connections, self._sweeps, key, period
            )

    def _expire(self, now: float) -> None:
        """Close this connection if it is past a deadline."""
        if self.transport is None or self.transport.is_closing():
            return
        if self._mk_linger_until is not None:
            if now >= self._mk_linger_until:
                self.transport.close()
            return
        idle_at, body_at = self._mk_idle_at, self._mk_body_at
        if idle_at is not None and now - idle_at >= self._mk_idle_for and not is_busy(self):
            logger.info("closed a connection: no request headers within header_timeout")
            self._refuse(self.timed_out)
        elif body_at is not None and now - body_at >= self.body_timeout:
            cycle = self.cycle
            if cycle is not None and cycle.more_body:
                logger.info("closed a connection: its request body took over body_timeout")
                # The app reading the body sees the client go, as on a real disconnect
                # (what uvicorn's connection_lost does), and gives back what it held.
                cycle.disconnected = True
                cycle.message_event.set()
                if cycle.response_started:
                    self.transport.close()
                else:
                    self._refuse(self.body_timed_out)

    def _refuse(self, answer: bytes) -> None:
        """Send `answer` and end the connection without a reset: half-close (the client reads
        the answer, then end of stream), drop what the client still sends, and close once it
        closes too (asyncio closes on its end of stream) or LINGER_SECONDS have passed."""
        self.transport.write(answer)
        self._linger()

    def _linger(self) -> None:
        """End the connection after what was written (`_refuse`'s way): half-close, drop
        what the client still sends, close once it closes or after LINGER_SECONDS."""
        if self._mk_linger_until is not None:
            return  # (already: `_answer_may_close`'s close, then `on_response_complete`)
        transport = self.transport
        if not transport.can_write_eof():
            transport.close()
            return
        transport.write_eof()
        transport.resume_reading()  # uvicorn's flow control may have paused it mid-body
        self._mk_linger_until = self.loop.time() + LINGER_SECONDS

    def _answer_may_close(self, cycle: Any) -> None:
        """`cycle`'s headers are complete, its body still arriving. An answer that starts
        before the body is all read (a refusal: 401 before the body is read, 413, 503) ends
        the connection (`on_response_complete`), so its head says `connection: close`:
        without it, a keep-alive client could send its next request in the moment before our
        end of stream reached it, and have it dropped unanswered ("server disconnected").
        uvicorn closes after such an answer; that close is made the linger."""
        send = cycle.send

        async def send_closing(message: Any) -> None:
            if message["type"] == "http.response.start" and cycle.more_body:
                message = {**message, "headers": [*message.get("headers", ()), _CLOSE]}
                cycle.transport = _LingerOnClose(cycle.transport, self._linger)
            await send(message)

        # uvicorn's task for the request, made as its headers were parsed, has not run yet:
        # it reads `cycle.send` when it first runs.
        cycle.send = send_closing

    def _make_room(self) -> bool:
        """Room for this connection: end one refused and still draining when the others are
        below `max_connections` without those (they hold no request: a draining one only
        keeps the file descriptor count within the limit), else the one idle the longest,
        else the greediest address's oldest (`_end_greediest`); False if none may go."""
        oldest: Any = None
        draining: Any = None
        live = 1  # this one
        for other in self.connections:
            if other is self or other.transport is None or other.transport.is_closing():
                continue
            if getattr(other, "_mk_linger_until", None) is not None:
                draining = other
                continue
            live += 1
            idle_at = getattr(other, "_mk_idle_at", None)
            if idle_at is None or is_busy(other):
                continue
            if oldest is None or idle_at < oldest._mk_idle_at:
                oldest = other
        if live <= self.max_connections:
            if draining is not None:
                draining.transport.close()
            return True
        if oldest is None:
            return self._end_greediest()
        logger.info("max_connections were open: closed the one idle the longest")
        oldest.transport.close()
        return True

    def _end_greediest(self) -> bool:
        """Every other connection is busy: end the oldest of the address holding the most,
        when it holds more than this one's (counting this one); False when none does."""
        by_address: dict[object, list[Any]] = {}
        for other in self.connections:
            if (
                other is not self
                and other.transport is not None
                and not other.transport.is_closing()
                and getattr(other, "_mk_linger_until", None) is None
            ):
                by_address.setdefault(_host_of(other), []).append(other)
        mine = len(by_address.get(_host_of(self), ())) + 1
        none: list[Any] = []
        greediest = max(by_address.values(), key=len, default=none)
        if len(greediest) < mine:
            return False  # this one's address holds the most: its own flood falls on it
        if len(greediest) == mine:
            return self._end_oldest_listen(by_address, mine)
        oldest = min(greediest, key=lambda c: getattr(c, "_mk_opened_at", 0.0))
        logger.warning(
            "max_connections (%d) were open and busy: closed the oldest connection of the "
            "address holding the most (%d)",
            self.max_connections,
            len(greediest),
        )
        oldest.transport.close()
        return True

    def _end_oldest_listen(self, by_address: dict[object, list[Any]], mine: int) -> bool:
        """The addresses holding the most hold as many connections as this one's would: end
        the oldest listen of theirs (`LISTEN_SINCE`: a stream nobody's answer waits on, which
        its client opens again), never one of an address holding fewer; False when none of
        theirs serves one."""
        oldest: Any = None
        since = 0.0
        for held in by_address.values():
            if len(held) != mine:
                continue
            for other in held:
                opened = _listen_since(other)
                if opened is not None and (oldest is None or opened < since):
                    oldest, since = other, opened
        if oldest is None:
            return False
        logger.warning(
            "max_connections (%d) were open and busy, each client address holding at most "
            "%d: closed the oldest listen stream",
            self.max_connections,
            mine,
        )
        oldest.transport.close()
        return True


class _LingerOnClose:
    """The transport of a request cycle whose answer said `connection: close` with the body
    still arriving (`_answer_may_close`): uvicorn's close after the answer is `linger` (a
    close with the rest of the body unread answers it with a reset, which can discard the
    answer from the client's buffer unread); the rest is the transport's."""

    __slots__ = ("_linger", "_transport")

    def __init__(self, transport: Any, linger: Callable[[], None]) -> None:
        self._transport = transport
        self._linger = linger

    def close(self) -> None:
        self._linger()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


def _sweep(
    connections: set[Any], sweeps: dict[int, asyncio.TimerHandle], key: int, period: float
) -> None:
    """One look at every open connection of a server; again in `period` while any is open."""
    del sweeps[key]
    if not connections:
        return
    loop = asyncio.get_running_loop()
    now = loop.time()
    for connection in list(connections):
        expire = getattr(connection, "_expire", None)
        if expire is not None:
            expire(now)
    sweeps[key] = loop.call_later(period, _sweep, connections, sweeps, key, period)


def _host_of(protocol: Any) -> object:
    """The client's host of a connection: its request's, as the app counts it
    (`client_address`: behind a trusted proxy the app put the forwarded client in the scope
    it shares with the cycle), else the peer's (uvicorn's `client`: (host, port), or None)."""
    cycle = getattr(protocol, "cycle", None)
    client = getattr(protocol, "client", None) if cycle is None else client_address(cycle.scope)
    return client[0] if client else None


def _listen_since(protocol: Any) -> float | None:
    """When the listen a connection serves opened, or None when it serves none: a session's
    GET stream notes it in its scope (`LISTEN_SINCE`); a 2026-07-28 `subscriptions/listen`
    is told by its Mcp-Method header (the app checks it against the body, and answers 400
    when they differ, before it serves the request), and counts from when its connection
    opened. Read here, when a tie needs it, so that no request pays for it."""
    cycle = protocol.cycle
    if cycle is None or protocol.transport is None or cycle.response_complete:
        return None
    opened: float | None = cycle.scope.get(LISTEN_SINCE)
    if opened is None and first_header(cycle.scope, b"mcp-method") == b"subscriptions/listen":
        opened = getattr(protocol, "_mk_opened_at", None)
    return opened


def _raw_refusal(status: int, reason: str, message: str, retry_after: int | None = None) -> bytes:
    """A whole HTTP/1.1 response, written before any request was read: the app's refusal
    body (a JSON-RPC error without an id), and the connection closes."""
    extra = () if retry_after is None else ((b"retry-after", str(retry_after).encode()),)
    refusal = refuse(status, message, headers=(*extra, (b"connection", b"close")))
    head = [f"HTTP/1.1 {status} {reason}".encode(), b"content-length: %d" % len(refusal.body)]
    head += [name + b": " + value for name, value in refusal.headers]
    return b"\r\n".join(head) + b"\r\n\r\n" + refusal.body
