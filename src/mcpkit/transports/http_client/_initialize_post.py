"""The initialize of a session-based revision over Streamable HTTP: its POST, sent without a
stale session id; the session id and negotiated version its answer gives; and a refusal,
which is either an error answer or, with a status an HTTP+SSE server gives, the
`LegacyFallback` that sends the client to the older transport (basic/transports,
"Backwards Compatibility").

Apart from `transport` because a session starts once, and everything here is about that
start; the transport hands each initialize to `InitializePost.run`.
"""

from __future__ import annotations

from typing import Any

from mcpkit._extras import needs_extra

with needs_extra("http"):
    import httpx

from mcpkit.errors import ConnectionClosed, RemoteProtocolError
from mcpkit.transports.http_client._endpoint_requests import EndpointRequests, RequestFailed
from mcpkit.transports.http_client._failed_requests import FailedRequests, unexpected
from mcpkit.transports.http_client._fallback import LegacyFallback
from mcpkit.transports.http_client._follow import StreamFollower
from mcpkit.transports.http_client._reading import Inbox, read_bounded
from mcpkit.transports.http_client._wire import (
    REFUSAL_LIMIT,
    describe_page,
    error_reply,
    falls_back_to_legacy,
    negotiated_version,
    read_refusal,
)
from mcpkit.types import RequestId

__all__ = ["InitializePost"]


class InitializePost:
    """Runs the initialize of a session-based revision for `StreamableHttpTransport`: it
    posts through `endpoint`, reads the answer with `follower` into `inbox`, and ends a
    failed one through `failed`."""

    def __init__(
        self,
        endpoint: EndpointRequests,
        follower: StreamFollower,
        inbox: Inbox,
        failed: FailedRequests,
    ) -> None:
        self._endpoint = endpoint
        self._follower = follower
        self._inbox = inbox
        self._failed = failed

    async def run(self, data: bytes, rid: RequestId) -> None:
        """POST our initialize and deliver its answer, taking the session id it gives.

        A POST that cannot be sent at all ends the whole inbox: without a session there is
        nothing else to send, and the connect should hear why at once. A refusal with a
        status an HTTP+SSE server gives ends it with LegacyFallback; any other refusal, or
        a failure while reading the answer, is an error answer to the initialize.
        """
        try:
            # No session id: a stale one from an earlier session must not go with a new start.
            response = await self._endpoint.post(data, streaming=True, with_session=False)
        except RequestFailed as exc:
            self._inbox.end(ConnectionClosed(str(exc)))
            return
        except (
            Exception
        ) as exc:  # see the transport's _request: the connect must not wait for its timeout
            failed = unexpected("initialize", self._endpoint.url, exc)
            self._inbox.end(ConnectionClosed(str(failed)))
            return
        stream = self._follower.answer_stream(rid)
        deliver = self._deliver_initialize
        try:
            try:
                if response.status_code >= 400:
                    await self._refused_initialize(response, data, rid)
                    return
                if not self._endpoint.take_session_id(response):
                    self._inbox.end(ConnectionClosed(self._endpoint.bad_session_id(response)))
                    return
                await self._follower.read_answer(response, stream, deliver, "initialize")
            finally:
                await response.aclose()
            if not stream.answered:
                await self._follower.resume(stream, deliver, "initialize")
        except RequestFailed as exc:
            await self._failed.answer(rid, exc)
        except Exception as exc:
            await self._failed.answer(rid, unexpected("initialize", self._endpoint.url, exc))

    async def _deliver_initialize(self, data: bytes, final: bool) -> None:
        """Deliver the initialize answer, taking the negotiated version from it first: each
        later request carries it as MCP-Protocol-Version ("Protocol Version Header")."""
        if final:  # learnt before the answer reaches the session, which then says initialized
            self._endpoint.protocol_version = negotiated_version(data)
        await self._inbox.put(data)

    async def _refused_initialize(self, response: httpx.Response, data: bytes, rid: Any) -> None:
        """Tell the session why initialize was refused: LegacyFallback (400, 404, 405, per
        "Backwards Compatibility"), carrying the body's reason for the error message if the
        old transport fails too, or else an error answer to the initialize."""
        status = response.status_code
        try:
            body = await read_bounded(response, REFUSAL_LIMIT) or b""
        except RemoteProtocolError:  # compressed: not read, its status says enough
            body = b""
        kind = response.headers.get("content-type", "")
        page = describe_page(body, kind, status)
        message, code = (page, None) if page else read_refusal(body, status=status)
        url = self._endpoint.url
        if falls_back_to_legacy(status):
            self._inbox.end(LegacyFallback(url, status, message, data, page=page is not None))
            return
        failed = RequestFailed.status("initialize", url, status, message, code)
        await self._inbox.put(error_reply(rid, str(failed), code=failed.code, data=failed.data))
