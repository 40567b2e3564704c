"""What hosting the app adds over its lifetime, around the sessions it serves: the server's
lifespan hook and the idle sweep run between the ASGI lifespan events (`AppLifespan.lifespan`,
which an app mounted in another enters from the outer app's lifespan), and the shutdown: the
streams that never end on their own ended, each with a `retry` (SEP-1699), so their clients
come back to whatever serves next, the readiness route told, and at the end every session
ended. The spec's transport section says a server MAY end a session at any time; when this
one does (idle, or a process stopping) is the deployment's choice.

It relies on: of the binding, the app's sessions (`hosting.AppSessions`: the registry, the
streams its responses carry now, the streams' settings) and the 2026-07-28 requests served
now (`own_calls.OwnCalls`, cut at the end); beside them in this package, the sessions'
records (`session_records.RecordKeeper`: expired with the sessions, and told of the other
processes' changes while the app runs), the readiness routes (`health.HealthRoutes`), the
relayed streams (`relay.StreamRelay`); and the legacy HTTP+SSE endpoint
(`transports.legacy_sse`), whose streams and sessions end with these."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator

from mcpkit._asgi import Receive, Send
from mcpkit.stores.deadline import StoreUnavailable
from mcpkit.transports.deployment.health import HealthRoutes
from mcpkit.transports.deployment.hosted_server import HostedServer
from mcpkit.transports.deployment.relay import StreamRelay
from mcpkit.transports.deployment.session_records import RecordKeeper
from mcpkit.transports.http.hosting import AppSessions
from mcpkit.transports.http.live_sessions import end_expired
from mcpkit.transports.http.own_calls import OwnCalls
from mcpkit.transports.legacy_sse.endpoint import LegacySseEndpoint

__all__ = ["AppLifespan"]

logger = logging.getLogger("mcpkit.http")


class AppLifespan:
    """The lifetime of one app serving `server` and `hosting`'s sessions, which end once idle for
    `idle_timeout` seconds: `records`, where their records are kept (None: nowhere);
    `own_calls`, its 2026-07-28 requests served now; `health`, the routes told when a shutdown
    begins; `relay`, whose streams end then; `legacy`, the 2024-11-05 endpoint whose sessions
    end with these (None: none). `ran` says whether `lifespan()` was ever entered (the app
    warns when it was not)."""

    def __init__(
        self,
        server: HostedServer,
        hosting: AppSessions,
        *,
        idle_timeout: float,
        records: RecordKeeper | None,
        own_calls: OwnCalls,
        health: HealthRoutes,
        relay: StreamRelay,
        legacy: LegacySseEndpoint | None,
    ) -> None:
        self.server = server
        self.hosting = hosting
        self.idle_timeout = idle_timeout
        self.records = records
        self.own_calls = own_calls
        self.health = health
        self.relay = relay
        self.legacy = legacy
        self.ran = False

    async def expire_idle(self) -> int:
        """End the sessions idle for `idle_timeout`; how many there were. The records not seen
        for as long are dropped too (`RecordKeeper.expire`)."""
        if self.records is not None:
            await self.records.expire()
        return await end_expired(self.hosting.sessions, self.hosting.clock())

    def close_streams(self, *, calls: bool = False) -> None:
        """End the GET streams (and legacy streams) now, each with a `retry` (SEP-1699),
        answer the 2026-07-28 listens (`subscriptions/listen`), and end the streams relayed
        from another process's log, so the clients come back to whatever serves next: call
        it when a shutdown begins, since uvicorn waits for open responses to end before the
        lifespan shutdown, and none of these ends on its own soon. A call's stream goes on
        to its answer, in the server's graceful time, unless `calls` (the lifespan shutdown:
        whatever is still open). From then on `/readyz` answers 503: a shutdown has begun,
        and a balancer should send new work elsewhere."""
        self.health.draining = True
        hosting = self.hosting
        retry = hosting.streams.retry_ms
        # A 2026-07-28 listen is a POST served as a request, but like a GET stream it never
        # ends on its own: it is answered now, not after the calls' grace.
        self.server.close_listens()
        # A stream relayed from another process's log waits for nothing this one runs: its
        # client resumes it, at once, on a process that goes on serving.
        for relayed in list(self.relay.streams):
            relayed.hang_up(retry, force=True)
        if calls:
            for stream in list(hosting.open_streams):
                stream.hang_up(retry, force=True)
            self.own_calls.cut_all()
        for _, session in hosting.sessions.items():
            get = session.streams.stream
            if get is not None and not get.hang_up(retry, force=True):
                get.end()
        if self.legacy is not None:
            self.legacy.close_streams()

    async def aclose_sessions(self) -> None:
        """End every live session (at shutdown)."""
        sessions = self.hosting.sessions
        for sid, session in sessions.items():
            sessions.remove(sid)
            await session.end()
        if self.legacy is not None:
            await self.legacy.aclose_sessions()

    @contextlib.asynccontextmanager
    async def lifespan(self) -> AsyncGenerator[None]:
        """What the ASGI lifespan events run: the server's lifespan hook and the idle sweep,
        then, on the way out, every stream and session ended. Enter it from the outer app's
        lifespan when this app is mounted in another (Starlette's and FastAPI's `Mount` send
        no lifespan events to mounted apps): `Starlette(routes=[Mount("/api", app=app)],
        lifespan=lambda _: app.lifespan())`."""
        hosting = self.hosting
        async with self.server.running():
            self.ran = True
            sweeper = asyncio.get_running_loop().create_task(self._sweep())
            listening = None if self.records is None else self.records.listen()
            try:
                yield
            finally:
                if listening is not None:
                    listening()
                self.close_streams(calls=True)
                sweeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sweeper
                await self.aclose_sessions()
                await hosting.streams.drain()  # what sessions that ended earlier left to forget

    async def serve(self, receive: Receive, send: Send) -> None:
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
            await asyncio.sleep(max(0.05, self.idle_timeout / 4))
            try:
                await self.expire_idle()
            except StoreUnavailable as exc:  # the sweep goes on: the store may come back
                logger.warning("idle sessions were not expired: %s", exc)
