"""The message channel: the one interface every transport implements for the runtime.

A channel carries whole JSON-RPC messages as UTF-8 JSON bytes (one object, or one batch
array), never partial frames; framing (newlines for stdio, SSE events for HTTP) is the
transport's job.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

__all__ = ["MessageChannel"]


@runtime_checkable
class MessageChannel(Protocol):
    """A bidirectional stream of JSON-RPC messages.

    `receive` returns the next message's bytes and raises `mcpkit.errors.ConnectionClosed`
    once the peer has gone (end of file, process exit, closed stream). `send` writes one
    message and raises `ConnectionClosed` if it cannot. `aclose` is idempotent.

    Optionally, a channel has a `writable` attribute: False once nothing more can be sent.
    When `receive` ends while the channel is still writable (stdin closed, stdout open), the
    runtime lets requests already received finish and answer before it shuts down.
    """

    async def receive(self) -> bytes: ...

    async def send(self, data: bytes) -> None: ...

    async def aclose(self) -> None: ...
