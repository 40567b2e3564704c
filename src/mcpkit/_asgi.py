"""The ASGI plumbing every mcpkit ASGI app shares: the scope and message types, the path below
the point an app is mounted at, request headers (a value by name, every value of a name or of
several names, a bounded memo for parsing the values real clients repeat, a value quoted for a
message), reading a request body to its end (each chunk checked as it arrives), and sending a
whole answer (its head made by `head_of`, for the callers that send the two messages
themselves).

It sits below every layer that serves HTTP (tests/test_package.py, `ALLOWED["_asgi"]`): the
development authorization server (auth/devserver), the Streamable HTTP and legacy transports
(transports/http) and the web inspector all take it from here. Nothing here knows any app's
refusals: a body check answers what its app sends.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from typing import Any, Final, TypeVar

__all__ = [
    "MEMO_ENTRIES",
    "MEMO_VALUE_MAX",
    "Headers",
    "Message",
    "Receive",
    "Scope",
    "Send",
    "collect",
    "first_header",
    "head_of",
    "local_path",
    "memo_short",
    "quote_header",
    "read_body",
    "send_whole",
    "values_of",
]

#: ASGI 3 as the specification types it: a scope and messages are dicts of str keys.
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
#: Request headers as an ASGI scope gives them: (lower-case name, value) pairs, in order.
Headers = Sequence[tuple[bytes, bytes]]

# Values up to this size are memoized: every real Accept, Host or Origin is far shorter, and
# capping it bounds what a peer sending new values each time can make the memo hold.
MEMO_VALUE_MAX: Final = 256
MEMO_ENTRIES: Final = 256

R = TypeVar("R")
_T = TypeVar("_T")


def first_header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of request header `name` (lower-case, as ASGI gives names), or None."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value)
    return None


def local_path(scope: Scope) -> str:
    """The request's path below the point the app is mounted at, without a trailing slash.
    ASGI 3 says `path` includes `root_path` (Starlette's `Mount` does so); some servers and
    older frameworks strip it: both are read."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root) and path[len(root) : len(root) + 1] in ("", "/"):
        path = path[len(root) :]
    return path.rstrip("/") or "/"


def values_of(headers: Headers, name: bytes) -> list[bytes]:
    """Every value of header `name`, in order (several lines of one header are legal)."""
    return [value for key, value in headers if key == name]


def collect(headers: Headers, names: frozenset[bytes]) -> dict[bytes, list[bytes]]:
    """The values of each of `names` present, in one pass over the headers."""
    found: dict[bytes, list[bytes]] = {}
    for key, value in headers:
        if key in names:
            found.setdefault(key, []).append(value)
    return found


def memo_short(
    parse: Callable[[bytes], _T], remembered: dict[bytes, _T] | None = None
) -> Callable[[bytes], _T]:
    """`parse`, remembering its answers for the last `MEMO_ENTRIES` short values seen (at most
    64 KiB held), so a peer sending new values each time costs a bounded memory. (A dict,
    not `lru_cache`: that would build a key tuple for every bytes argument.) `remembered` is
    the memo when the caller reads it itself (`.get` first: one lookup for a value seen)."""
    if remembered is None:
        remembered = {}

    def parse_value(value: bytes) -> _T:
        if value in remembered:
            return remembered[value]
        answer = parse(value)
        if len(value) <= MEMO_VALUE_MAX:
            if len(remembered) >= MEMO_ENTRIES:
                del remembered[next(iter(remembered))]  # the oldest goes
            remembered[value] = answer
        return answer

    return parse_value


def quote_header(value: bytes, limit: int = 80) -> str:
    """A header value quoted for a message: escaped, and cut short when long."""
    text = repr(value[:limit].decode("latin-1"))
    # Escapes can make the text four times the bytes: cut the text, not only the bytes.
    return text if len(value) <= limit and len(text) <= limit + 2 else text[:limit] + "..."


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


def head_of(status: int, body: bytes, headers: Sequence[tuple[bytes, bytes]] = ()) -> Message:
    """The start of a whole response with `body`: `status`, `headers`, then its Content-Length
    (no chunked encoding). A new header list each time: middleware may change it."""
    length = (b"content-length", b"%d" % len(body))
    return {"type": "http.response.start", "status": status, "headers": [*headers, length]}


async def send_whole(
    send: Send, status: int, body: bytes = b"", headers: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    """A complete response in two messages: `head_of`'s, then the body."""
    await send(head_of(status, body, headers))
    await send({"type": "http.response.body", "body": body})
