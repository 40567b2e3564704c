"""uvicorn's HTTP protocols with the writes of one event-loop turn joined into one.

uvicorn writes a response's head as soon as the app sends `http.response.start`, and each body
part as it comes: for an MCP answer that is ready at once (the usual case) that is two socket
writes, two TCP segments and two wake-ups of the client, where one would do. `JoinedWrites`
stands between uvicorn and the socket: what is written during one turn of the event loop goes
out together at the end of that turn (`loop.call_soon`), in order. `mcpkit run --transport
http` serves with these protocols; an app served by another uvicorn can use them too:

    uvicorn.run(server.http_app(), http=joined_writes.protocol("httptools"))

Bounds: a write of `FLUSH_AT` bytes or more (or one that brings the held bytes there) goes out
at once, so no more than that is ever held, and uvicorn's flow control (which watches the
real transport) sees every byte at most one loop turn late. Closing sends what is held
first; aborting drops it, as the transport itself would. docs/performance.md has the figures.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any, Final, Literal

__all__ = ["FLUSH_AT", "JoinedWrites", "protocol"]

#: Bytes held at most before they go out without waiting for the end of the turn.
FLUSH_AT: Final = 64 * 1024


class JoinedWrites:
    """A transport that holds what is written until the end of the loop's turn, then writes it
    in one call to `transport`. Everything else is the wrapped transport's."""

    __slots__ = ("_held", "_loop", "_size", "transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self.transport = transport
        self._loop = loop
        self._held: list[bytes] | None = None
        self._size = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        held = self._held
        size = len(data)
        if held is None:
            if size >= FLUSH_AT:
                self.transport.write(data)
                return
            self._held = [bytes(data)]
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
        held, self._held = self._held, None
        self._size = 0
        if held and not self.transport.is_closing():
            self.transport.write(held[0] if len(held) == 1 else b"".join(held))

    def close(self) -> None:
        self.flush()
        self.transport.close()

    def write_eof(self) -> None:
        self.flush()
        self.transport.write_eof()

    def abort(self) -> None:
        self._held = None
        self._size = 0
        self.transport.abort()

    def get_write_buffer_size(self) -> int:
        return self._size + self.transport.get_write_buffer_size()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


def protocol(name: Literal["httptools", "h11"]) -> type[asyncio.Protocol]:
    """uvicorn's `name` protocol class, writing through `JoinedWrites` (for uvicorn's `http=`)."""
    found = _JOINED.get(name)
    if found is None:
        base: type[asyncio.Protocol]
        if name == "httptools":
            from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

            base = HttpToolsProtocol
        else:
            from uvicorn.protocols.http.h11_impl import H11Protocol

            base = H11Protocol
        found = _JOINED[name] = _joined(base)
    return found


_JOINED: dict[str, type[asyncio.Protocol]] = {}


def _joined(base: Any) -> type[asyncio.Protocol]:
    def connection_made(self: Any, transport: asyncio.Transport) -> None:
        base.connection_made(self, transport)
        # uvicorn keeps its transport as `self.transport` and hands it to each request's
        # cycle; should a version not, it is served unjoined rather than half joined.
        if getattr(self, "transport", None) is transport:
            self.transport = JoinedWrites(transport, self.loop)

    name = "Joined" + base.__name__
    cls: type[asyncio.Protocol] = type(name, (base,), {"connection_made": connection_made})
    cls.__module__ = __name__
    cls.__doc__ = f"uvicorn's {base.__name__}, its writes joined per loop turn (JoinedWrites)."
    return cls
