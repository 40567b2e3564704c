"""The connection limits of an HTTP server run by uvicorn (`header_timeout`, `body_timeout`,
`max_connections`: `McpHttpApp.uvicorn_protocol()`), kept inside uvicorn's HTTP protocol,
since ASGI never sees a connection before its headers are complete, nor one that never sends.

This is the one module of mcpkit that reads uvicorn's internals; nothing else imports it but
`uvicorn_protocol()`, and an app served another way never loads it. What it relies on, of
uvicorn's `HttpToolsProtocol` and `H11Protocol` (or a subclass given as `base`):

- the asyncio callbacks `connection_made` and `data_received`, and `on_response_complete`,
  which the request cycle calls when a response is complete;
- the protocol's attributes `connections` (the server's set of open protocols, shared),
  `cycle` (the request being served, a new object per request, or None), `transport`,
  `loop` and `client` (the peer's (host, port));
- the attributes of the cycle, a `RequestResponseCycle` of the protocol's module:
  `more_body` (the body is still arriving), `response_started`, `response_complete`, and
  `disconnected` with `message_event`, set together to tell the app reading the body that
  the client went (as uvicorn's own `connection_lost` does).

Checked with uvicorn 0.30.0, 0.34.0 and 0.54.0. `guarded` checks that shape before it builds
its class (`check_uvicorn_shape`): a uvicorn without it fails at start with an error naming
what is missing, rather than serving with the limits silently gone.

Each refusal names the setting that decides it (docs/http.md, "Limits and exposure")."""

from __future__ import annotations

import ast
import asyncio
import inspect
import logging
import sys
from collections.abc import Iterator
from functools import cache
from typing import Any, Final

from mcpkit.transports.http.capacity import (
    DEFAULT_KEEP_ALIVE,
    check_connection_settings,
    check_keep_alive,
)
from mcpkit.transports.http.checks import refuse

__all__ = ["LINGER_SECONDS", "UvicornShapeChanged", "check_uvicorn_shape", "guarded"]

logger = logging.getLogger("mcpkit.http")

#: Seconds a refused connection keeps reading (and discarding) after its answer: RFC 9112
#: section 9.6. Closing while the client still sends makes the kernel answer its next bytes
#: with a reset, and a reset can discard the refusal from the client's buffer unread.
LINGER_SECONDS: Final = 2.0

# What `_Guard` takes from uvicorn (the module docstring says what each is for).
_PROTOCOL_METHODS: Final = ("connection_made", "data_received", "on_response_complete")
_PROTOCOL_ATTRIBUTES: Final = ("connections", "cycle", "transport", "loop", "client")
_CYCLE_CLASS: Final = "RequestResponseCycle"
_CYCLE_ATTRIBUTES: Final = (
    "more_body",
    "response_started",
    "response_complete",
    "disconnected",
    "message_event",
)


class UvicornShapeChanged(RuntimeError):
    """The uvicorn installed lacks what the connection limits read of its protocol."""


def check_uvicorn_shape(base: type[Any]) -> None:
    """Raise `UvicornShapeChanged`, naming each missing piece, unless `base` (a uvicorn HTTP
    protocol class) has the methods and sets the attributes the module docstring lists, and
    its module's request cycle sets those of the cycle. Read from uvicorn's source (a few
    milliseconds, once per server start): nothing of uvicorn runs."""
    missing = _missing(base)
    if missing:
        import uvicorn

        raise UvicornShapeChanged(
            f"mcpkit's connection limits (header_timeout, body_timeout, max_connections) "
            f"read uvicorn's protocol internals, and uvicorn {uvicorn.__version__} lacks: "
            f"{', '.join(missing)}. Serve with a uvicorn release mcpkit was checked with "
            "(mcpkit.transports.http.uvicorn_connections says which), or without "
            "`http=app.uvicorn_protocol()` (and without these limits)."
        )


def _missing(base: type[Any]) -> tuple[str, ...]:
    if _module_tree(base.__module__) is None:  # installed without its .py files
        return (f"the source of {base.__module__} (the check reads it)",)
    missing = [
        f"{base.__name__}.{name}()"
        for name in _PROTOCOL_METHODS
        if not callable(getattr(base, name, None))
    ]
    set_on_self = _assigned_on_self(base)
    missing += [f"{base.__name__}.{n}" for n in _PROTOCOL_ATTRIBUTES if n not in set_on_self]
    cycle = getattr(sys.modules.get(base.__module__), _CYCLE_CLASS, None)
    if not isinstance(cycle, type):
        return (*missing, f"{base.__module__}.{_CYCLE_CLASS}")
    set_on_cycle = _assigned_on_self(cycle)
    missing += [f"{_CYCLE_CLASS}.{n}" for n in _CYCLE_ATTRIBUTES if n not in set_on_cycle]
    return tuple(missing)


def _assigned_on_self(cls: type[Any]) -> set[str]:
    """The attributes the methods of `cls` and its bases assign on `self` (`self.x = ...`,
    `self.x: T = ...`), read from their modules' source; a class without source (a builtin,
    one made at run time) counts for none, and asyncio's own are skipped."""
    names: set[str] = set()
    for klass in cls.__mro__:
        if klass.__module__.partition(".")[0] in ("builtins", "asyncio"):
            continue
        tree = _module_tree(klass.__module__)
        for node in tree.body if tree is not None else ():
            if isinstance(node, ast.ClassDef) and node.name == klass.__name__:
                names.update(_self_targets(node))
    return names


@cache
def _module_tree(name: str) -> ast.Module | None:
    """Module `name`'s source, parsed (a module's source does not change while it runs)."""
    module = sys.modules.get(name)
    try:
        return ast.parse(inspect.getsource(module)) if module is not None else None
    except (OSError, TypeError):
        return None


def _self_targets(node: ast.AST) -> Iterator[str]:
    for child in ast.walk(node):
        targets = child.targets if isinstance(child, ast.Assign) else []
        if isinstance(child, ast.AnnAssign):
            targets = [child.target]
        for target in targets:
            if (
                isinstance(target, ast.Attribute)
                and isinstance(target.value, ast.Name)
                and target.value.id == "self"
            ):
                yield target.attr


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
    provided that address holds more than the newcomer's would; only when none does (each
    address holds as many as the newcomer's) is the new one answered 503 with Retry-After
    and closed. So a flood of connections from one address falls on that address, never on
    the others. Both name their setting.

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
        "__doc__": f"{base.__name__} with header_timeout and max_connections (limits.guarded).",
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
        if not _busy(self):  # (a pipelined request may already run)
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
        transport = self.transport
        transport.write(answer)
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
        if len(greediest) <= mine:
            return False
        oldest = min(greediest, key=lambda c: getattr(c, "_mk_opened_at", 0.0))
        logger.warning(
            "max_connections (%d) were open and busy: closed the oldest connection of the "
            "address holding the most (%d)",
            self.max_connections,
            len(greediest),
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
    """The peer's host of a connection (uvicorn's `client`: (host, port), or None)."""
    client = getattr(protocol, "client", None)
    return client[0] if client else None


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
