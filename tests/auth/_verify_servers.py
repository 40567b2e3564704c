"""Tiny ASGI apps that play an authorization server's JWKS and introspection endpoints for the
verifier tests, served by real uvicorn (`_serving.serving`); each can answer well, fail, send
garbage, flood, or hang until the test releases it."""

from __future__ import annotations

import asyncio
import base64
import gzip
import json
from typing import Any
from urllib.parse import parse_qs, unquote_plus

WAIT = 10.0
CHUNK = b"x" * 65536
Send = Any
Receive = Any


class Endpoint:
    """One endpoint; `mode` picks the answer: "ok", "500", "garbage", "huge" (20 MB streamed),
    "huge-declared" (Content-Length of 1 GB), "gzip", or "hang" (until `release` is set)."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.hits = 0
        self.arrived = asyncio.Event()  # set by each request
        self.release = asyncio.Event()

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        self.hits += 1
        self.arrived.set()
        body = await _body(receive)
        if self.mode == "hang":
            async with asyncio.timeout(WAIT):
                await self.release.wait()
        await self.answer(scope, body, send, receive)

    async def answer(
        self, scope: dict[str, Any], body: bytes, send: Send, receive: Receive
    ) -> None:
        if self.mode == "500":
            await _send(send, 500, b"internal error", "text/plain")
        elif self.mode == "garbage":
            await _send(send, 200, b"<html>surprise</html>", "text/html")
        elif self.mode == "huge":
            await _flood(send)
        elif self.mode == "huge-declared":
            await _declare_huge(send, receive)
        else:
            content = json.dumps(self.document(scope, body)).encode()
            if self.mode == "gzip":
                await _send(send, 200, gzip.compress(content), extra={b"content-encoding": b"gzip"})
            else:
                await _send(send, 200, content)

    def document(self, scope: dict[str, Any], body: bytes) -> Any:
        raise NotImplementedError


class JwksEndpoint(Endpoint):
    """Serves `jwks` (replace it to rotate keys)."""

    def __init__(self, jwks: dict[str, Any]) -> None:
        super().__init__()
        self.jwks = jwks

    def document(self, scope: dict[str, Any], body: bytes) -> Any:
        return self.jwks


class IntrospectionEndpoint(Endpoint):
    """RFC 7662: answers `answers[token]` (else inactive) to the client `client_id` with
    `client_secret` (HTTP Basic or form, RFC 6749 section 2.3.1), 401 to anyone else;
    `seen` keeps each request's form and how the client authenticated."""

    def __init__(self, client_id: str, client_secret: str) -> None:
        super().__init__()
        self.credentials = (client_id, client_secret)
        self.answers: dict[str, dict[str, Any]] = {}
        self.seen: list[tuple[str, dict[str, str]]] = []

    async def answer(
        self, scope: dict[str, Any], body: bytes, send: Send, receive: Receive
    ) -> None:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        method, credentials = _client_of(scope, form)
        self.seen.append((method, form))
        if self.mode == "ok" and credentials != self.credentials:
            await _send(send, 401, b'{"error": "invalid_client"}')
            return
        await super().answer(scope, body, send, receive)

    def document(self, scope: dict[str, Any], body: bytes) -> Any:
        token = parse_qs(body.decode())["token"][0]
        return self.answers.get(token, {"active": False})


def _client_of(scope: dict[str, Any], form: dict[str, str]) -> tuple[str, tuple[str, str]]:
    for name, value in scope["headers"]:
        if name == b"authorization" and value.startswith(b"Basic "):
            pair = base64.b64decode(value[6:]).decode()
            client_id, _, secret = pair.partition(":")
            return "basic", (unquote_plus(client_id), unquote_plus(secret))
    return "post", (form.get("client_id", ""), form.get("client_secret", ""))


async def _body(receive: Receive) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            return body


async def _send(
    send: Send,
    status: int,
    body: bytes,
    content_type: str = "application/json",
    extra: dict[bytes, bytes] | None = None,
) -> None:
    headers = [(b"content-type", content_type.encode()), *(extra or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _flood(send: Send) -> None:
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b'{"keys": [', "more_body": True})
    for _ in range(320):  # 20 MB, unless the client hangs up first
        await send({"type": "http.response.body", "body": CHUNK, "more_body": True})
    await send({"type": "http.response.body", "body": b"]}"})


async def _declare_huge(send: Send, receive: Receive) -> None:
    """Promises 1 GB, sends 64 KiB, and waits for the client to hang up."""
    headers = [(b"content-type", b"application/json"), (b"content-length", b"1000000000")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": CHUNK, "more_body": True})
    async with asyncio.timeout(WAIT):
        while (await receive())["type"] != "http.disconnect":
            pass


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
