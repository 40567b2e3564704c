"""Reading what a Streamable HTTP server answers: the bounded inbox the runtime receives
from, one SSE stream's state across reconnections, and pumping a response's events or JSON
body into the inbox (spec: basic/transports; SEP-1699 for the priming event and `retry`)."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Final

from mcpkit._bounded_answer import AnswerTooLarge, UnreadCoding, read_answer
from mcpkit._extras import needs_extra

with needs_extra("http"):
    import httpx

from mcpkit.errors import RemoteProtocolError
from mcpkit.transports.http_client._wire import is_answer
from mcpkit.transports.sse_parser import SSEParser
from mcpkit.types import RequestId

__all__ = [
    "MAX_INBOX",
    "AnswerStream",
    "Deliver",
    "Inbox",
    "identity_chunks",
    "pump_sse",
    "read_bounded",
]

#: Messages read from the server and not yet taken by the runtime; past it the streams stop
#: reading (TCP then slows the server), so a server that floods us costs bounded memory.
MAX_INBOX: Final = 64

# Why a compressed answer is refused is in identity_chunks: it could inflate past any limit.
_COMPRESSED: Final = "the server sent a compressed ({coding}) answer though identity was asked for"

#: Called with each message read and whether it is the answer its stream waited for.
Deliver = Callable[[bytes, bool], Awaitable[None]]


class Inbox:
    """Messages for `receive()`, at most MAX_INBOX held; `end(exc)` makes every later (and
    waiting) `get()` raise `exc` and drops what is put from then on."""

    def __init__(self, limit: int = MAX_INBOX) -> None:
        self._items: deque[bytes] = deque()
        self._limit = limit
        # Two events rather than an asyncio.Queue: `end` must wake every waiting putter and
        # getter at once and make them raise or drop, which a Queue cannot do.
        self._ready = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        #: Why the transport ended (closed, refused, LegacyFallback): what get() raises.
        self.ended: BaseException | None = None

    async def put(self, data: bytes) -> None:
        """Queue a message, waiting while MAX_INBOX wait already: the stream that read it
        stops reading until the runtime catches up. After `end` it is dropped."""
        while self.ended is None and len(self._items) >= self._limit:
            self._room.clear()
            await self._room.wait()
        if self.ended is None:
            self._items.append(data)
            self._ready.set()

    async def get(self) -> bytes:
        """The next message, in the order the streams delivered them; the ending exception
        once the inbox has ended, even with messages still held (they are dropped then)."""
        while not self._items or self.ended is not None:
            if self.ended is not None:
                raise self.ended
            self._ready.clear()
            await self._ready.wait()
        self._room.set()
        return self._items.popleft()

    def end(self, exc: BaseException) -> None:
        """End the inbox with `exc`; the first reason is kept, later ones are echoes."""
        if self.ended is None:
            self.ended = exc
            self._items.clear()
            self._ready.set()
            self._room.set()


class AnswerStream:
    """One SSE stream as the client follows it across connections: the parser keeps the last
    event id (sent back as Last-Event-ID) and the server's `retry`; `request_id` is the
    request whose answer ends the stream (None: the GET stream, which has no end)."""

    __slots__ = ("answered", "parser", "request_id", "retry_ms")

    def __init__(self, request_id: RequestId | None, max_message_size: int) -> None:
        self.request_id = request_id
        self.parser = SSEParser(max_event_size=max_message_size)
        # Set once the response was delivered: the request's task then stops following.
        self.answered = False
        self.retry_ms: int | None = None  # the last `retry` the server sent on this stream

    @property
    def last_event_id(self) -> str:
        """The id of the last event read, kept across connections: resuming sends it as
        Last-Event-ID, so the server replays only what came after ("Resumability")."""
        return self.parser.last_event_id

    def take_retry(self) -> bool:
        """Whether the connection just read carried a `retry` field (then kept).

        A server that sends `retry` before closing a stream is asking to be polled (SEP-1699):
        the follower then waits that long and reconnects, counting a poll, not a failure.
        """
        retry, self.parser.retry = self.parser.retry, None
        if retry is None:
            return False
        self.retry_ms = retry
        return True


async def identity_chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    """`response`'s body as sent. The client asks for `accept-encoding: identity`; a body
    compressed anyway is refused before a byte is inflated (RemoteProtocolError): httpx
    would inflate each chunk whole, up to a thousand times its size, before any limit of
    ours could count it."""
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise RemoteProtocolError(_COMPRESSED.format(coding=encoding))
    async for chunk in response.aiter_bytes():
        yield chunk


async def pump_sse(response: httpx.Response, stream: AnswerStream, deliver: Deliver) -> int:
    """Read `response`'s events until the answer came or the connection ended; returns how
    many messages were delivered. A dropped connection ends it quietly (the caller resumes);
    an event over the size limit raises `mcpkit.errors.RemoteProtocolError`."""
    parser = stream.parser
    delivered = 0
    try:
        async for chunk in identity_chunks(response):
            for event in parser.feed(chunk):
                # Priming events (SEP-1699) have empty data: their id is all they carry. Other
                # event types are not MCP messages (basic/transports sends plain events).
                if not event.data or event.event != "message":
                    continue
                data = event.data.encode()
                # The answer ends the stream for us ("Sending Messages to the Server" 6: the
                # server should close it then); we stop reading rather than wait for the close.
                final = stream.request_id is not None and is_answer(data, stream.request_id)
                await deliver(data, final)
                delivered += 1
                if final:
                    stream.answered = True
                    return delivered
    except httpx.TransportError:
        pass  # a drop, a read timeout: the stream is resumed (basic/transports: "MAY occur")
    # An event cut off by the drop is discarded, never delivered half; the last event id
    # is kept, so the resumption asks the server for exactly what was lost.
    parser.feed_eof()
    return delivered


async def read_bounded(response: httpx.Response, limit: int) -> bytes | None:
    """The whole body, or None as soon as it is longer than `limit` bytes; a compressed one
    is refused unread, as `identity_chunks` refuses it (RemoteProtocolError)."""
    try:
        return await read_answer(response, limit, inflate=False)
    except AnswerTooLarge:
        return None
    except UnreadCoding as exc:
        raise RemoteProtocolError(_COMPRESSED.format(coding=exc.coding)) from None
