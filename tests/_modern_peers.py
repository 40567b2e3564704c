"""Serving a 2026-07-28 body with a `RequestPeer` as the transport does (`OwnCalls.serve`),
for tests that drive the peer without HTTP."""

from __future__ import annotations

from mcpkit.protocol.outbox import ModernRead
from mcpkit.runtime.connection import serve
from mcpkit.server.request_peer import RequestPeer


async def serve_read(peer: RequestPeer, read: ModernRead) -> tuple[bool, list[bytes]]:
    """Serve what the reading session read: the request made an exchange with the peer as
    its reply and its peer, and served as every request is (`runtime.connection.serve`), or
    the body answered without one; (whether it held anything awaiting an answer, the answers
    to the body as a whole)."""
    request = read.request  # (None for a body refused as a whole)
    if request is None:
        return await peer.answer_read(read)
    request.reply = request.peer = peer
    await serve(request)
    return True, []
