"""What a Streamable HTTP endpoint does with its sessions between requests: find one (for the
revision it negotiated), open one, forget one whose runtime ended, expire idle ones, end
their streams and them at shutdown, and run the server's lifespan with the idle sweep (the
ASGI lifespan events). `McpHttpApp` is this plus the requests."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Callable, Sequence

from mcpkit.transports.http._asgi import Receive, Send
from mcpkit.transports.http._headers import quote_header, values_of
from mcpkit.transports.http.checks import Refusal, refuse, unknown_session
from mcpkit.transports.http.legacy import LegacySseEndpoint
from mcpkit.transports.http.sessions import (
    HostServer,
    HttpSession,
    SessionRegistry,
    end_expired,
)
from mcpkit.transports.http.streams import HttpChannel, Stream, StreamSettings

__all__ = ["SessionHost"]

logger = logging.getLogger("mcpkit.http")


class SessionHost:
    """The session bookkeeping of `McpHttpApp` (which sets these attributes)."""

    server: HostServer
    json_response: bool
    sessions: SessionRegistry[HttpSession]
    session_idle_timeout: float
    streams: StreamSettings
    legacy: LegacySseEndpoint | None
    _open_streams: set[Stream]  # those a response carries now
    _lifespan_ran: bool  # whether `lifespan()` was ever entered (a warning when it was not)
    _clock: Callable[[], float]

    def _lookup(
        self, sid: str, headers: Sequence[tuple[bytes, bytes]], owner: object = None
    ) -> HttpSession | Refusal:
        """The live session `sid` names, if `owner` opened it (who the request's token speaks
        for: another identity learns nothing, not even that it exists) and the request speaks
        its negotiated revision."""
        session = self.sessions.get(sid)
        if session is None or session.owner != owner:
            return unknown_session(sid)
        return _wrong_version(session, headers) or session

    def _open(self) -> HttpSession:
        channel = HttpChannel(
            json_response=self.json_response, clock=self._clock, settings=self.streams
        )
        handle = self.server.new_connection(channel)
        channel.protocol = handle.connection.session
        self.server.sessions.add(handle)
        return HttpSession(self.server, channel, handle)

    def _forget(self, sid: str, session: HttpSession) -> None:
        """A session whose channel closed (its runtime failed, or it was ended) is removed
        at once (`HttpChannel.on_close`)."""
        if self.sessions.get(sid) is session:
            self.sessions.remove(sid)
        session.channel.close()  # a POST waiting for its body to be read gets a 404
        self.server.sessions.discard(session.handle)

    async def expire_idle(self) -> int:
        """End the sessions idle for `session_idle_timeout`; how many there were."""
        return await end_expired(self.sessions, self._clock())

    def close_streams(self, *, calls: bool = False) -> None:
        """End the GET streams (and legacy streams) now, each with a `retry` (SEP-1699), so the
        clients come back to whatever serves next: call it when a shutdown begins, since
        uvicorn waits for open responses to end before the lifespan shutdown, and a GET
        stream never ends on its own. A call's stream goes on to its answer, in the server's
        graceful time, unless `calls` (the lifespan shutdown: whatever is still open)."""
        retry = self.streams.retry_ms
        if calls:
            for stream in list(self._open_streams):
                stream.hang_up(retry, force=True)
        for _, session in self.sessions.items():
            get = session.channel.stream
            if get is not None and not get.hang_up(retry, force=True):
                get.end()
        if self.legacy is not None:
            self.legacy.close_streams()

    async def aclose_sessions(self) -> None:
        """End every live session (at shutdown)."""
        for sid, session in self.sessions.items():
            self.sessions.remove(sid)
            await session.aclose()
        if self.legacy is not None:
            await self.legacy.aclose_sessions()

    # ---------------------------------------------------------------- lifespan

    @contextlib.asynccontextmanager
    async def lifespan(self) -> AsyncGenerator[None]:
        """What the ASGI lifespan events run: the server's lifespan hook and the idle sweep,
        then, on the way out, every stream and session ended. Enter it from the outer app's
        lifespan when this app is mounted in another (Starlette's and FastAPI's `Mount` send
        no lifespan events to mounted apps): `Starlette(routes=[Mount("/api", app=app)],
        lifespan=lambda _: app.lifespan())`."""
        async with self.server.running():
            self._lifespan_ran = True
            sweeper = asyncio.get_running_loop().create_task(self._sweep())
            try:
                yield
            finally:
                self.close_streams(calls=True)
                sweeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sweeper
                await self.aclose_sessions()

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        """ASGI lifespan: `lifespan()` from startup to shutdown."""
        await receive()  # lifespan.startup
        async with contextlib.AsyncExitStack() as stack:
            try:
                await stack.enter_async_context(self.lifespan())
            except Exception as exc:
                logger.exception("the server's lifespan failed to start")
                await send({"type": "lifespan.startup.failed", "message": repr(exc)})
                return
            await send({"type": "lifespan.startup.complete"})
            await receive()  # lifespan.shutdown
        await send({"type": "lifespan.shutdown.complete"})

    async def _sweep(self) -> None:
        while True:
            # A periodic timer, not a wait for something: sessions go within 1.25x the timeout.
            await asyncio.sleep(max(0.05, self.session_idle_timeout / 4))
            await self.expire_idle()


def _wrong_version(session: HttpSession, headers: Sequence[tuple[bytes, bytes]]) -> Refusal | None:
    """400 when MCP-Protocol-Version names another revision than the session negotiated
    (basic/transports, "Protocol Version Header"). Absent, the negotiated one is meant: the
    spec assumes 2025-03-26 only when the server "has no other way to identify the version"."""
    sent = values_of(headers, b"mcp-protocol-version")
    negotiated = session.channel.protocol.revision if session.channel.protocol else None
    if not sent or negotiated is None or sent[0].strip(b" \t").decode("latin-1") == negotiated:
        return None
    return refuse(
        400,
        f"MCP-Protocol-Version {quote_header(sent[0])} is not the revision this session "
        f"negotiated ({negotiated}): send {negotiated}, or initialize a new session",
    )
