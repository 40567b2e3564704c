"""uvicorn's HTTP protocols with the writes of one event-loop turn joined into one.

uvicorn writes a response's head as soon as the app sends `http.response.start`, and each body
part as it comes: for an MCP answer that is ready at once (the usual case) that is two socket
writes, two TCP segments and two wake-ups of the client, where one would do. `JoinedWrites`
stands between uvicorn and the socket: what is written during one turn of the event loop goes
out together at the end of that turn (`loop.call_soon`), in order. `mcpkit run --transport
http` serves with these protocols; an app served by another uvicorn can use them too:

    uvicorn.run(server.http_app(), http=joined_writes.protocol("httptools"))

`joined(base)` wraps a protocol class rather than subclassing it: uvicorn's protocol gets the
wrapped transport through asyncio's own `connection_made`, and none of its attributes are read
or replaced, so a uvicorn release that changes its internals cannot silently unjoin the writes.

Bounds: a write of `FLUSH_AT` bytes or more (or one that brings the held bytes there) goes out
at once, so no more than that is ever held, and uvicorn's flow control (which watches the
real transport) sees every byte at most one loop turn late. Closing sends what is held
first; aborting drops it, as the transport itself would. docs/performance.md has the figures.

Given the app's `QueuedBytes`, a connection is also a reader of it: what its transport buffers
for a client that does not read (the whole answer it was given, whatever its size) is charged
when the transport pauses writing (its buffer past asyncio's high-water mark, 64 KiB) and
credited when it resumes and when the connection is lost, so a write costs nothing more; a
connection ended for holding the most is aborted, which frees its buffer at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any, Final, Literal

from mcpkit.transports.http.slow_readers import QueuedBytes

__all__ = ["FLUSH_AT", "JoinedWrites", "joined", "protocol", "uvicorn_protocol"]

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
        """`Reader.recount`: the transport's buffer drains unseen between writes."""
        return 0 if self.transport.is_closing() else self.transport.get_write_buffer_size()

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
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

        return HttpToolsProtocol
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
    Joined.__doc__ = f"{base.__name__}, its writes joined per loop turn (joined_writes.joined)."
    return Joined
