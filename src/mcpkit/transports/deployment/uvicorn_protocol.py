"""mcpkit's uvicorn HTTP protocol: uvicorn's own (`HttpToolsProtocol` or `H11Protocol`) with
what an MCP server needs of a connection that ASGI cannot give it, since ASGI never sees a
connection before its headers are complete, nor one that never sends, nor its socket:

- joined writes (`joined`, `JoinedWrites`): what is written during one turn of the event
  loop goes out in one socket write, and the connection's write buffer is counted in the
  app's `QueuedBytes`;
- connection limits (`guarded`): `header_timeout`, `body_timeout` and `max_connections`.

`McpHttpApp.uvicorn_protocol()` builds it, and `mcpkit run --transport http` serves with it;
an app served another way never loads this module. It is mcpkit's one module that hooks into
uvicorn, and what it relies on is this:

- For the joined writes, only public contracts: uvicorn's `http=` setting, which takes a
  protocol class and calls it with its own arguments (passed on untouched), and asyncio's:
  the event loop calls the protocol's callbacks, which pass each on to uvicorn's, and
  uvicorn's protocol writes to the transport it was given in `connection_made`. Nothing of
  uvicorn's protocol is read or replaced, so a uvicorn release that changes its internals
  cannot silently unjoin the writes.
- For the connection limits, uvicorn's internals, of `HttpToolsProtocol` and `H11Protocol` (or
  a subclass given as `base`):
  - the asyncio callbacks `connection_made` and `data_received`, and `on_response_complete`,
    which the request cycle calls when a response is complete;
  - the protocol's attributes `connections` (the server's set of open protocols, shared),
    `cycle` (the request being served, a new object per request, or None), `transport`,
    `loop` and `client` (the peer's (host, port));
  - the attributes of the cycle, a `RequestResponseCycle` of the protocol's module:
    `more_body` (the body is still arriving), `response_started`, `response_complete`, and
    `disconnected` with `message_event`, set together to tell the app reading the body that
    the client went (as uvicorn's own `connection_lost` does), and `scope` (the request's,
    the dict the app is given: the client address the app counts, `_host_of`).

  Checked with uvicorn 0.30.0, 0.34.0 and 0.54.0. `guarded` checks that shape before it
  builds its class (`check_uvicorn_shape`, in `uvicorn_shape`: it reads uvicorn's source,
  once at start): a uvicorn without it fails at start with an error naming what is missing,
  rather than serving with the limits silently gone.

Joined writes, in more detail: uvicorn writes a response's head as soon as the app sends
`http.response.start`, and each body part as it comes: for an MCP answer that is ready at
once (the usual case) that is two socket writes, two TCP segments and two wake-ups of the
client, where one would do. `JoinedWrites` stands between uvicorn and the socket: what is
written during one turn goes out together at the end of that turn (`loop.call_soon`), in
order. An app served by another uvicorn can use them too:

    uvicorn.run(server.http_app(), http=uvicorn_protocol.protocol("httptools"))

Bounds: a write of `FLUSH_AT` bytes or more (or one that brings the held bytes there) goes out
at once, so no more than that is ever held, and uvicorn's flow control (which watches the
real transport) sees every byte at most one loop turn late. Closing sends what is held
first; aborting drops it, as the transport itself would. docs/performance.md has the figures.

Given the app's `QueuedBytes`, a connection is also a reader of it: what its transport buffers
for a client that does not read (the whole answer it was given, whatever its size) is charged
when the transport pauses writing (its buffer past asyncio's high-water mark, 64 KiB) and
credited when it resumes and when the connection is lost, so a write costs nothing more; a
closed connection counts until then (its buffer stays until the client reads it); a
connection ended for holding the most is aborted, which frees its buffer at once.

Each refusal of the connection limits names the setting that decides it (docs/http.md,
"Limits and exposure")."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any, Final, Literal

from mcpkit._asgi import first_header
from mcpkit._extras import needs_extra
from mcpkit.transports.deployment.capacity import (
    DEFAULT_KEEP_ALIVE,
    check_connection_settings,
    check_keep_alive,
)
from mcpkit.transports.deployment.uvicorn_shape import UvicornShapeChanged, check_uvicorn_shape
from mcpkit.transports.http.checks import client_address, refuse
from mcpkit.transports.http.get_delete import LISTEN_SINCE
from mcpkit.transports.http.slow_readers import QueuedBytes

__all__ = [
    "FLUSH_AT",
    "LINGER_SECONDS",
    "JoinedWrites",
    "UvicornShapeChanged",
    "check_uvicorn_shape",
    "guarded",
    "joined",
    "protocol",
    "uvicorn_protocol",
]

logger = logging.getLogger("mcpkit.http")

#: Bytes held at most before they go out without waiting for the end of the turn.
FLUSH_AT: Final = 64 * 1024


class JoinedWrites:
    """A transport that holds what is written until the end of the loop's turn, then writes it
    in one call to `transport`. Everything else is the wrapped transport's."""

    __slots__ = ("_loop", "_pending", "_size", "budget", "held", "transport")

    def __init__(
        self,
        transport: asyncio.Transport,
        loop: asyncio.AbstractEventLoop,
        budget: QueuedBytes | None = None,
    ) -> None:
        self.transport = transport
        self._loop = loop
        self._pending: list[bytes] | None = None
        self._size = 0
        self.budget = budget
        self.held = 0  # bytes of the transport's buffer charged to `budget`

    def write(self, data: bytes | bytearray | memoryview) -> None:
        held = self._pending
        size = len(data)
        if held is None:
            if size >= FLUSH_AT:
                self.transport.write(data)
                return
            self._pending = [bytes(data)]
            self._size = size
            self._loop.call_soon(self.flush)
            return
        held.append(bytes(data))
        self._size += size
        if self._size >= FLUSH_AT:
            self.flush()

    def writelines(self, lines: Iterable[bytes | bytearray | memoryview]) -> None:
        self.write(b"".join(lines))

    def flush(self) -> None:
        """Write what is held now (the end-of-turn callback; also before closing)."""
        held, self._pending = self._pending, None
        self._size = 0
        if held and not self.transport.is_closing():
            self.transport.write(held[0] if len(held) == 1 else b"".join(held))

    def recount_buffer(self) -> None:
        """Charge (or credit) the budget with what the transport's buffer holds now: when it
        passed the high-water mark (uvicorn then writes no more until it drains) and once it
        drained."""
        budget = self.budget
        if budget is None:
            return
        size = self.transport.get_write_buffer_size()
        if size > self.held:
            budget.charge(self, size - self.held)
        elif size < self.held:
            budget.credit(self, self.held - size)

    def recount(self) -> int:
        """`Reader.recount`: the transport's buffer drains unseen between writes. A closing
        transport still counts: closed (uvicorn's keep-alive closes an idle connection) it
        keeps its buffer until the client reads it, which one that stopped reading never does;
        aborted, its buffer is gone."""
        return self.transport.get_write_buffer_size()

    def end_slow(self) -> None:
        """`Reader.end_slow`: abort the connection, dropping what its buffer holds (closing
        would keep it until the client read it all); the app sees the client gone."""
        self.abort()

    def connection_over(self) -> None:
        """The connection is lost: it holds nothing of the budget any more."""
        if self.budget is not None:
            self.budget.release(self)

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def write_eof(self) -> None:
        self.flush()
        self.transport.write_eof()

    def abort(self) -> None:
        self._pending = None
        self._size = 0
        self.transport.abort()

    def get_write_buffer_size(self) -> int:
        return self._size + self.transport.get_write_buffer_size()

    # What uvicorn calls on every request or read is passed on here, not by `__getattr__`:
    # that runs only once the usual lookup has failed, which costs an AttributeError raised
    # and cleared inside CPython each time.

    def is_closing(self) -> bool:
        return self.transport.is_closing()

    def pause_reading(self) -> None:
        self.transport.pause_reading()

    def resume_reading(self) -> None:
        self.transport.resume_reading()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


def protocol(name: Literal["httptools", "h11"]) -> type[asyncio.Protocol]:
    """uvicorn's `name` protocol class, writing through `JoinedWrites` (for uvicorn's `http=`)."""
    found = _JOINED.get(name)
    if found is None:
        found = _JOINED[name] = joined(uvicorn_protocol(name))
    return found


def uvicorn_protocol(name: Literal["httptools", "h11"]) -> type[asyncio.Protocol]:
    """uvicorn's own protocol class for `name`, as its `http="httptools"` / `"h11"` picks."""
    if name == "httptools":
        with needs_extra("http"):
            from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        return HttpToolsProtocol
    with needs_extra("http"):
        from uvicorn.protocols.http.h11_impl import H11Protocol

    return H11Protocol


_JOINED: dict[str, type[asyncio.Protocol]] = {}


def joined(
    base: type[asyncio.Protocol], budget: QueuedBytes | None = None
) -> type[asyncio.Protocol]:
    """A protocol class that serves a connection with `base` (built with the same arguments)
    and hands it the connection's transport wrapped in `JoinedWrites` (charging `budget`
    with what the transport buffers, when given).

    Only asyncio's public contracts are used: the event loop calls this protocol's callbacks,
    which pass each on to the inner one, and the inner protocol writes to the transport it was
    given in `connection_made`. Nothing of `base` is read or replaced, so a uvicorn release that
    renames its internals still serves joined (uvicorn's part is its `http=` setting, which
    takes a protocol class and calls it with its own arguments, passed on untouched)."""

    class Joined(asyncio.Protocol):
        __slots__ = ("inner", "writes")

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            self.inner = base(*args, **kwargs)
            self.writes: JoinedWrites | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            loop = asyncio.get_running_loop()
            self.writes = JoinedWrites(transport, loop, budget)  # type: ignore[arg-type]
            self.inner.connection_made(self.writes)  # type: ignore[arg-type]

        def data_received(self, data: bytes) -> None:
            self.inner.data_received(data)

        def eof_received(self) -> bool | None:
            return self.inner.eof_received()

        def connection_lost(self, exc: Exception | None) -> None:
            if self.writes is not None:  # (None: the connection was never made)
                self.writes.connection_over()
            self.inner.connection_lost(exc)

        def pause_writing(self) -> None:
            assert self.writes is not None  # (the transport made it before it writes)
            self.writes.recount_buffer()  # past the high-water mark: charge it
            self.inner.pause_writing()

        def resume_writing(self) -> None:
            assert self.writes is not None  # (the transport made it before it writes)
            self.writes.recount_buffer()  # drained to the low-water mark: credit it
            self.inner.resume_writing()

    Joined.__name__ = Joined.__qualname__ = "Joined" + base.__name__
    Joined.__doc__ = f"{base.__name__}, its writes joined per loop turn (uvicorn_protocol.joined)."
    return Joined


#: Seconds a refused connection keeps reading (and discarding) after its answer: RFC 9112
#: section 9.6. Closing while the client still sends makes the kernel answer its next bytes
#: with a reset, and a reset can discard the refusal from the client's buffer unread.
LINGER_SECONDS: Final = 2.0


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
        "__doc__": f"{base.__name__} with connection limits (uvicorn_protocol.guarded).",
    }
    settings["_sweeps"] = {}
    cls: type[asyncio.Protocol] = type("Guarded" + base.__name__, (_Guard, base), settings)
    cls.__module__ = __name__
    return cls


class _Guard:
    """The methods `guarded` puts before uvicorn's protocol's (the class attributes are set
    there). What they read of uvicorn is what the module docstring lists, and
    `check_uvicorn_shape` checks before this class is used.

    No timer per request: a request only notes the time (when its connection went idle, when
    its body began), and one sweep per server, every quarter of the shorter deadline while
    connections are open, closes those past a deadline. A deadline is thus kept within a
    quarter of itself, and a request costs a clock read, not a timer armed and cancelled."""

    header_timeout: float
    idle_timeout: float
    body_timeout: float
    max_connections: int
    timed_out: bytes
    body_timed_out: bytes
    full: bytes
    # uvicorn's:
    connections: set[Any]
    cycle: Any
    transport: Any
    loop: asyncio.AbstractEventLoop
    # The sweep of the server these connections belong to, keyed by its `connections` set.
    _sweeps: dict[int, asyncio.TimerHandle]

    def connection_made(self, transport: asyncio.Transport) -> None:
        super().connection_made(transport)  # type: ignore[misc]
        self._mk_opened_at = self.loop.time()
        self._mk_idle_at: float | None = self._mk_opened_at  # None while a request is served
        self._mk_idle_for = self.header_timeout  # after a response: idle_timeout
        self._mk_seen: Any = None  # the cycle last seen: a new one is a new request
        self._mk_body_at: float | None = None  # when a body still arriving began
        self._mk_linger_until: float | None = None  # set once refused: closing after
        self._sweep_soon()
        if len(self.connections) > self.max_connections and not self._make_room():
            logger.warning(
                "refused a connection: max_connections (%d) are busy", self.max_connections
            )
            self._refuse(self.full)

    def data_received(self, data: bytes) -> None:
        if self._mk_linger_until is not None:
            return  # refused: what the client still sends is read and dropped
        super().data_received(data)  # type: ignore[misc]
        cycle = self.cycle
        if cycle is not self._mk_seen:  # a request's headers are complete
            self._mk_seen = cycle
            self._mk_idle_at = None
            self._mk_body_at = self.loop.time() if cycle.more_body else None
        elif self._mk_body_at is not None and not cycle.more_body:
            self._mk_body_at = None

    def on_response_complete(self) -> None:
        super().on_response_complete()  # type: ignore[misc]
        cycle = self.cycle
        if cycle is not None and cycle.more_body and not self.transport.is_closing():
            # Answered before its body was all read (the app refused it: 413, 503): the rest
            # would only be read and dropped, so the connection ends now, not after
            # keep_alive (or header_timeout, when the rest keeps arriving).
            self._linger()
        elif not _busy(self):  # (a pipelined request may already run)
            self._mk_idle_at = self.loop.time()
            self._mk_idle_for = self.idle_timeout

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
        if idle_at is not None and now - idle_at >= self._mk_idle_for and not _busy(self):
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
        transport = self.transport
        if not transport.can_write_eof():
            transport.close()
            return
        transport.write_eof()
        transport.resume_reading()  # uvicorn's flow control may have paused it mid-body
        self._mk_linger_until = self.loop.time() + LINGER_SECONDS

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
            if idle_at is None or _busy(other):
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


def _busy(protocol: Any) -> bool:
    """Whether the connection has a request in progress (its headers read, its response not
    yet complete)."""
    cycle = protocol.cycle
    return cycle is not None and not cycle.response_complete


def _raw_refusal(status: int, reason: str, message: str, retry_after: int | None = None) -> bytes:
    """A whole HTTP/1.1 response, written before any request was read: the app's refusal
    body (a JSON-RPC error without an id), and the connection closes."""
    extra = () if retry_after is None else ((b"retry-after", str(retry_after).encode()),)
    refusal = refuse(status, message, headers=(*extra, (b"connection", b"close")))
    head = [f"HTTP/1.1 {status} {reason}".encode(), b"content-length: %d" % len(refusal.body)]
    head += [name + b": " + value for name, value in refusal.headers]
    return b"\r\n".join(head) + b"\r\n\r\n" + refusal.body
