"""Following the server's streams: reading a POST's answer (JSON or SSE), resuming an SSE
answer cut before its response with GET and Last-Event-ID after the server's `retry`, and
keeping the GET stream open (spec: basic/transports, "Resumability and Redelivery" and
"Listening for Messages from the Server"; SEP-1699)."""

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

_MAX_BACKOFF: Final = 30.0  # seconds between failed attempts, at most


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
        self._endpoint = endpoint
        self._inbox = inbox
        self.max_message_size = max_message_size
        self.max_reconnects = max_reconnects
        self.reconnect_delay = reconnect_delay
        self._listener: asyncio.Task[None] | None = None

    def answer_stream(self, request_id: RequestId | None) -> AnswerStream:
        """A new stream for the answer to `request_id` (None: the GET stream)."""
        return AnswerStream(request_id, self.max_message_size)

    # ----------------------------------------------------------------- answers

    async def read_answer(
        self, response: httpx.Response, stream: AnswerStream, deliver: Deliver, method: str
    ) -> None:
        """Read a POST's answer: one JSON object or an SSE stream (basic/transports, "Sending
        Messages to the Server" 5); raises RequestFailed when it cannot be the answer."""
        await self._endpoint.check_refusal(response, method)
        kind = content_type(response)
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
            if body is None:
                raise RequestFailed(
                    f"{method}: the server's answer is larger than max_message_size "
                    f"({self.max_message_size} bytes)"
                )
            rid = stream.request_id
            stream.answered = rid is not None and is_answer(body, rid)
            await deliver(body, stream.answered)
            if not stream.answered:
                raise RequestFailed(f"{method}: the server's JSON answer is not its response")
        elif kind == "text/event-stream":
            await self.pump(response, stream, deliver, method)
        else:
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
        """Pump one connection of `stream`: (messages delivered, whether it set `retry`)."""
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
        if failures:
            wait = max(wait, min(self.reconnect_delay * 2**failures, _MAX_BACKOFF))
        if polls > self.max_reconnects:
            wait = max(wait, self.reconnect_delay)
        return wait

    def _bounded_wait(self, stream: AnswerStream, failures: int, polls: int, method: str) -> float:
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
        failures = polls = 0
        problem = "the stream ended before the response"
        last_data: dict[str, Any] | None = None  # what the last failure knew (transportError)
        while not stream.answered:
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
        headers = self._endpoint.request_headers(accept=ACCEPT_SSE)
        headers["last-event-id"] = stream.last_event_id
        try:
            response = await self._endpoint.send_request("GET", headers, None, True)
        except RequestFailed as exc:
            return 0, False, exc
        try:
            status = response.status_code
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
            await response.aclose()

    async def listen_again(self) -> None:
        """Reopen the GET stream, if it was open, for a new session."""
        old = self._listener
        if old is not None and old is not asyncio.current_task():
            old.cancel()
            self._listener = None
            await self.start_listening()

    # --------------------------------------------------------------- GET stream

    def listeners(self) -> list[asyncio.Task[None]]:
        return [] if self._listener is None else [self._listener]

    async def start_listening(self) -> None:
        """Open the GET stream and wait until the server answered it, so what it sends there
        in reply to our next request is not missed: a server drops what it has no stream
        for, and one that is busy may answer the GET late. The wait is bounded by `timeout`,
        as every read other than an answer is; past it the stream goes on opening."""
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
        stream = self.answer_stream(None)
        failures = polls = 0
        try:
            while True:
                delivered, polled, problem = await self._listen_once(stream, ready)
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
        except RequestFailed as exc:
            logger.warning("gave up the GET stream of %s: %s", self._endpoint.url, exc)
        finally:
            ready.set()

    async def _listen_once(
        self, stream: AnswerStream, ready: asyncio.Event
    ) -> tuple[int, bool, str | None]:
        headers = self._endpoint.request_headers(accept=ACCEPT_SSE)
        if stream.last_event_id:
            headers["last-event-id"] = stream.last_event_id
        try:
            response = await self._endpoint.send_request("GET", headers, None, True)
        except RequestFailed as exc:
            return 0, False, str(exc)
        try:
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
        """Hand a message read on any stream to the inbox (a `Deliver`)."""
        await self._inbox.put(data)


def _is_sse(response: httpx.Response) -> bool:
    return content_type(response) == "text/event-stream"


def content_type(response: httpx.Response) -> str:
    """The media type of `response`, lower-case, without parameters."""
    return str(response.headers.get("content-type", "")).split(";")[0].strip().lower()


def _counted(
    failures: int, polls: int, delivered: int, polled: bool, trouble: object
) -> tuple[int, int]:
    """(failures in a row, polls in a row) after one reconnection: messages reset both; a
    `retry` with nothing new and no trouble (the server polling, SEP-1699) is a poll; anything
    else is a failure."""
    if delivered:
        return 0, 0
    if polled and trouble is None:
        return failures, polls + 1
    return failures + 1, polls
