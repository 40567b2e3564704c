"""The few ASGI helpers the inspector's two origins share (the page's, and the views'
sandbox): reading a query parameter or a header, and answering JSON."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

__all__ = [
    "LOOPBACK",
    "Receive",
    "Scope",
    "Send",
    "header",
    "host_name",
    "origin",
    "query",
    "reply",
]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

#: The names a request to the inspector may give its Host (anything else: DNS rebinding).
LOOPBACK = ("127.0.0.1", "localhost", "[::1]")


def query(scope: Scope, name: str) -> str:
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get(name)
    return values[0] if values else ""


def header(scope: Scope, name: bytes) -> str:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return ""


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
    headers = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})
