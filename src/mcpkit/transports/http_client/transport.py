"""`StreamableHttpTransport`: the client end of Streamable HTTP as a `MessageChannel` (spec:
basic/transports, "Streamable HTTP"). Each message our session sends is one POST, run in a
task of its own so a long answer never holds the next one; what the server sends on any
stream (POST answers, the GET stream) comes out of `receive()`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Mapping
from typing import Any

from mcpkit._extras import needs_extra

with needs_extra("http"):
    import httpx

from mcpkit.errors import ConnectionClosed, ConnectionFailed, InvalidUrl, RemoteProtocolError
from mcpkit.protocol.limits import DEFAULT_MAX_MESSAGE_SIZE
from mcpkit.runtime.authorizing import Authorizes, Authorizing
from mcpkit.transports.endpoint_url import check_endpoint_url
from mcpkit.transports.http_client._endpoint_requests import RequestFailed, StatelessHeaders
from mcpkit.transports.http_client._follow import StreamFollower
from mcpkit.transports.http_client._reading import AnswerStream, Inbox, read_bounded
from mcpkit.transports.http_client._wire import (
    REFUSAL_LIMIT,
    Head,
    describe_page,
    error_reply,
    falls_back_to_legacy,
    negotiated_version,
    read_head,
    read_params,
    read_refusal,
)
from mcpkit.types import RequestId

__all__ = ["LegacyFallback", "StreamableHttpTransport"]

logger = logging.getLogger("mcpkit.client.http")

_MAX_FAILURES = 256  # failed requests kept for the runtime to take (`failed_here`)
#: Seconds an idle connection of our own client is kept for reuse: under the 5 s after which
#: node's http server and uvicorn close an idle one. At httpx's default (also 5 s), a request
#: sent as the server closes the connection (an OAuth login that took 5 s before the retried
#: request, say) meets the close and fails with no answer, though the server never saw it.
KEEPALIVE_EXPIRY = 4.0
#: How an mcpkit server's 404 names its MCP endpoint (`transports.http.app`).
_ENDPOINT_NAMED = "MCP endpoint is "


class LegacyFallback(ConnectionClosed):
    """The server refused our initialize POST with 400, 404 or 405: it may speak the old
    HTTP+SSE transport (basic/transports, "Backwards Compatibility"). `Client` acts on it by
    switching to that transport and sending `initialize_body` there."""

    def __init__(
        self, url: str, status: int, message: str, initialize_body: bytes, *, page: bool = False
    ) -> None:
        super().__init__(
            f"{url} refused the Streamable HTTP initialize with HTTP {status} ({message}); "
            "it may be an HTTP+SSE (2024-11-05) server"
        )
        self.url = url
        self.status = status
        self.server_message = message
        self.initialize_body = initialize_body
        #: The refusal was a web page (`server_message` says what it is): if HTTP+SSE fails
        #: too, that page is all there is to tell.
        self.page = page

    def not_mcp(self) -> str:
        """One line for a URL that speaks neither transport and answered with a web page."""
        reason = httpx.codes.get_reason_phrase(self.status)
        return f"{self.url} answered HTTP {self.status} {reason}: {self.server_message}"

    def wrong_path(self) -> str:
        """One line for a URL whose server answered 404 to both transports, with no web page:
        its path is most likely not the MCP endpoint (mcpkit's own serve `/mcp`)."""
        head = f"{self.url} answered 404 to both Streamable HTTP and HTTP+SSE"
        # An mcpkit server's 404 names its endpoint ("this server's MCP endpoint is /api"):
        # that one is suggested; else the path mcpkit serves by default.
        named = self.server_message.partition(_ENDPOINT_NAMED)[2].split(" ", 1)[0]
        where = httpx.URL(self.url)
        if named.startswith("/"):
            if where.path.rstrip("/") == named.rstrip("/"):
                return f"{head} ({self.server_message})"
            return (
                f"{head}: this server's MCP endpoint is {named}: try {where.copy_with(path=named)}"
            )
        line = f"{head} ({self.server_message}): is the path right?"
        if where.path.rstrip("/") == "/mcp":
            return line
        return f"{line} mcpkit servers serve /mcp: try {where.copy_with(path='/mcp')}"


class StreamableHttpTransport(StreamFollower):
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
        super().__init__(
            url,
            headers=dict(headers or {}),
            auth=auth,
            timeout=timeout,
            sse_read_timeout=sse_read_timeout,
            max_message_size=max_message_size or DEFAULT_MAX_MESSAGE_SIZE,
            max_reconnects=max_reconnects,
            reconnect_delay=reconnect_delay,
            listen=listen,
        )
        self._given_max = max_message_size is not None
        self._given_client = http_client
        self.inbox = Inbox()
        self._tasks: set[asyncio.Task[None]] = set()
        self._requests: dict[RequestId, asyncio.Task[None]] = {}
        # Requests HTTP could not carry, answered here: what their callers get instead.
        self._failures: dict[RequestId, ConnectionFailed] = {}
        self._closed = False

    def open(self, *, max_message_size: int | None = None) -> None:
        """Get ready to send: called by `Client` (with its limit, unless one was given here)."""
        if max_message_size is not None and not self._given_max:
            self.max_message_size = max_message_size
        if self._client is None:
            self._client = self._given_client or httpx.AsyncClient(
                limits=httpx.Limits(
                    max_connections=100,
                    max_keepalive_connections=20,
                    keepalive_expiry=KEEPALIVE_EXPIRY,
                )
            )
            self._owns_client = self._given_client is None

    def speak_stateless(self, revision: str, headers: StatelessHeaders) -> None:
        """Speak a stateless revision (2026-07-28 basic/transports/streamable-http): every
        POST carries `MCP-Protocol-Version: revision` and what `headers` gives for its method
        and params; no session id, no GET stream, no DELETE, no resumption, and a request
        is cancelled by closing its stream, with no `notifications/cancelled` POST."""
        self.protocol_version = revision
        self.stateless_headers = headers

    def speak_sessions(self) -> None:
        """Back to the session era: the server did not speak the stateless revision."""
        self.protocol_version = None
        self.stateless_headers = None

    @property
    def authorizing(self) -> Authorizing | None:
        """The token fetches of `auth` (an `OAuth`'s login, say), if it tells them: the
        connect's probe does not count their time against `init_timeout`."""
        auth = self.auth
        return auth.authorizing if isinstance(auth, Authorizes) else None

    # ----------------------------------------------------------- MessageChannel

    def failed_here(self, request_id: RequestId) -> ConnectionFailed | None:
        """The exception for our request `request_id` if HTTP could not carry it (refused,
        reset, a name that does not resolve: `ChannelExtras.failed_here`), else None: its
        error answer came from the server."""
        return self._failures.pop(request_id, None) if self._failures else None

    async def receive(self) -> bytes:
        return await self.inbox.get()

    async def send(self, data: bytes) -> None:
        if self._closed or self.inbox.ended is not None:
            raise ConnectionClosed(str(self.inbox.ended or "the HTTP transport is closed"))
        self.open()
        head = read_head(data)
        if self.stateless_headers is not None:
            self._send_stateless(data, head)
            return
        if head.cancels is not None:
            # The caller gave up on that request: stop following its stream (a disconnect
            # alone is no cancellation, so the notification still goes out below).
            task = self._requests.pop(head.cancels, None)
            if task is not None:
                task.cancel()
        if head.method == "initialize" and head.id is not None:
            self.initialize_body = data
            self._spawn(self._initialize(data, head.id))
        elif head.method == "notifications/initialized":
            # Awaited, so the server knows the session is initialized before our next request,
            # and the GET stream is open before a call whose messages may go there.
            self.initialized_body = data
            await self._post_quietly(data, head)
            if self.listen:
                await self.start_listening()
        elif head.is_request:
            assert head.id is not None
            self._requests[head.id] = self._spawn(self._request(data, head))
        else:
            self._spawn(self._post_quietly(data, head))

    async def aclose(self) -> None:
        """Stop every stream, DELETE the session (405 is fine), close our own httpx client."""
        if self._closed:
            return
        self._closed = True
        self.inbox.end(ConnectionClosed("the HTTP transport was closed"))
        tasks = [*self._tasks, *self.listeners()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.end_session()
        client, self._client = self._client, None
        if client is not None and self._owns_client:
            await client.aclose()

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # ------------------------------------------------------------- initialize

    async def _initialize(self, data: bytes, rid: RequestId) -> None:
        try:
            response = await self.post(data, streaming=True, with_session=False)
        except RequestFailed as exc:
            self.inbox.end(ConnectionClosed(str(exc)))
            return
        except Exception as exc:  # see _request: the connect must not wait for its timeout
            self.inbox.end(ConnectionClosed(str(_unexpected("initialize", self.url, exc))))
            return
        stream = AnswerStream(rid, self.max_message_size)
        deliver = self._deliver_initialize
        try:
            try:
                if response.status_code >= 400:
                    await self._refused_initialize(response, data, rid)
                    return
                if not self.take_session_id(response):
                    self.inbox.end(ConnectionClosed(self.bad_session_id(response)))
                    return
                await self.read_answer(response, stream, deliver, "initialize")
            finally:
                await response.aclose()
            if not stream.answered:
                await self.resume(stream, deliver, "initialize")
        except RequestFailed as exc:
            await self._answer_failed(rid, exc)
        except Exception as exc:
            await self._answer_failed(rid, _unexpected("initialize", self.url, exc))

    async def _answer_failed(self, rid: RequestId, exc: RequestFailed) -> None:
        """Answer our own request that HTTP failed, so the session forgets it and its caller
        stops waiting; a failure of the connection itself is a `ConnectionFailed` for the
        caller (the runtime asks `failed_here`), the server's refusal a PeerError."""
        if exc.data is not None and "transportError" in exc.data:
            if len(self._failures) >= _MAX_FAILURES:  # answers nobody took (timed out)
                del self._failures[next(iter(self._failures))]
            self._failures[rid] = ConnectionFailed(str(exc))
        await self.inbox.put(error_reply(rid, str(exc), code=exc.code, data=exc.data))

    async def _deliver_initialize(self, data: bytes, final: bool) -> None:
        if final:  # learnt before the answer reaches the session, which then says initialized
            self.protocol_version = negotiated_version(data)
        await self.inbox.put(data)

    async def _refused_initialize(self, response: httpx.Response, data: bytes, rid: Any) -> None:
        status = response.status_code
        try:
            body = await read_bounded(response, REFUSAL_LIMIT) or b""
        except RemoteProtocolError:  # compressed: not read, its status says enough
            body = b""
        kind = response.headers.get("content-type", "")
        page = describe_page(body, kind, status)
        message, code = (page, None) if page else read_refusal(body, status=status)
        if falls_back_to_legacy(status):
            self.inbox.end(LegacyFallback(self.url, status, message, data, page=page is not None))
            return
        failed = RequestFailed.status("initialize", self.url, status, message, code)
        await self.inbox.put(error_reply(rid, str(failed), code=failed.code, data=failed.data))

    # --------------------------------------------------------------- requests

    def _send_stateless(self, data: bytes, head: Head) -> None:
        headers = self.stateless_headers
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
        extra = headers(head.method, read_params(data))
        if head.is_request:
            assert head.id is not None
            self._requests[head.id] = self._spawn(self._request(data, head, extra))
        else:
            self._spawn(self._post_quietly(data, head, extra))

    async def _request(
        self, data: bytes, head: Head, extra: Mapping[str, str] | None = None
    ) -> None:
        rid = head.id
        assert rid is not None and head.method is not None
        stream = AnswerStream(rid, self.max_message_size)
        deliver = self._deliver
        try:
            if extra is None:
                response = await self.post_renewing(data, head.method)
            else:
                response = await self.post(data, streaming=True, extra=extra)
            try:
                await self.read_answer(response, stream, deliver, head.method)
            finally:
                await response.aclose()
            if not stream.answered:
                if extra is not None:
                    # No resumption in a stateless revision: the request is lost, and its
                    # caller may send it again as a new one ("Receiving Messages").
                    raise RequestFailed(
                        f"{head.method}: the server went away or closed the stream before its "
                        "response (a 2026-07-28 request is not resumed: send it again)",
                        data={"transportError": "StreamEnded"},
                    )
                await self.resume(stream, deliver, head.method)
        except RequestFailed as exc:
            await self._answer_failed(rid, exc)
        except Exception as exc:
            await self._answer_failed(rid, _unexpected(head.method, self.url, exc))
        finally:
            if self._requests.get(rid) is asyncio.current_task():
                del self._requests[rid]

    async def _deliver(self, data: bytes, final: bool) -> None:
        await self.inbox.put(data)

    # ---------------------------------------------------- notifications, answers

    async def _post_quietly(
        self, data: bytes, head: Head, extra: Mapping[str, str] | None = None
    ) -> None:
        """POST a notification or a response: 202 expected; a refusal is logged, since no
        caller waits for it."""
        what = head.method or f"the response to request {head.id!r}"
        try:
            if extra is None:
                response = await self.post_renewing(data, what, streaming=False)
            else:
                response = await self.post(data, streaming=False, extra=extra)
        except RequestFailed as exc:
            logger.warning("%s was not delivered: %s", what, exc)
            return
        try:
            await self.check_refusal(response, what)
        except RequestFailed as exc:
            logger.warning("%s was refused: %s", what, exc)
        finally:
            await response.aclose()


def _unexpected(method: str, url: str, exc: Exception) -> RequestFailed:
    """A request's task met an exception nothing below it maps (an httpx error of a kind it
    should not raise here, a custom httpx transport's, a bug of ours): it fails the request,
    as a transport failure, rather than escape the task and leave its caller waiting for the
    timeout. Logged with its traceback, since nobody expects it."""
    logger.error("%s to %s failed", method, url, exc_info=exc)
    return RequestFailed(
        f"{method}: sending it to {url} failed: {type(exc).__name__}: {exc}",
        data={"transportError": type(exc).__name__},
    )
