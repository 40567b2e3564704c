"""mcpkit's uvicorn HTTP protocol: uvicorn's own (`HttpToolsProtocol` or `H11Protocol`) with
what an MCP server needs of a connection that ASGI cannot give it, since ASGI never sees a
connection before its headers are complete, nor one that never sends, nor its socket:

- joined writes (`joined`, `JoinedWrites`): what is written during one turn of the event
  loop goes out in one socket write, and the connection's write buffer is counted in the
  app's `QueuedBytes`;
- connection limits (`connection_limits.guarded`, on `ConnectionGuard` here): `header_timeout`,
  `body_timeout` and `max_connections`.

`McpHttpApp.uvicorn_protocol()` builds it, and `mcpkit run --transport http` serves with it;
an app served another way never loads this module. It and `connection_limits` (the limits'
paths that no request takes) are mcpkit's modules that hook into uvicorn, and what they rely
on is this:

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
    the client went (as uvicorn's own `connection_lost` does), `scope` (the request's,
    the dict the app is given: the client address the app counts, `_host_of`), and, for a
    request whose body still arrives after its headers, `send` (the ASGI send its task
    passes the app when it first runs, wrapped so that an answer started before the body
    is all read says `connection: close`) and `transport` (replaced for such an answer, so
    that uvicorn's close after it is the guard's linger): `_answer_may_close`.

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
from typing import TYPE_CHECKING, Any, Final, Literal

from mcpkit._extras import needs_extra
from mcpkit.transports.deployment.slow_readers import QueuedBytes
from mcpkit.transports.deployment.uvicorn_shape import UvicornShapeChanged, check_uvicorn_shape

__all__ = [
    "FLUSH_AT",
    "JoinedWrites",
    "UvicornShapeChanged",
    "check_uvicorn_shape",
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


class ConnectionGuard:
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

    if TYPE_CHECKING:  # `connection_limits.ConnectionLimits`'s, after this class in `guarded`'s

        def _sweep_soon(self) -> None: ...
        def _make_room(self) -> bool: ...
        def _refuse(self, answer: bytes) -> None: ...
        def _linger(self) -> None: ...
        def _answer_may_close(self, cycle: Any) -> None: ...

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
            if cycle.more_body:
                self._answer_may_close(cycle)
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
        elif not is_busy(self):  # (a pipelined request may already run)
            self._mk_idle_at = self.loop.time()
            self._mk_idle_for = self.idle_timeout


def is_busy(protocol: Any) -> bool:
    """Whether the connection has a request in progress (its headers read, its response not
    yet complete)."""
    cycle = protocol.cycle
    return cycle is not None and not cycle.response_complete
