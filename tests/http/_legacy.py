"""Helpers the legacy HTTP+SSE tests share: a server with a few tools, and reading a raw SSE
response event by event."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec

from mcpkit import Context, Server
from mcpkit.errors import ConnectionClosed
from mcpkit.runtime.channel import MessageChannel
from mcpkit.transports.sse_parser import SSEEvent, SSEParser

LEGACY_VERSION = "2024-11-05"


def make_server() -> Server:
    server = Server("legacy-test", "1.0.0")

    @server.tool()
    def add(a: int, b: int) -> int:
        """Adds two numbers."""
        return a + b

    @server.tool()
    async def steps(ctx: Context, n: int) -> str:
        """Reports progress n times, then answers."""
        for i in range(n):
            await ctx.progress(i + 1, n)
        return f"{n} steps"

    @server.tool()
    def blob(size: int) -> str:
        """A string of `size` bytes."""
        return "x" * size

    @server.tool()
    async def wait_for(ctx: Context, seconds: float) -> str:
        """Sleeps (to keep a request in flight), then answers."""
        await asyncio.sleep(seconds)
        return "waited"

    return server


def initialize(rid: int = 1, version: str = LEGACY_VERSION) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": rid,
        "method": "initialize",
        "params": {
            "protocolVersion": version,
            "capabilities": {},
            "clientInfo": {"name": "raw-legacy", "version": "0"},
        },
    }


INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}


def call(rid: int, name: str, arguments: dict[str, Any], token: str | None = None) -> Any:
    params: dict[str, Any] = {"name": name, "arguments": arguments}
    if token is not None:
        params["_meta"] = {"progressToken": token}
    return {"jsonrpc": "2.0", "id": rid, "method": "tools/call", "params": params}


class Events:
    """The events of one SSE response, in order; `next()` is None once it has ended."""

    def __init__(self, response: httpx.Response, *, keep_raw: bool = True) -> None:
        self.response = response
        self.keep_raw = keep_raw
        self._chunks: AsyncIterator[bytes] = response.aiter_raw()
        self._parser = SSEParser()
        self._ready: deque[SSEEvent] = deque()
        self.raw = bytearray()

    async def next(self) -> SSEEvent | None:
        while not self._ready:
            try:
                chunk = await anext(self._chunks)
            except StopAsyncIteration:
                return None
            if self.keep_raw:
                self.raw += chunk
            self._ready.extend(self._parser.feed(chunk))
        return self._ready.popleft()

    async def message(self) -> Any:
        """The next `message` event's JSON-RPC message."""
        event = await self.next()
        assert event is not None, "the stream ended"
        assert event.event == "message", event
        return msgspec.json.decode(event.data)


async def legacy_session(
    client: httpx.AsyncClient, base: str, sse_path: str = "/sse"
) -> tuple[Events, str]:
    """Open a stream (the caller closes it), read its endpoint event and run the handshake:
    the events and the absolute POST URL."""
    request = client.build_request("GET", base + sse_path, headers={"accept": "text/event-stream"})
    response = await client.send(request, stream=True)
    assert response.status_code == 200, response.status_code
    assert response.headers["content-type"] == "text/event-stream"
    events = Events(response)
    first = await events.next()
    assert first is not None and first.event == "endpoint", first
    url = str(httpx.URL(base + sse_path).join(first.data))
    sent = await client.post(url, json=initialize())
    assert sent.status_code == 202, sent.text
    answer = await events.message()
    assert answer["id"] == 1 and answer["result"]["protocolVersion"] == LEGACY_VERSION
    assert (await client.post(url, json=INITIALIZED)).status_code == 202
    return events, url


class Relay:
    """A stand-in for an in-process server that lets `Client` run over any channel: the
    memory pair's server end is pumped to and from `channel` (the client then never needs
    connect.py to know the transport)."""

    def __init__(self, channel: MessageChannel) -> None:
        self.channel = channel

    async def serve(self, end: MessageChannel) -> None:
        async def pump(source: MessageChannel, sink: MessageChannel) -> None:
            while True:
                await sink.send(await source.receive())

        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(pump(end, self.channel))
                group.create_task(pump(self.channel, end))
        except* ConnectionClosed:
            pass
        finally:
            await self.channel.aclose()
            await end.aclose()
