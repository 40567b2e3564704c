"""A new session when the server forgot ours: a POST answered 404 for our Mcp-Session-Id
replays our initialize and initialized, then is sent once more (spec: basic/transports,
"Session Management" 4)."""

from __future__ import annotations

import asyncio
import logging

from mcpkit._extras import needs_extra

with needs_extra("http"):
    import httpx

from mcpkit.transports.http_client._endpoint_requests import EndpointRequests, RequestFailed
from mcpkit.transports.http_client._follow import StreamFollower
from mcpkit.transports.http_client._wire import negotiated_version, read_head
from mcpkit.types import RequestId

__all__ = ["Renewal"]

logger = logging.getLogger("mcpkit.client.http")

#: What the replayed initialize is called in errors and logs, so a failure there reads as
#: the renewal's, not as the caller's own request.
_REPLAYED = "initialize (for a new session)"


class Renewal:
    """Keeps the initialize and initialized our session began with, and starts a new session
    with them in place of one the server ended."""

    def __init__(self, endpoint: EndpointRequests, follower: StreamFollower) -> None:
        self._endpoint = endpoint
        self._follower = follower
        #: Our initialize request, as sent (None: the session has not begun).
        self.initialize_body: bytes | None = None
        #: Our notifications/initialized, as sent.
        self.initialized_body: bytes | None = None
        # Many requests in flight can all get the 404 at once: one of them renews, the others
        # wait here and then find a new session id and post again.
        self._renewing = asyncio.Lock()

    async def post(self, data: bytes, what: str, *, streaming: bool = True) -> httpx.Response:
        """POST `data`; on 404 for our session, start a new one and POST once more.

        Once only: a second 404 is the server's answer, returned to the caller, rather than a
        loop of new sessions. A 404 without a session id is a wrong URL, not a lost session.
        """
        endpoint = self._endpoint
        sid = endpoint.session_id
        response = await endpoint.post(data, streaming=streaming)
        if response.status_code != 404 or sid is None:
            return response
        # The 404's body says nothing we need; closing it frees its connection for the renewal.
        await response.aclose()
        logger.info("%s got 404: the server ended session %s; starting a new one", what, sid)
        await self.renew(sid)
        return await endpoint.post(data, streaming=streaming)

    async def renew(self, stale: str) -> None:
        """Start a new session in place of `stale`, replaying our initialize (its answer is
        not the caller's: the runtime's session was initialized already) and initialized."""
        endpoint = self._endpoint
        async with self._renewing:
            if endpoint.session_id != stale:
                return  # another request renewed it meanwhile
            body = self.initialize_body
            if body is None:
                raise RequestFailed("the server ended the session before it was initialized")
            try:
                await self._replay_initialize(body)
            except RequestFailed:
                # Kept so that the next request's 404 tries again, instead of every request
                # going out with no session id at all (and a 400 for each).
                endpoint.session_id = stale
                raise
            # The spec's handshake is initialize, then initialized: a server may refuse other
            # requests until it has had the notification.
            if self.initialized_body is not None:
                response = await endpoint.post(self.initialized_body, streaming=False)
                await response.aclose()
            # The GET stream belonged to the old session: the new one needs its own, or
            # server-initiated messages would have nowhere to go.
            await self._follower.listen_again()

    async def _replay_initialize(self, body: bytes) -> None:
        """POST our initialize without a session id and take the new one from its response;
        RequestFailed when the server refuses or gives no valid id."""
        endpoint = self._endpoint
        # Sent without the old id or version headers, as a first initialize is: the spec
        # says a new session starts with an InitializeRequest with no session ID attached.
        endpoint.session_id = None
        endpoint.protocol_version = None
        response = await endpoint.post(body, streaming=True, with_session=False)
        try:
            await endpoint.check_refusal(response, _REPLAYED)
            if not endpoint.take_session_id(response):
                raise RequestFailed(endpoint.bad_session_id(response))
            await self._read_replayed_answer(response, read_head(body).id)
        finally:
            await response.aclose()

    async def _read_replayed_answer(self, response: httpx.Response, rid: RequestId | None) -> None:
        """Read the replayed initialize's answer for its version: the runtime's session knows
        this answer already, so it is not passed on."""
        endpoint = self._endpoint
        follower = self._follower
        stream = follower.answer_stream(rid)

        # The server may negotiate another version this time (it was upgraded, say); later
        # requests must carry the one this new session agreed to.
        async def learn(data: bytes, final: bool) -> None:
            if final:
                endpoint.protocol_version = negotiated_version(data)

        await follower.read_answer(response, stream, learn, _REPLAYED)
        # The answer may come on a stream that drops first: resumed like any other answer.
        if not stream.answered:
            await follower.resume(stream, learn, _REPLAYED)
