"""The client side of the legacy HTTP+SSE transport (protocol 2024-11-05, "HTTP with SSE"): a
GET opens the server's SSE stream, whose `endpoint` event names where each message is POSTed,
and whose `message` events carry every message from the server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Final

from mcpkit._extras import needs_extra

with needs_extra("http"):
    import httpx

from mcpkit.errors import AuthError, ConnectionClosed, RemoteProtocolError, TransportError
from mcpkit.runtime.authorizing import Authorizes, Authorizing, answered_within
from mcpkit.runtime.channel import MessageChannel
from mcpkit.transports.http_client._reading import identity_chunks
from mcpkit.transports.sse_parser import SSEEvent, SSEParser

__all__ = [
    "ENDPOINT_TIMEOUT",
    "LegacySseChannel",
    "StreamRefused",
    "open_legacy_sse",
    "open_legacy_sse_channel",
]

logger = logging.getLogger("mcpkit.client")

#: Seconds the server has to send its `endpoint` event once the GET is sent. Bounded because
#: a URL that answers 200 with an event stream is not necessarily a legacy endpoint, and one
#: that never names where to POST would otherwise hold the connect for ever.
ENDPOINT_TIMEOUT: Final = 30.0
# Messages read from the stream and not yet taken by the session; past it the stream is not
# read (TCP pushes back on the server), so a busy session never makes the client grow.
_QUEUED: Final = 64
# An event's `data: ` prefix and line ends, beyond the message it carries: the parser's
# limit is on the event, the caller's on the message, and a message exactly at the limit
# must still pass.
_FRAMING: Final = 64


class StreamRefused(TransportError):
    """The GET that opens the SSE stream was answered with `status`, not a stream: the
    Streamable HTTP fallback reads a 404 as a wrong path, not as an old server.

    A subclass, not a plain TransportError, so that `transports.url_channel` can tell "this URL
    answered with an HTTP status" (status kept) from "it answered, but not as a legacy
    server", and word its error after the attempt that failed first.
    """

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


async def open_legacy_sse_channel(
    url: str,
    *,
    http_client: httpx.AsyncClient,
    headers: Mapping[str, str],
    max_message_size: int,
    auth: httpx.Auth | None = None,
) -> MessageChannel:
    """Open the SSE stream at `url` and wait (at most ENDPOINT_TIMEOUT seconds, not counting
    the time `auth` spends getting a token) for its `endpoint` event; the channel POSTs each
    message there. `headers` go on every request (authorization, say), and so does `auth` (an
    `httpx.Auth`, such as OAuth); `max_message_size` bounds each message read from the stream.

    Raises `TransportError` when `url` is no legacy SSE endpoint (a status other than 200:
    `StreamRefused`, not an event stream, no endpoint event in time) or names a POST URL on
    another origin, which is refused: messages must not be sent where the user did not point
    the client.
    """
    channel = LegacySseChannel(
        url,
        http_client=http_client,
        headers=headers,
        max_message_size=max_message_size,
        auth=auth,
    )
    # The channel's reader task already runs: any failure here, cancellation included, must
    # end it, or the GET would stay open with nobody to read it.
    try:
        await channel.wait_for_endpoint(ENDPOINT_TIMEOUT)
    except BaseException:
        await channel.aclose()
        raise
    return channel


async def open_legacy_sse(
    url: str, headers: Mapping[str, str], max_message_size: int
) -> tuple[MessageChannel, Callable[[], Awaitable[None]]]:
    """`open_legacy_sse_channel` at `url` whatever its path, over an HTTP client of its own:
    the channel and what closes both, as `Client` takes them from a function (what a config
    entry of `"type": "sse"` and the inspector's pinned transport are opened with)."""
    http = httpx.AsyncClient()
    try:
        channel = await open_legacy_sse_channel(
            url, http_client=http, headers=headers, max_message_size=max_message_size
        )
    except BaseException:
        await http.aclose()
        raise

    # Closes the channel, then the HTTP client it ran over, even if the first fails: the
    # client was made here for this channel alone, so nothing else would close it.
    async def release() -> None:
        try:
            await channel.aclose()
        finally:
            await http.aclose()

    return channel, release


class LegacySseChannel:
    """A `MessageChannel` over one legacy SSE stream and its POST endpoint; `aclose` ends
    the GET. Build it with `open_legacy_sse_channel`. It carries the legacy era only
    (`ChannelExtras.legacy_only`): HTTP+SSE has no modern revision, so an automatic
    era goes straight to initialize."""

    legacy_only: Final = True

    # The GET starts as soon as the channel is built (the reader task); until the endpoint
    # event has come, `send` refuses, which is why callers go through
    # `open_legacy_sse_channel`, which waits for it.
    def __init__(
        self,
        url: str,
        *,
        http_client: httpx.AsyncClient,
        headers: Mapping[str, str],
        max_message_size: int,
        auth: httpx.Auth | None = None,
    ) -> None:
        self.url = httpx.URL(url)
        self._auth = auth
        #: Where messages are POSTed, once the `endpoint` event has named it (None before).
        self.endpoint: httpx.URL | None = None
        self._client = http_client
        # Copied: the caller may change its mapping later, and each request adds to a copy.
        self._headers = httpx.Headers(dict(headers))
        self._parser = SSEParser(max_event_size=max_message_size + _FRAMING)
        # Bounded: see _QUEUED. None marks the end, after the last message.
        self._messages: asyncio.Queue[bytes | None] = asyncio.Queue(_QUEUED)
        loop = asyncio.get_running_loop()
        # The endpoint event's URL, or the error that ended the stream before it came.
        self._found: asyncio.Future[httpx.URL] = loop.create_future()
        # Why the channel ended, once it has: every later receive and send says so.
        self._closed: str | None = None
        self._reader = loop.create_task(self._read())

    async def _send(self, request: httpx.Request, *, stream: bool) -> httpx.Response:
        """Send with our auth, if any, and without following redirects: a redirect could
        move a message (and its credentials) to a place the user did not point us at."""
        # auth=None would switch off an auth the caller's client has: pass ours only.
        if self._auth is None:
            return await self._client.send(request, stream=stream, follow_redirects=False)
        return await self._client.send(
            request, auth=self._auth, stream=stream, follow_redirects=False
        )

    @property
    def writable(self) -> bool:
        """True until the stream or a POST has failed, or `aclose`."""
        return self._closed is None

    @property
    def authorizing(self) -> Authorizing | None:
        """`ChannelExtras.authorizing`: the token fetches of `auth` (an `OAuth`'s login, say),
        if it tells them, so that neither the wait for the endpoint event nor the connect's
        `initialize` counts their time."""
        auth = self._auth
        return auth.authorizing if isinstance(auth, Authorizes) else None

    async def wait_for_endpoint(self, timeout: float) -> httpx.URL:
        """The POST URL the `endpoint` event named; TransportError if none comes within
        `timeout` seconds. The GET that opens the stream carries the auth: the clock stops
        while it gets a token (a person logging in) and starts again once that ends."""
        try:
            # Shielded: a timeout here must not cancel the future, which the reader still
            # settles (and which a second wait may read).
            return await answered_within(asyncio.shield(self._found), timeout, self.authorizing)
        except TimeoutError:
            raise TransportError(
                f"{self.url} sent no endpoint event within {timeout} s: is it a legacy "
                "HTTP+SSE endpoint (2024-11-05)? A Streamable HTTP server is reached at its "
                "MCP endpoint instead"
            ) from None

    # ------------------------------------------------------------- reading

    async def _read(self) -> None:
        """The reader task: read the stream to its end, then close the channel with the
        reason in words. Every way out is caught, so that a receive or the wait for the
        endpoint always ends with that reason instead of waiting on a dead task."""
        refused: StreamRefused | None = None
        try:
            await self._read_stream()
            self._parser.feed_eof()
            reason = "the server ended the SSE stream"
        except StreamRefused as exc:
            reason, refused = str(exc), exc
        except (TransportError, RemoteProtocolError) as exc:
            reason = str(exc)
        except AuthError as exc:
            reason = f"authorization for {self.url} failed: {exc}"
        except httpx.ConnectError as exc:  # refused, no such host: nothing was ever read
            why = str(exc) or type(exc).__name__
            reason = f"cannot reach {self.url}: {why} (is the server running at that URL?)"
        except httpx.HTTPError as exc:
            reason = f"the SSE stream from {self.url} failed: {exc!r}"
        # The typed failures above become one-line reasons; this last one is a bug, logged
        # with its traceback, since its repr alone would not say where it came from.
        except Exception as exc:  # a bug here must still end the channel, not hang it
            logger.exception("reading the legacy SSE stream failed")
            reason = f"reading the SSE stream from {self.url} failed: {exc!r}"
        self._close(reason, refused)

    async def _read_stream(self) -> None:
        """GET the stream and feed its events to `_on_event` until the server ends it."""
        headers = self._headers.copy()
        headers["accept"] = "text/event-stream"
        # Uncompressed: a compressed stream could inflate far past the message size limit
        # before the parser sees a byte, and identity_chunks refuses anything else.
        headers["accept-encoding"] = "identity"
        headers["cache-control"] = "no-store"
        timeout = self._client.timeout
        # A stream may be quiet for long: no read timeout (the server's keep-alives and
        # TCP tell us when it is gone); the rest as the caller's client has them.
        no_read = httpx.Timeout(
            connect=timeout.connect, read=None, write=timeout.write, pool=timeout.pool
        )
        request = self._client.build_request("GET", self.url, headers=headers, timeout=no_read)
        response = await self._send(request, stream=True)
        try:
            _check_stream(self.url, response)
            async for chunk in identity_chunks(response):
                for event in self._parser.feed(chunk):
                    await self._on_event(event)
        finally:
            await response.aclose()

    async def _on_event(self, event: SSEEvent) -> None:
        """Act on one event: the first `endpoint` names the POST URL (a later one is ignored,
        so a server cannot move an open session elsewhere); each `message` is queued,
        waiting while the queue is full, which stops reading the stream."""
        if event.event == "endpoint":
            if not self._found.done():
                self.endpoint = _endpoint(self.url, event.data)
                self._found.set_result(self.endpoint)
        elif event.event == "message" and event.data:
            # Passed on as the server sent it: parsing, and refusing what is not JSON-RPC,
            # is the protocol session's job, as for every other channel.
            await self._messages.put(event.data.encode())
        # Other events (and empty messages, some servers' keep-alives) mean nothing here.

    def _close(self, reason: str, refused: StreamRefused | None = None) -> None:
        """End the channel once, keeping the first reason: the root cause, not its echoes."""
        if self._closed is not None:
            return
        self._closed = reason
        # The stream ended before the endpoint event: the opener's wait raises this reason
        # (StreamRefused, with its status, when the GET itself was refused).
        if not self._found.done():
            self._found.set_exception(refused or TransportError(reason))
            self._found.exception()  # retrieved: open_legacy_sse_channel may be gone
        with contextlib.suppress(asyncio.QueueFull):  # full: the reader is woken anyway
            self._messages.put_nowait(None)

    # ------------------------------------------------------ MessageChannel

    async def receive(self) -> bytes:
        """The next message from the stream. Messages read before the end are still handed
        out; then ConnectionClosed with the reason the channel ended."""
        if self._closed is not None and self._messages.empty():
            raise ConnectionClosed(self._closed)
        data = await self._messages.get()
        if data is None:
            raise ConnectionClosed(self._closed or "the channel was closed")
        return data

    async def send(self, data: bytes) -> None:
        """POST one message to the endpoint; its answer comes on the stream, not here."""
        endpoint = self.endpoint
        if self._closed is not None or endpoint is None:
            raise ConnectionClosed(self._closed or "the server has not named its endpoint yet")
        headers = self._headers.copy()
        headers["content-type"] = "application/json"
        try:
            request = self._client.build_request("POST", endpoint, content=data, headers=headers)
            response = await self._send(request, stream=False)
        except httpx.HTTPError as exc:
            reason = f"POST to {endpoint} failed: {exc!r}"
        except AuthError as exc:
            reason = f"authorization for {endpoint} failed: {exc}"
        else:
            if response.is_success:  # 202 Accepted, as a rule
                return
            reason = _refused(response)
        # The legacy transport cannot tie a refusal to a request: end the session with the
        # reason rather than leave the request waiting for an answer that cannot come.
        self._close(reason)
        raise ConnectionClosed(reason)

    async def aclose(self) -> None:
        """End the channel and its GET: cancelling the reader closes the response."""
        self._close("the channel was closed")
        if not self._reader.done():
            self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader


def _check_stream(url: httpx.URL, response: httpx.Response) -> None:
    """Refuse a response that is not an SSE stream, before reading any of its body.

    Redirects are not followed (a stream's URL is where the user pointed the client, and
    a redirect could move it to another origin); the message names the target instead.
    """
    if response.status_code != 200:
        where = response.headers.get("location")
        hint = f": use {where}" if where and response.is_redirect else ""
        raise StreamRefused(
            f"GET {url} answered {response.status_code} {response.reason_phrase}, not an SSE "
            f"stream{hint}",
            response.status_code,
        )
    # A 200 that is not an event stream is most often a web page or a Streamable HTTP
    # endpoint answering a GET some other way: say what was expected, not a parse error.
    kind = response.headers.get("content-type", "").partition(";")[0].strip().lower()
    if kind != "text/event-stream":
        raise TransportError(
            f"GET {url} answered with {kind or 'no content type'}, not text/event-stream: is "
            "it a legacy HTTP+SSE endpoint (2024-11-05)?"
        )


def _endpoint(url: httpx.URL, data: str) -> httpx.URL:
    """The POST URL an endpoint event names, resolved against the stream's URL; refused when
    it is on another origin (scheme, host, port), where messages would leak."""
    try:
        endpoint = url.join(data.strip())
    except httpx.InvalidURL as exc:
        raise TransportError(f"the endpoint event's URL {data[:200]!r} is malformed") from exc
    # Origin as in RFC 6454: scheme, host and port. A relative path (what servers send) always
    # passes; an absolute URL to another host would take our headers, tokens included.
    if (endpoint.scheme, endpoint.host, endpoint.port) != (url.scheme, url.host, url.port):
        raise TransportError(
            f"the server at {url} named an endpoint on another origin ({data[:200]!r}): "
            "refused, since messages must go only where the client was pointed"
        )
    return endpoint


def _refused(response: httpx.Response) -> str:
    """Why a POST was refused, in words. A 404 means the server forgot the session (it
    restarted, or the session idled out), which only a new stream can fix."""
    text = response.text[:200] if response.content else ""
    if response.status_code == 404:
        return f"the server ended the session (404 from {response.url}): reconnect"
    return f"the server refused a message with {response.status_code}: {text}"
