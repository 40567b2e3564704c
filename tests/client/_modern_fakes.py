"""Small fake servers of the modern revision (2026-07-28) for the client's tests: mcpkit's
own server does not speak it yet. `FakeModernServer` answers over an in-memory channel pair
(a `Client` target: an async function returning the channel and its release), or as a plain
ASGI app (`asgi`) for the HTTP tests; `FakeLegacyServer` speaks only 2025-11-25."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import msgspec

from mcpkit.errors import ConnectionClosed
from mcpkit.runtime.channel import MessageChannel
from mcpkit.transports.memory import memory_channel_pair

__all__ = ["FakeLegacyServer", "FakeModernServer", "Handler"]

Handler = Callable[["FakeModernServer", dict[str, Any]], Awaitable[Any]]
REVISION = "2026-07-28"


def _complete(result: dict[str, Any]) -> dict[str, Any]:
    return {"resultType": "complete", **result}


def _served(
    client_end: MessageChannel,
    server_end: MessageChannel,
    serve: Callable[[MessageChannel], Coroutine[Any, Any, None]],
) -> Callable[[], Awaitable[None]]:
    """`serve` run on `server_end` in a task; what `open` hands back to end it: close the
    client's end, then cancel and await the task."""
    task = asyncio.get_running_loop().create_task(serve(server_end))

    async def release() -> None:
        await client_end.aclose()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    return release


class FakeModernServer:
    """Answers `server/discover`, `tools/list` (with `ttlMs`) and each method in `handlers`;
    records every request (method, params, HTTP headers when over HTTP)."""

    def __init__(
        self,
        *,
        tools: list[dict[str, Any]] | None = None,
        ttl_ms: int = 0,
        handlers: dict[str, Handler] | None = None,
        capabilities: dict[str, Any] | None = None,
        supported: tuple[str, ...] = (REVISION,),
        discover_delays: tuple[float, ...] = (),
    ) -> None:
        self.tools = tools or []
        #: Seconds the first few `server/discover` answers wait (a server slow to start).
        self.discover_delays = list(discover_delays)
        self.ttl_ms = ttl_ms
        self.handlers = handlers or {}
        self.capabilities = capabilities or {"tools": {}}
        self.supported = list(supported)
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.headers: list[dict[str, str]] = []
        self.channel: MessageChannel | None = None

    def methods(self) -> list[str]:
        return [method for method, _ in self.requests]

    async def answer(self, message: dict[str, Any]) -> dict[str, Any] | None:
        """The response to one message (None for a notification)."""
        method, rid = message.get("method"), message.get("id")
        params: dict[str, Any] = message.get("params") or {}
        if rid is None:
            return None
        self.requests.append((str(method), params))
        meta = params.get("_meta") or {}
        version = meta.get("io.modelcontextprotocol/protocolVersion")
        if version not in self.supported:
            data = {"supported": self.supported, "requested": str(version)}
            error = {"code": -32022, "message": "Unsupported protocol version", "data": data}
            return {"jsonrpc": "2.0", "id": rid, "error": error}
        if method == "server/discover":
            if self.discover_delays:
                await asyncio.sleep(self.discover_delays.pop(0))
            result = {
                "supportedVersions": self.supported,
                "capabilities": self.capabilities,
                "ttlMs": 0,
                "cacheScope": "public",
                "_meta": {"io.modelcontextprotocol/serverInfo": {"name": "fake", "version": "1"}},
            }
        elif method == "tools/list":
            result = {"tools": self.tools, "ttlMs": self.ttl_ms, "cacheScope": "public"}
        elif method in self.handlers:
            try:
                result = await self.handlers[method](self, params)
            except Exception as exc:  # a handler refusing: HeaderMismatch in the tests
                error = {"code": -32020, "message": f"Header mismatch: {exc!r}"}
                return {"jsonrpc": "2.0", "id": rid, "error": error}
        else:
            error = {"code": -32601, "message": f"Method not found: {method}"}
            return {"jsonrpc": "2.0", "id": rid, "error": error}
        return {"jsonrpc": "2.0", "id": rid, "result": _complete(result)}

    # ------------------------------------------------------------ in memory

    async def open(self) -> tuple[MessageChannel, Callable[[], Awaitable[None]]]:
        client_end, server_end = memory_channel_pair()
        self.channel = server_end
        return client_end, _served(client_end, server_end, self._serve)

    async def _serve(self, channel: MessageChannel) -> None:
        running: set[asyncio.Task[None]] = set()
        try:
            while True:
                message = msgspec.json.decode(await channel.receive())
                job = asyncio.get_running_loop().create_task(self._reply(channel, message))
                running.add(job)
                job.add_done_callback(running.discard)
        except ConnectionClosed:
            pass

    async def _reply(self, channel: MessageChannel, message: dict[str, Any]) -> None:
        reply = await self.answer(message)
        if reply is not None:
            await channel.send(msgspec.json.encode(reply))

    async def notify(self, method: str, params: dict[str, Any]) -> None:
        assert self.channel is not None
        message = {"jsonrpc": "2.0", "method": method, "params": params}
        await self.channel.send(msgspec.json.encode(message))

    # ------------------------------------------------------------------ HTTP

    async def asgi(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        """The same server as a Streamable HTTP endpoint answering with JSON."""
        assert scope["type"] == "http"
        if scope["method"] != "POST":
            await _respond(send, 405, b"")
            return
        body = b""
        while True:
            event = await receive()
            body += event.get("body", b"")
            if not event.get("more_body"):
                break
        self.headers.append({k.decode(): v.decode() for k, v in scope["headers"]})
        reply = await self.answer(json.loads(body))
        if reply is None:
            await _respond(send, 202, b"")
            return
        error = reply.get("error")
        status = 200
        if error is not None:
            status = 404 if error["code"] == -32601 else 400
        await _respond(send, status, json.dumps(reply).encode())


async def _respond(send: Any, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json")] if body else []
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class FakeLegacyServer:
    """A 2025-11-25 server that knows no `server/discover` (-32601, or `discover_error`)."""

    def __init__(
        self, discover_error: dict[str, Any] | None = None, *, silent: bool = False
    ) -> None:
        self.methods: list[str] = []
        self.discover_error = discover_error or {"code": -32601, "message": "Method not found"}
        #: Answer nothing to `server/discover`, as some servers do before `initialize`.
        self.silent = silent

    async def open(self) -> tuple[MessageChannel, Callable[[], Awaitable[None]]]:
        client_end, server_end = memory_channel_pair()
        return client_end, _served(client_end, server_end, self._serve)

    async def _serve(self, channel: MessageChannel) -> None:
        try:
            while True:
                message = msgspec.json.decode(await channel.receive())
                self.methods.append(message.get("method", "(response)"))
                rid, method = message.get("id"), message.get("method")
                if rid is None:
                    continue
                reply: dict[str, Any] = {"jsonrpc": "2.0", "id": rid}
                if method == "initialize":
                    reply["result"] = {
                        "protocolVersion": message["params"]["protocolVersion"],
                        "capabilities": {"tools": {}},
                        "serverInfo": {"name": "legacy", "version": "1"},
                    }
                elif method == "tools/list":
                    reply["result"] = {"tools": []}
                elif method == "server/discover":
                    if self.silent:
                        continue
                    reply["error"] = self.discover_error
                else:
                    reply["error"] = {"code": -32601, "message": f"Method not found: {method}"}
                await channel.send(msgspec.json.encode(reply))
        except ConnectionClosed:
            pass
