"""The GET and DELETE paths of the Streamable HTTP endpoint (spec: basic/transports,
"Listening for Messages from the Server", "Resumability and Redelivery", "Session
Management"): a GET opens the session's stream, or resumes one with `Last-Event-ID`; a DELETE
ends the session. Both name a live session and carry no body; neither is on the hot path of
a POST (`post`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Final

from mcpkit._asgi import Receive, Scope, Send, send_whole, values_of
from mcpkit.auth.server.resource import identity_of
from mcpkit.auth.server.verifier import AccessToken
from mcpkit.stores.deadline import StoreUnavailable
from mcpkit.transports.http._exchange import Resumption, send_refusal
from mcpkit.transports.http.checks import (
    EndpointPolicy,
    Refusal,
    client_address,
    protocol_version,
    refuse,
    session_id,
)
from mcpkit.transports.http.hosting import AppSessions, RecordKeeping
from mcpkit.transports.http.live_sessions import HostServer, HttpSession
from mcpkit.transports.http.streams import HttpChannel, expired

__all__ = ["LISTEN_SINCE", "GetDeleteRequests", "Relay"]

#: The scope key set on a session's GET stream, a listen nobody's answer waits on (its client
#: resumes it with Last-Event-ID): the loop time it opened. A deployment's connection limit
#: (`transports.deployment.uvicorn_protocol`, `max_connections`) ends the oldest listen (these,
#: and 2026-07-28 `subscriptions/listen` requests, told by their Mcp-Method header) of the
#: addresses holding as many connections as the newcomer's would, rather than refuse it.
LISTEN_SINCE: Final = "mcpkit.listen_since"

logger = logging.getLogger("mcpkit.http")


#: What resumes the stream of a session that a Last-Event-ID names when another process
#: numbered it (`relay(channel, last, receive, send)`, False for any other stream: the
#: deployment's `transports.deployment.relay.StreamRelay`, when processes share a store).
Relay = Callable[[HttpChannel, list[bytes], Receive, Send], Awaitable[bool]]


class GetDeleteRequests:
    """How `McpHttpApp` answers a GET or DELETE that passed its checks: `hosting` holds the
    sessions they name, `policy` the revisions it serves, `relay` resumes a stream another
    process numbered, `records` keeps the sessions' records (None: nowhere)."""

    def __init__(
        self,
        server: HostServer,
        hosting: AppSessions,
        policy: EndpointPolicy,
        relay: Relay,
        records: RecordKeeping | None = None,
    ) -> None:
        self.server = server
        self.hosting = hosting
        self.policy = policy
        self.relay = relay
        self.records = records

    async def get(
        self, scope: Scope, receive: Receive, send: Send, token: AccessToken | None
    ) -> None:
        session = await self._known(scope, send, token)
        if session is None:
            return
        # A stream, fresh or resumed: `max_connections` may end it, the oldest first.
        scope[LISTEN_SINCE] = asyncio.get_running_loop().time()
        last = values_of(scope["headers"], b"last-event-id")
        if last:
            await self._resume(session, last, receive, send)
            return
        stream = await session.streams.open_stream()
        if stream is None:
            # basic/transports: "MAY remain connected to multiple SSE streams"; one is enough
            # here, since each message goes on exactly one stream.
            await send_refusal(send, refuse(409, "this session's GET stream is already open"))
            return
        await self.hosting.carry(session, stream, receive, send)

    async def _resume(
        self, channel: HttpChannel, last: list[bytes], receive: Receive, send: Send
    ) -> None:
        """GET with Last-Event-ID: replay what that one stream sent after it, then go on
        (basic/transports, "Resumability and Redelivery")."""
        found = channel.streams.resumable(last)
        if isinstance(found, Refusal):
            if not await self.relay(channel, last, receive, send):  # another process's?
                logger.info("refused a resumption: %s", found.message)
                await send_refusal(send, found)
            return
        stream, after = found
        generation = channel.streams.resume(stream)
        storing = stream.storing
        assert storing is not None
        try:
            events = await storing.store.replay_after(storing.id, after)
        except StoreUnavailable:  # 503 (`McpHttpApp`): the stream stays, for a later try
            stream.detach(generation)
            await channel.release(stream, delivered=False)
            raise
        if events is None:
            stream.detach(generation)
            await channel.release(stream, delivered=False)
            await send_refusal(send, expired(last[0]))
            return
        await self.hosting.carry(channel, stream, receive, send, resume=Resumption(after, events))

    async def delete(self, scope: Scope, send: Send, token: AccessToken | None) -> None:
        session = await self._known(scope, send, token)
        if session is None:
            return
        sid = str(session_id(scope["headers"], required=True))
        if self.hosting.sessions.remove(sid) is session:
            await session.end()
        if self.records is not None:
            await self.records.delete(sid)  # (and its copies in other processes end)
        await send_whole(send, 200)

    # -------------------------------------------------------------- sessions

    async def _known(
        self, scope: Scope, send: Send, token: AccessToken | None
    ) -> HttpSession | None:
        """The live session a GET or DELETE names (opened by who `token` speaks for), or None
        once refused."""
        headers = scope["headers"]
        version = protocol_version(headers, self.policy.supported_revisions)
        sid = session_id(headers, required=True)
        for found in (version, sid):
            if isinstance(found, Refusal):
                await send_refusal(send, found)
                return None
        owner = None if token is None else identity_of(token)
        records = self.records
        if records is None:
            session = self.hosting.lookup(str(sid), headers, owner)
        else:
            session = await records.find(str(sid), headers, owner, client_address(scope))
        if isinstance(session, Refusal):
            await send_refusal(send, session)
            return None
        return session
