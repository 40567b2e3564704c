"""Stateless Streamable HTTP: each POST is served by a fresh session that is already initialized
and is freed once its answer is sent (spec: basic/transports, "Session Management": a server
MAY assign no session id; the official Python SDK calls this `stateless_http`)."""

from __future__ import annotations

import time
from collections.abc import Callable

from mcpkit.protocol.server_session import ServerSession
from mcpkit.stores.sessions import SessionRecord, unsent_session_id
from mcpkit.transports.http.live_sessions import HostServer, HttpSession
from mcpkit.transports.http.streams import NO_RESUMPTION, StreamSettings

__all__ = ["open_modern"]


def open_modern(
    server: HostServer,
    revision: str,
    *,
    json_response: bool = False,
    clock: Callable[[], float] = time.monotonic,
    settings: StreamSettings | None = None,
) -> HttpSession:
    """A running session for one POST, operating on `revision` (the request's
    MCP-Protocol-Version) with no client capabilities, as no handshake reaches it. (A
    modern request, 2026-07-28, needs none of this: `modern`.)

    It is not among `server.sessions`: nothing outlives the POST, so a list change or a
    resource update has no stream to go to. The caller closes it after the answer.
    `settings`: its answer's stream's, which keep nothing for a resumption (default: none).
    """
    session = HttpSession(
        server,
        record=SessionRecord(id=unsent_session_id()),
        json_response=json_response,
        clock=clock,
        settings=NO_RESUMPTION if settings is None else settings,
    )
    protocol = session.handle.connection.session
    if isinstance(protocol, ServerSession):
        protocol.start_stateless(revision)
    return session
