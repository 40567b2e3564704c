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

__all__ = ["SessionRenewal"]

logger = logging.getLogger("mcpkit.client.http")

_REPLAYED = "initialize (for a new session)"


class SessionRenewal:
    """Keeps the initialize and initialized our session began with, and starts a new session
    with them in place of one the server ended."""

    def __init__(self, endpoint: EndpointRequests, follower: StreamFollower) -> None:
        self._endpoint = endpoint
        self._follower = follower
        #: Our initialize request, as sent (None: the session has not begun).
        self.initialize_body: bytes | None = None
        #: Our notifications/initialized, as sent.
        self.initialized_body: bytes | None = None
        self._renewing = asyncio.Lock()

    async def post(self, data: bytes, what: str, *, streaming: bool = True) -> httpx.Response:
        """POST `data`; on 404 for our session, start a new one and POST once more."""
        endpoint = self._endpoint
        sid = endpoint.session_id
        response = await endpoint.post(data, streaming=streaming)
        if response.status_code != 404 or sid is None:
            return response
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
            if self.initialized_body is not None:
                response = await endpoint.post(self.initialized_body, streaming=False)
                await response.aclose()
            await self._follower.listen_again()

    async def _replay_initialize(self, body: bytes) -> None:
        endpoint = self._endpoint
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

        async def learn(data: bytes, final: bool) -> None:
            if final:
                endpoint.protocol_version = negotiated_version(data)

        await follower.read_answer(response, stream, learn, _REPLAYED)
        if not stream.answered:
            await follower.resume(stream, learn, _REPLAYED)
