"""ASGI plumbing the Streamable HTTP app shares: the scope types, reading a bounded body,
sending a refusal or a whole answer, and pumping a `Stream` out as server-sent events."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any, Final

from mcpkit.protocol.sse import encode_event
from mcpkit.transports.http.checks import BodyLimit, Refusal
from mcpkit.transports.http.streams import Stream

__all__ = [
    "Message",
    "Receive",
    "Scope",
    "Send",
    "read_body",
    "send_refusal",
    "send_sse",
    "send_whole",
]

#: ASGI 3 as the specification types it: a scope and messages are dicts of str keys.
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_SSE_HEADERS: Final = (
    (b"content-type", b"text/event-stream"),
    # Proxies must neither cache nor buffer a stream (nginx reads X-Accel-Buffering).
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
)


async def read_body(receive: Receive, max_size: int) -> bytes | Refusal | None:
    """The request body, a 413 refusal once it passes `max_size`, or None when the client
    went away before sending it all."""
    limit = BodyLimit(max_size)
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunk: bytes = message.get("body", b"")
        refusal = limit.add(len(chunk))
        if refusal is not None:
            return refusal
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def send_whole(
    send: Send, status: int, body: bytes = b"", headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    """A complete response in two messages, with Content-Length (no chunked encoding)."""
    length = (b"content-length", str(len(body)).encode())
    await send({"type": "http.response.start", "status": status, "headers": [*headers, length]})
    await send({"type": "http.response.body", "body": body})


async def send_refusal(send: Send, refusal: Refusal) -> None:
    await send_whole(send, refusal.status, refusal.body, refusal.headers)


async def send_sse(
    receive: Receive, send: Send, stream: Stream, headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    """Answer with `stream` as SSE until it ends or the client disconnects."""
    await send({"type": "http.response.start", "status": 200, "headers": [*_SSE_HEADERS, *headers]})
    watcher = asyncio.get_running_loop().create_task(_close_on_disconnect(receive, stream))
    try:
        while (data := await stream.next()) is not None:
            await send(
                {"type": "http.response.body", "body": encode_event(data), "more_body": True}
            )
        if stream.open:
            await send({"type": "http.response.body", "body": b""})
    except OSError:  # the server's way of saying the client is gone (uvicorn: ClientDisconnected)
        stream.close()
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher


async def _close_on_disconnect(receive: Receive, stream: Stream) -> None:
    # The body has been read: the next message the server gives is http.disconnect.
    while (await receive())["type"] != "http.disconnect":
        pass
    stream.close()
