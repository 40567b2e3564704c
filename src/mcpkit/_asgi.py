"""The ASGI plumbing every mcpkit ASGI app shares: the scope and message types, a header's
value, reading a request body to its end (each chunk checked as it arrives), and sending a
whole answer.

It sits below every layer that serves HTTP (tests/test_package.py, `ALLOWED["_asgi"]`): the
development authorization server (auth/devserver), the Streamable HTTP and legacy transports
(transports/http) and the web inspector all take it from here. Nothing here knows any app's
refusals: a body check answers what its app sends.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any, TypeVar

__all__ = ["Message", "Receive", "Scope", "Send", "first_header", "read_body", "send_whole"]

#: ASGI 3 as the specification types it: a scope and messages are dicts of str keys.
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

R = TypeVar("R")


def first_header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of request header `name` (lower-case, as ASGI gives names), or None."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None


async def read_body(receive: Receive, check: Callable[[int], R | None]) -> bytes | R | None:
    """The request body, or None when the client went away before sending it all.

    `check` is given the size of each chunk as it arrives, before it is kept; when it answers
    something other than None (its app's refusal: the body is too large, say), reading stops
    and that answer is returned, so a body never costs more than the check allows."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":  # http.disconnect
            return None
        chunk: bytes = message.get("body", b"")
        refused = check(len(chunk))
        if refused is not None:
            return refused
        chunks.append(chunk)
        if not message.get("more_body", False):
            # One chunk, the usual case, is returned as it came: no copy.
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def send_whole(
    send: Send, status: int, body: bytes = b"", headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    """A complete response in two messages, with Content-Length (no chunked encoding)."""
    length = (b"content-length", str(len(body)).encode())
    await send({"type": "http.response.start", "status": status, "headers": [*headers, length]})
    await send({"type": "http.response.body", "body": body})
