"""An ASGI gate in front of a real mcpkit HTTP app for the OAuth client's end-to-end tests: it
asks `World.check_mcp` whether each request to the MCP paths may pass, answers its 401 or 403
otherwise, serves the World's metadata and authorization server endpoints on every other path
(so the World can be a real authorization server on 127.0.0.1), and records the method, path
and Authorization header of every request."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from _client_world import World

Scope = dict[str, Any]
MCP_PATHS = frozenset({"/mcp", "/sse", "/messages"})
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass
class Gate:
    app: Any
    world: World = field(default_factory=World)
    #: (method, path, Authorization header or None) of each HTTP request.
    seen: list[tuple[str, str, str | None]] = field(
        default_factory=list[tuple[str, str, "str | None"]]
    )

    _arrived: dict[str, asyncio.Event] = field(default_factory=dict[str, asyncio.Event])

    def arrived(self, method: str) -> asyncio.Event:
        """Set once a request with `method` has come."""
        return self._arrived.setdefault(method, asyncio.Event())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"]]
        auth = dict(headers).get("authorization")
        self.seen.append((scope["method"], scope["path"], auth))
        self.arrived(scope["method"]).set()
        if scope["path"] not in MCP_PATHS:
            await _answer(send, self.world(await _request(scope, receive, headers)))
            return
        request = httpx.Request(scope["method"], self.world.mcp, headers=headers)
        refusal = self.world.check_mcp(request)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        await _answer(send, refusal)


async def _request(scope: Scope, receive: Receive, headers: list[tuple[str, str]]) -> httpx.Request:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    host = dict(headers).get("host", "127.0.0.1")
    query = scope.get("query_string", b"").decode("latin-1")
    url = f"http://{host}{scope['path']}" + (f"?{query}" if query else "")
    return httpx.Request(scope["method"], url, headers=headers, content=body)


async def _answer(send: Send, refusal: httpx.Response) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": refusal.status_code,
            "headers": [(k.encode(), v.encode()) for k, v in refusal.headers.items()],
        }
    )
    await send({"type": "http.response.body", "body": refusal.content})
