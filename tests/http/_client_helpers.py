"""An ASGI wrapper that records every HTTP request an app gets (method, headers, body), for
the client tests to check what the mcpkit client sent, and may answer some itself."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
#: Given a request seen so far, answer (status, body) instead of the app, or None.
Override = Callable[["Seen"], "tuple[int, bytes] | None"]


@dataclass
class Seen:
    method: str
    headers: dict[str, str]
    body: bytes = b""
    status: int | None = None

    @property
    def message(self) -> Any:
        return msgspec.json.decode(self.body) if self.body else None

    @property
    def rpc_method(self) -> str | None:
        message = self.message
        return message.get("method") if isinstance(message, dict) else None


@dataclass
class Recorder:
    app: Any
    seen: list[Seen] = field(default_factory=list[Seen])
    override: Override | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        seen = Seen(scope["method"], headers)
        self.seen.append(seen)
        body = b""
        more = scope["method"] == "POST"
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False) and message["type"] == "http.request"
        seen.body = body
        answer = self.override(seen) if self.override is not None else None
        if answer is not None:
            seen.status = answer[0]
            await send_json(send, *answer)
            return
        replayed = False

        async def replay() -> dict[str, Any]:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        async def watch(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                seen.status = message["status"]
            await send(message)

        await self.app(scope, replay, watch)

    def posts(self, rpc_method: str | None = None) -> list[Seen]:
        return [
            s
            for s in self.seen
            if s.method == "POST" and (rpc_method is None or s.rpc_method == rpc_method)
        ]


async def send_json(send: Send, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def rpc_error(message: str, code: int = -32600) -> bytes:
    return msgspec.json.encode(
        {"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": message}}
    )
