"""`StreamableHttpTransport`: the client end of Streamable HTTP as a `MessageChannel` (spec:
basic/transports, "Streamable HTTP"). Each message our session sends is one POST, run in a
task of its own so a long answer never holds the next one; what the server sends on any
stream (POST answers, the GET stream) comes out of `receive()`. The initialize of a
session-based revision is `_initialize_post`; a request HTTP failed is answered by
`_failed_requests`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Mapping
from typing import Any

from mcpkit._extras import needs_extra

with needs_extra("http"):
    import httpx

from mcpkit.errors import ConnectionClosed, ConnectionFailed, InvalidUrl
from mcpkit.protocol.limits import DEFAULT_MAX_MESSAGE_SIZE
from mcpkit.runtime.authorizing import Authorizes, Authorizing
from mcpkit.transports.endpoint_url import check_endpoint_url
from mcpkit.transports.http_client._endpoint_requests import (
    EndpointRequests,
    ModernHeaders,
    RequestFailed,
)
from mcpkit.transports.http_client._failed_requests import FailedRequests, unexpected
from mcpkit.transports.http_client._follow import StreamFollower
from mcpkit.transports.http_client._initialize_post import InitializePost
from mcpkit.transports.http_client._reading import Inbox
from mcpkit.transports.http_client._renewal import Renewal
from mcpkit.transports.http_client._wire import (
    Head,
    read_head,
    read_params,
)
from mcpkit.types import RequestId

__all__ = ["StreamableHttpTransport"]

logger = logging.getLogger("mcpkit.client.http")


class StreamableHttpTransport:
    """A Streamable HTTP connection to the MCP endpoint at `url`, for `Client(transport)`.

    Args:
        url: the MCP endpoint, such as "http://127.0.0.1:8000/mcp".
        headers: sent with every request (an API key, say).
        http_client: an `httpx.AsyncClient` to use (its proxies, TLS, limits); it is not
            closed here. Without one, the transport makes and closes its own.
        auth: an `httpx.Auth` applied to every request (OAuth, for instance).
        timeout: seconds to connect, send, and read anything but an answer to a request.
        sse_read_timeout: seconds an answer (SSE or JSON) or the GET stream may stay silent
            before the connection is taken as dropped (then resumed, if it can be).
        max_message_size: bytes; a larger message from the server fails its stream. None:
            the `Client`'s `max_message_size`.
        max_reconnects: failed attempts in a row to resume a stream before giving up (the
            waiting request then fails with an error that says so); 0 never resumes.
        reconnect_delay: seconds before the first attempt when the server set no `retry`,
            doubled after each failure (at most 30 s).
        listen: open the GET stream for what the server sends outside any request.
    """

    def __init__(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
        auth: httpx.Auth | None = None,
        timeout: float = 30.0,
        sse_read_timeout: float = 300.0,
        max_message_size: int | None = None,
        max_reconnects: int = 5,
        reconnect_delay: float = 1.0,
        listen: bool = True,
    ) -> None:
        check_endpoint_url(url)
        try:
            httpx.URL(url)  # what httpx alone refuses, refused now too, not at the first POST
        except httpx.InvalidURL as exc:
            raise InvalidUrl(url, "host", f"{url!r} is not a URL httpx can use: {exc}") from None
        self.listen = listen
        # Whether the caller chose the limit: then the Client's own limit does not replace it.
        self._given_max = max_message_size is not None
        self._endpoint = EndpointRequests(
            url,
            headers=dict(headers or {}),
            auth=auth,
            http_client=http_client,
            timeout=timeout,
            sse_read_timeout=sse_read_timeout,
        )
        # One inbox for every stream: the runtime reads a single ordered flow, whichever POST
        # answer or GET stream carried each message ("Multiple Connections": each message is
        # sent on one stream only, so nothing arrives twice).
        self._inbox = Inbox()
        self._follower = StreamFollower(
            self._endpoint,
            self._inbox,
            max_message_size=max_message_size or DEFAULT_MAX_MESSAGE_SIZE,
            max_reconnects=max_reconnects,
            reconnect_delay=reconnect_delay,
        )
        self._renewal = Renewal(self._endpoint, self._follower)
        #: Set while speaking a modern revision (2026-07-28): the headers each request
        #: carries beside its body, from its method and params (`Client` gives it).
        self._modern_headers: ModernHeaders | None = None
        # Every POST task, so aclose can cancel them all; a strong reference also keeps the
        # loop from collecting a task that is still running.
        self._tasks: set[asyncio.Task[None]] = set()
        # The task following each request's answer, by request id: a cancellation names the
        # request, and the task to stop is found here.
        self._requests: dict[RequestId, asyncio.Task[None]] = {}
        # Both the initialize and every later request end an HTTP failure as an error answer.
        self._failed = FailedRequests(self._inbox)
        self._start = InitializePost(self._endpoint, self._follower, self._inbox, self._failed)
        self._closed = False

    @property
    def url(self) -> str:
        """The MCP endpoint; the HTTP+SSE fallback opens its GET at the same URL."""
        return self._endpoint.url

    @property
    def headers(self) -> dict[str, str]:
        """The headers sent with every request."""
        return self._endpoint.headers

    @property
    def auth(self) -> httpx.Auth | None:
        """The `httpx.Auth` given; the HTTP+SSE fallback sends its requests with it too."""
        return self._endpoint.auth

    @property
    def http_client(self) -> httpx.AsyncClient:
        """The httpx client requests go by; RuntimeError before `open()`."""
        return self._endpoint.http_client

    @property
    def max_message_size(self) -> int:
        """The largest message read from the server, in bytes (see `open`)."""
        return self._follower.max_message_size

    @property
    def session_id(self) -> str | None:
        """The Mcp-Session-Id the server gave at initialize (None: it uses none)."""
        return self._endpoint.session_id

    @property
    def protocol_version(self) -> str | None:
        """The revision sent as MCP-Protocol-Version (None before initialize is answered)."""
        return self._endpoint.protocol_version

    def open(self, *, max_message_size: int | None = None) -> None:
        """Get ready to send: called by `Client` (with its limit, unless one was given here)."""
        if max_message_size is not None and not self._given_max:
            self._follower.max_message_size = max_message_size
        self._endpoint.open()

    def speak_modern(self, revision: str, headers: ModernHeaders) -> None:
        """Speak a modern revision (2026-07-28 basic/transports/streamable-http): every
        POST carries `MCP-Protocol-Version: revision` and what `headers` gives for its method
        and params; no session id, no GET stream, no DELETE, no resumption, and a request
        is cancelled by closing its stream, with no `notifications/cancelled` POST."""
        self._endpoint.protocol_version = revision
        self._modern_headers = headers

    def speak_sessions(self) -> None:
        """Back to the legacy era: the server did not speak the modern revision. The version
        header is dropped until initialize negotiates one, as a session-based server expects."""
        self._endpoint.protocol_version = None
        self._modern_headers = None

    @property
    def authorizing(self) -> Authorizing | None:
        """The token fetches of `auth` (an `OAuth`'s login, say), if it tells them: the
        connect's probe does not count their time against `init_timeout`."""
        auth = self._endpoint.auth
        return auth.authorizing if isinstance(auth, Authorizes) else None

    # ----------------------------------------------------------- MessageChannel

    def failed_here(self, request_id: RequestId) -> ConnectionFailed | None:
        """The exception for our request `request_id` if HTTP could not carry it (refused,
        reset, a name that does not resolve: `ChannelExtras.failed_here`), else None: its
        error answer came from the server."""
        return self._failed.take(request_id)

    async def receive(self) -> bytes:
        """The next message the server sent on any stream. Raises why the transport ended:
        ConnectionClosed, or LegacyFallback when the server refused our initialize in the
        way an HTTP+SSE server does (`transports.url_channel` then switches transports)."""
        return await self._inbox.get()

    async def send(self, data: bytes) -> None:
        """Send one message as its own POST, routed by what it is (`read_head`).

        Returns once the POST is started, not answered: the answer comes out of `receive`,
        and a failed POST becomes an error answer there, so a slow request never holds up
        the next message. `notifications/initialized` is the exception (see below).
        """
        inbox = self._inbox
        if self._closed or inbox.ended is not None:
            raise ConnectionClosed(str(inbox.ended or "the HTTP transport is closed"))
        # Idempotent; here too so a transport driven without `Client` still has its client.
        self._endpoint.open()
        head = read_head(data)
        if self._modern_headers is not None:
            self._send_modern(data, head)
            return
        if head.cancels is not None:
            # The caller gave up on that request: stop following its stream (a disconnect
            # alone is no cancellation, so the notification still goes out below).
            task = self._requests.pop(head.cancels, None)
            if task is not None:
                task.cancel()
        # Kept for Renewal: a 404 later means the server forgot the session, and the
        # spec's remedy is a new initialize (basic/transports, "Session Management" 4).
        if head.method == "initialize" and head.id is not None:
            self._renewal.initialize_body = data
            self._spawn(self._start.run(data, head.id))
        elif head.method == "notifications/initialized":
            # Awaited, so the server knows the session is initialized before our next request,
            # and the GET stream is open before a call whose messages may go there.
            self._renewal.initialized_body = data
            await self._post_quietly(data, head)
            if self.listen:
                await self._follower.start_listening()
        elif head.is_request:
            assert head.id is not None
            self._requests[head.id] = self._spawn(self._request(data, head))
        else:
            self._spawn(self._post_quietly(data, head))

    async def aclose(self) -> None:
        """Stop every stream, DELETE the session (405 is fine), close our own httpx client.

        The inbox ends first, so a receive waiting in the runtime wakes with "closed" rather
        than with whatever a cancelled stream would say; the tasks are cancelled and awaited
        before the DELETE, so no POST of ours can reach the server after its session ended.
        """
        if self._closed:
            return
        self._closed = True
        self._inbox.end(ConnectionClosed("the HTTP transport was closed"))
        tasks = [*self._tasks, *self._follower.listeners()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._endpoint.aclose()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run `work` as a task the transport holds until it ends, and return it."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # --------------------------------------------------------------- requests

    def _send_modern(self, data: bytes, head: Head) -> None:
        """`send` for a modern revision: no initialize to keep, no session to renew, and the
        request's headers (method, mirrored params) computed from its body."""
        headers = self._modern_headers
        assert headers is not None
        if head.cancels is not None:
            # Closing the request's stream is its cancellation; nothing is POSTed (2026-07-28
            # basic/transports/streamable-http, "Cancellation").
            task = self._requests.pop(head.cancels, None)
            if task is not None:
                task.cancel()
            return
        if head.method is None:
            return  # a response: no server request reaches us in this revision to answer
        # The params are decoded again here, apart from the head: only a modern request
        # needs them, for the Mcp-Name and Mcp-Param-* headers.
        extra = headers(head.method, read_params(data))
        if head.is_request:
            assert head.id is not None
            self._requests[head.id] = self._spawn(self._request(data, head, extra))
        else:
            self._spawn(self._post_quietly(data, head, extra))

    async def _request(
        self, data: bytes, head: Head, extra: Mapping[str, str] | None = None
    ) -> None:
        """POST one request and follow its answer, as JSON or an SSE stream, to the end,
        resuming the stream if it drops (session-based revisions only). Every failure ends
        as an error answer to the request (`FailedRequests.answer`), never as an exception out of
        the task, where nobody would see it and the caller would wait for its timeout.
        """
        rid = head.id
        assert rid is not None and head.method is not None
        stream = self._follower.answer_stream(rid)
        deliver = self._follower.deliver
        try:
            # Session-based: a 404 for our session renews it and posts once more. A modern
            # request has no session to renew, so it goes to the endpoint directly.
            if extra is None:
                response = await self._renewal.post(data, head.method)
            else:
                response = await self._endpoint.post(data, streaming=True, extra=extra)
            try:
                await self._follower.read_answer(response, stream, deliver, head.method)
            finally:
                await response.aclose()
            if not stream.answered:
                if extra is not None:
                    # No resumption in a modern revision: the request is lost, and its
                    # caller may send it again as a new one ("Receiving Messages").
                    raise RequestFailed(
                        f"{head.method}: the server went away or closed the stream before its "
                        "response (a 2026-07-28 request is not resumed: send it again)",
                        data={"transportError": "StreamEnded"},
                    )
                await self._follower.resume(stream, deliver, head.method)
        except RequestFailed as exc:
            await self._failed.answer(rid, exc)
        except Exception as exc:
            await self._failed.answer(rid, unexpected(head.method, self._endpoint.url, exc))
        finally:
            # Only our own entry, if still there: a cancellation has removed it already, and
            # a later request given the same id (ids are the session's) keeps its own.
            if self._requests.get(rid) is asyncio.current_task():
                del self._requests[rid]

    # ---------------------------------------------------- notifications, answers

    async def _post_quietly(
        self, data: bytes, head: Head, extra: Mapping[str, str] | None = None
    ) -> None:
        """POST a notification or a response: 202 expected; a refusal is logged, since no
        caller waits for it."""
        what = head.method or f"the response to request {head.id!r}"
        try:
            if extra is None:
                response = await self._renewal.post(data, what, streaming=False)
            else:
                response = await self._endpoint.post(data, streaming=False, extra=extra)
        except RequestFailed as exc:
            logger.warning("%s was not delivered: %s", what, exc)
            return
        try:
            await self._endpoint.check_refusal(response, what)
        except RequestFailed as exc:
            logger.warning("%s was refused: %s", what, exc)
        finally:
            await response.aclose()
