"""What the inspector's two origins (the page's, and the views' sandbox) ask of a request and
answer alike: a query parameter, a header as text, the loopback names, and a JSON reply; the
ASGI plumbing under them is `mcpkit._asgi`."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from mcpkit._asgi import Scope, Send, first_header, send_whole

__all__ = ["LOOPBACK", "header", "host_name", "origin", "query", "reply"]

#: The names a request to the inspector may give its Host (anything else: DNS rebinding).
LOOPBACK = ("127.0.0.1", "localhost", "[::1]")

_JSON_HEADERS = ((b"content-type", b"application/json"), (b"cache-control", b"no-store"))


def query(scope: Scope, name: str) -> str:
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get(name)
    return values[0] if values else ""


def header(scope: Scope, name: bytes) -> str:
    """The first value of header `name` as text, "" when there is none."""
    return (first_header(scope, name) or b"").decode("latin-1")


def host_name(scope: Scope) -> str:
    """The Host header's name, without its port."""
    host = header(scope, b"host")
    return host.rsplit(":", 1)[0] if not host.endswith("]") else host


def origin(scope: Scope) -> str:
    """The origin the request was sent to: the name it gave (checked to be loopback before
    anything is answered) and the port it came in on, never the rest of its Host header."""
    server = scope.get("server")
    port = f":{server[1]}" if server else ""
    return f"http://{host_name(scope)}{port}"


async def reply(send: Send, status: int, payload: Any) -> None:
    data = json.dumps(payload, default=str).encode()
    await send_whole(send, status, data, _JSON_HEADERS)
