"""Following the server's streams: reading a POST's answer (JSON or SSE), resuming an SSE
answer cut before its response with GET and Last-Event-ID after the server's `retry`, and
keeping the GET stream open (spec: basic/transports, "Resumability and Redelivery" and
"Listening for Messages from the Server"; SEP-1699).

Every wait is bounded: a resumption gives up after `max_reconnects` failures in a row, the
backoff between them doubles up to `_MAX_BACKOFF`, a server's `retry` longer than
`sse_read_timeout` is refused rather than waited out, and an answer is read up to
`max_message_size`. A failure of a request's answer is a RequestFailed naming the method;
the GET stream carries no request, so its failures are logged and it stops.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Final

from mcpkit._extras import needs_extra

with needs_extra("http"):
    import httpx

from mcpkit.errors import RemoteProtocolError
from mcpkit.transports.http_client._endpoint_requests import (
    EndpointRequests,
    RequestFailed,
    read_some,
)
from mcpkit.transports.http_client._reading import (
    AnswerStream,
    Deliver,
    Inbox,
    pump_sse,
    read_bounded,
)
from mcpkit.transports.http_client._wire import (
    ACCEPT_SSE,
    REFUSAL_LIMIT,
    describe_page,
    is_answer,
)
from mcpkit.types import RequestId

__all__ = ["StreamFollower"]

logger = logging.getLogger("mcpkit.client.http")

# Seconds between failed attempts, at most: the doubling stops there, so a server back
# after an outage is found again within this long.
_MAX_BACKOFF: Final = 30.0


class StreamFollower:
    """The reading half of the transport: it reads the answers of the requests `endpoint`
    sends, resumes them, and keeps the GET stream, whose messages go to `inbox`."""

    def __init__(
        self,
        endpoint: EndpointRequests,
        inbox: Inbox,
        *,
        max_message_size: int,
        max_reconnects: int,
        reconnect_delay: float,
    ) -> None:
        """`endpoint` sends the GETs that resume and listen; `inbox` takes what the GET
        stream brings. `max_message_size` bounds each message read, `max_reconnects` the
        failed attempts in a row, and `reconnect_delay` is the first wait between them."""
        self._endpoint = endpoint
        self._inbox = inbox
        self.max_message_size = max_message_size
        self.max_reconnects = max_reconnects
        self.reconnect_delay = reconnect_delay
        # The task holding the GET stream open, while there is one (one per session).
        self._listener: asyncio.Task[None] | None = None

    def answer_stream(self, request_id: RequestId | None) -> AnswerStream:
        """A new stream for the answer to `request_id` (None: the GET stream). It keeps the
        parser, the last event id and the server's `retry` across reconnections."""
        return AnswerStream(request_id, self.max_message_size)

    # ----------------------------------------------------------------- answers

    async def read_answer(
        self, response: httpx.Response, stream: AnswerStream, deliver: Deliver, method: str
    ) -> None:
        """Read a POST's answer: one JSON object or an SSE stream (basic/transports, "Sending
        Messages to the Server" 5); raises RequestFailed when it cannot be the answer.

        An SSE answer is pumped until its connection ends; whether the response came is
        left in `stream.answered`, for the caller to resume (`resume`) if it did not.
        Anything else (a 202, another media type, a proxy's HTML page) is refused here,
        named in one line.
        """
        # An HTTP error (401, 403, 5xx) is reported as what it is before the body is read.
        await self._endpoint.check_refusal(response, method)
        kind = content_type(response)
        # 202 is the answer to a notification or a response; to a request it would leave
        # the caller waiting for an answer that never comes.
        if response.status_code == 202:
            raise RequestFailed(
                f"{method}: the server answered 202 Accepted with no body, but a request must "
                "get a JSON or SSE answer (basic/transports)"
            )
        if kind == "application/json":
            try:
                body = await read_bounded(response, self.max_message_size)
            except RemoteProtocolError as exc:  # compressed though identity was asked for
                raise RequestFailed(f"{method}: {exc}") from None
            except httpx.TransportError as exc:  # reset, or silent past the read timeout
                raise RequestFailed(
                    f"{method}: the connection to {self._endpoint.url} broke before the answer "
                    f"was read: {str(exc) or type(exc).__name__}",
                    data={"transportError": type(exc).__name__},
                ) from None
            # Reading stopped at the bound: a server cannot make the client hold more.
            if body is None:
                raise RequestFailed(
                    f"{method}: the server's answer is larger than max_message_size "
                    f"({self.max_message_size} bytes)"
                )
            rid = stream.request_id
            # Delivered even when it is not the response (a notification, say): the session
            # reads it, and this request then fails as unanswered.
            stream.answered = rid is not None and is_answer(body, rid)
            await deliver(body, stream.answered)
            if not stream.answered:
                raise RequestFailed(f"{method}: the server's JSON answer is not its response")
        elif kind == "text/event-stream":
            await self.pump(response, stream, deliver, method)
        else:
            # Only a little of it is read: a proxy's page may be large, and the first lines
            # say what it is.
            page = describe_page(
                await read_some(response, REFUSAL_LIMIT), kind, response.status_code
            )
            if page is not None:  # a login page, a proxy's own page: what it is, in one line
                status = f"{response.status_code} {response.reason_phrase}"
                url = self._endpoint.url
                raise RequestFailed(f"{method}: {url} answered HTTP {status}: {page}")
            raise RequestFailed(
                f"{method}: the server answered with Content-Type {kind or '(none)'!r}; "
                "Streamable HTTP answers are application/json or text/event-stream"
            )

    async def pump(
        self, response: httpx.Response, stream: AnswerStream, deliver: Deliver, method: str
    ) -> tuple[int, bool]:
        """Pump one connection of `stream`: (messages delivered, whether it set `retry`).

        Raises RequestFailed for a stream that breaks SSE's framing or the size bound; a
        connection that simply ends returns, and the caller decides whether to resume.
        """
        # A malformed stream (an event past max_message_size, bad framing) fails this
        # request; the parser is reset so a resumption starts clean.
        try:
            delivered = await pump_sse(response, stream, deliver)
        except RemoteProtocolError as exc:
            try:
                stream.parser.feed_eof()  # ready for another connection, should one come
            except RemoteProtocolError:
                pass
            raise RequestFailed(f"{method}: {exc}") from None
        return delivered, stream.take_retry()

    def reconnect_wait(self, stream: AnswerStream, failures: int, polls: int) -> float:
        """Seconds before the next attempt: the server's `retry` (SEP-1699: MUST be respected),
        else `reconnect_delay`; doubled per failure; and never a busy loop of empty polls."""
        wait = stream.retry_ms / 1000 if stream.retry_ms is not None else self.reconnect_delay
        # The backoff only lengthens the server's `retry`, never shortens it.
        if failures:
            wait = max(wait, min(self.reconnect_delay * 2**failures, _MAX_BACKOFF))
        # A server that keeps polling with `retry: 0` and nothing new would make a tight
        # loop of GETs: past `max_reconnects` polls, each waits at least the delay.
        if polls > self.max_reconnects:
            wait = max(wait, self.reconnect_delay)
        return wait

    def _bounded_wait(self, stream: AnswerStream, failures: int, polls: int, method: str) -> float:
        """`reconnect_wait`, or RequestFailed where it passes `sse_read_timeout`."""
        wait = self.reconnect_wait(stream, failures, polls)
        if wait > self._endpoint.sse_read_timeout:
            # Respecting it would be a hang: we would not wait that long on an open stream.
            raise RequestFailed(
                f"{method}: the server asked for {wait:g} s before resuming its SSE answer "
                f"(retry), longer than sse_read_timeout ({self._endpoint.sse_read_timeout:g} s)"
            )
        return wait

    async def resume(self, stream: AnswerStream, deliver: Deliver, method: str) -> None:
        """Reconnect to a cut answer until its response comes; raises RequestFailed after
        `max_reconnects` failures in a row, or at once when it cannot be resumed at all. A
        connection that brings messages, or a `retry` (the server polling), is no failure."""
        # Failures and polls are counted apart: a polling server is healthy, and must not
        # use up the attempts meant for a broken one.
        failures = polls = 0
        problem = "the stream ended before the response"
        last_data: dict[str, Any] | None = None  # what the last failure knew (transportError)
        while not stream.answered:
            # Without an event id a GET would open a new stream, not resume this one: the
            # answer would never come on it.
            if not stream.last_event_id:
                raise RequestFailed(
                    f"{method}: the server closed its SSE answer before the response and sent "
                    "no event id to resume from (basic/transports, Resumability and Redelivery)"
                )
            if failures >= self.max_reconnects:
                raise RequestFailed(
                    f"{method}: its SSE answer was cut and {failures} attempts to resume it "
                    f"failed (the last: {problem}); max_reconnects is {self.max_reconnects}",
                    data=last_data,
                )
            # Waited before each attempt, the first too: SEP-1699 asks for the `retry` delay
            # before reconnecting.
            await asyncio.sleep(self._bounded_wait(stream, failures, polls, method))
            delivered, polled, trouble = await self._reconnect(stream, deliver, method)
            failed = failures
            failures, polls = _counted(failures, polls, delivered, polled, trouble)
            if failures > failed:
                problem = str(trouble or "the resumed stream ended with nothing new")
                last_data = trouble.data if trouble is not None and trouble.data else None
                if last_data is not None and last_data.get("transportError") == "ConnectError":
                    # Nobody listens there any more (a server that shut down ends its calls'
                    # streams so): say so now, not after every attempt's backoff.
                    raise RequestFailed(
                        f"{method}: the server went away before answering ({problem})",
                        data=last_data,
                    )

    async def _reconnect(
        self, stream: AnswerStream, deliver: Deliver, method: str
    ) -> tuple[int, bool, RequestFailed | None]:
        """One attempt to resume `stream`: (messages delivered, whether the server set
        `retry`, what went wrong). A failure worth another attempt is returned; one that
        no attempt can mend (404, 405) is raised."""
        headers = self._endpoint.request_headers(accept=ACCEPT_SSE)
        headers["last-event-id"] = stream.last_event_id
        try:
            response = await self._endpoint.send_request("GET", headers, None, True)
        except RequestFailed as exc:
            return 0, False, exc
        try:
            status = response.status_code
            # No later attempt can succeed: the session is gone, or resuming is not offered.
            if status in (404, 405):
                why = "no longer knows the session" if status == 404 else "offers no GET"
                raise RequestFailed(
                    f"{method}: its SSE answer was cut, and the server {why} to resume it "
                    f"(HTTP {status})",
                    data={"httpStatus": status},
                )
            try:
                await self._endpoint.check_refusal(response, "GET with Last-Event-ID")
            except RequestFailed as exc:
                return 0, False, exc
            if not _is_sse(response):
                why = "the answer to GET with Last-Event-ID was not an SSE stream"
                return 0, False, RequestFailed(why)
            delivered, polled = await self.pump(response, stream, deliver, method)
            return delivered, polled, None
        finally:
            # Closed on every path: an open response holds its pooled connection.
            await response.aclose()

    async def listen_again(self) -> None:
        """Reopen the GET stream, if it was open, for a new session."""
        old = self._listener
        # Called from the listener itself, it must not cancel the task it runs in.
        if old is not None and old is not asyncio.current_task():
            old.cancel()
            self._listener = None
            await self.start_listening()

    # --------------------------------------------------------------- GET stream

    def listeners(self) -> list[asyncio.Task[None]]:
        """The GET stream's task, if any, for the transport to cancel and await on close."""
        return [] if self._listener is None else [self._listener]

    async def start_listening(self) -> None:
        """Open the GET stream (basic/transports, "Listening for Messages from the Server")
        and wait until the server answered it, so what it sends there
        in reply to our next request is not missed: a server drops what it has no stream
        for, and one that is busy may answer the GET late. The wait is bounded by `timeout`,
        as every read other than an answer is; past it the stream goes on opening."""
        # One GET stream per session (basic/transports allows more; one is all a client needs).
        if self._listener is not None and not self._listener.done():
            return
        ready = asyncio.Event()
        self._listener = asyncio.get_running_loop().create_task(self._listen(ready))
        try:
            async with asyncio.timeout(self._endpoint.timeout):
                await ready.wait()
        except TimeoutError:
            logger.warning(
                "%s did not answer the GET stream within %g s (timeout); going on: what the "
                "server sends outside a request before it does is lost (behind a proxy that "
                "holds a response until it ends, pass listen=False)",
                self._endpoint.url,
                self._endpoint.timeout,
            )

    async def _listen(self, ready: asyncio.Event) -> None:
        """Keep the GET stream open, resuming it from its last event id, until the server
        says there is none or `max_reconnects` attempts in a row fail; `ready` is set at the
        first answer (or at the end), whichever comes first."""
        stream = self.answer_stream(None)
        failures = polls = 0
        try:
            while True:
                delivered, polled, problem = await self._listen_once(stream, ready)
                # (410 Gone: a status, not a failure; it is not counted.)
                if problem == "410" and stream.last_event_id:
                    # The server cannot resume that stream (past its window, or the process
                    # that produced it stopped): a new GET stream, without Last-Event-ID.
                    logger.debug(
                        "%s: the GET stream cannot be resumed; opening another", self._endpoint.url
                    )
                    stream = self.answer_stream(None)
                    continue
                if problem in ("404", "405"):
                    # 405: the server offers no GET stream; 404: our session ended, and the
                    # next request starts a new one, with its own GET stream.
                    logger.debug("%s: no GET stream (HTTP %s)", self._endpoint.url, problem)
                    return
                failures, polls = _counted(failures, polls, delivered, polled, problem)
                if failures >= self.max_reconnects:
                    logger.warning("gave up the GET stream of %s: %s", self._endpoint.url, problem)
                    return
                await asyncio.sleep(self._bounded_wait(stream, failures, polls, "GET stream"))
        except RequestFailed as exc:  # a `retry` too long to honour (`_bounded_wait`)
            logger.warning("gave up the GET stream of %s: %s", self._endpoint.url, exc)
        finally:
            ready.set()  # never left unset: `start_listening` may be waiting on it

    async def _listen_once(
        self, stream: AnswerStream, ready: asyncio.Event
    ) -> tuple[int, bool, str | None]:
        """One connection of the GET stream: (messages delivered, whether it set `retry`,
        the problem, if any: an HTTP status the caller acts on, or a description)."""
        headers = self._endpoint.request_headers(accept=ACCEPT_SSE)
        if stream.last_event_id:
            headers["last-event-id"] = stream.last_event_id
        try:
            response = await self._endpoint.send_request("GET", headers, None, True)
        except RequestFailed as exc:
            return 0, False, str(exc)
        try:
            # The server answered: whatever it sends from now on has a stream to go to.
            ready.set()
            if response.status_code in (404, 405, 410):
                return 0, False, str(response.status_code)
            await self._endpoint.check_refusal(response, "the GET stream")
            if not _is_sse(response):
                return 0, False, "the answer to GET was not an SSE stream"
            delivered, polled = await self.pump(response, stream, self.deliver, "GET")
            return delivered, polled, None
        except RequestFailed as exc:
            return 0, False, str(exc)
        finally:
            await response.aclose()

    async def deliver(self, data: bytes, final: bool) -> None:
        """Hand a message read on any stream to the inbox (a `Deliver`). `final` is unused:
        the GET stream carries no response, so nothing waits for its last message."""
        await self._inbox.put(data)


def _is_sse(response: httpx.Response) -> bool:
    """Whether `response` is an SSE stream, the only answer a GET may have."""
    return content_type(response) == "text/event-stream"


def content_type(response: httpx.Response) -> str:
    """The media type of `response`, lower-case, without parameters (`; charset=utf-8`):
    media types are case-insensitive (RFC 9110, 8.3.1)."""
    return str(response.headers.get("content-type", "")).split(";")[0].strip().lower()


def _counted(
    failures: int, polls: int, delivered: int, polled: bool, trouble: object
) -> tuple[int, int]:
    """(failures in a row, polls in a row) after one reconnection: messages reset both; a
    `retry` with nothing new and no trouble (the server polling, SEP-1699) is a poll; anything
    else is a failure."""
    # Any message shows the server alive and the stream useful: both counts start over.
    if delivered:
        return 0, 0
    if polled and trouble is None:
        return failures, polls + 1
    return failures + 1, polls
