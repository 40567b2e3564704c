"""What the tasks-over-HTTP tests share: a server whose task tools wait on a gate, and `Wire`,
one client session spoken as raw JSON-RPC over httpx (every answer SSE or JSON, as it comes)."""

from __future__ import annotations

import asyncio
import itertools
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))  # the HTTP helpers

from _serving import INITIALIZE, headers, messages_of
from _sse import Reader, message

from mcpkit import Context, Server, ToolError
from mcpkit.errors import McpError
from mcpkit.protocol import codes

__all__ = ["RELATED", "Gate", "Wire", "error_of", "make_server", "ok", "open_wire"]

RELATED = "io.modelcontextprotocol/related-task"
NAME_SCHEMA: dict[str, Any] = {"type": "object", "properties": {"n": {"type": "string"}}}


class Gate:
    """Lets a test decide when a tool may finish, and see that it started or was cancelled."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.go = asyncio.Event()
        self.cancelled = asyncio.Event()

    async def pass_(self) -> None:
        self.started.set()
        try:
            await self.go.wait()
        except asyncio.CancelledError:
            self.cancelled.set()
            raise


def make_server(gate: Gate, **options: Any) -> Server:
    """`slow` doubles x once let; `broken` fails with a tool error, `refusing` with -32602,
    `stubborn` swallows its cancellation and returns anyway, `asking` elicits a name."""
    server = Server("tasks-http", **options)

    @server.tool(task=True)
    async def slow(x: int) -> int:
        """Doubles x, when let."""
        await gate.pass_()
        return 2 * x

    @server.tool(task=True)
    async def broken() -> str:
        await gate.pass_()
        raise ToolError("the disk is full")

    @server.tool(task=True)
    async def refusing() -> str:
        await gate.pass_()
        raise McpError(codes.INVALID_PARAMS, "no such thing", {"why": "test"})

    @server.tool(task=True)
    async def stubborn() -> str:
        try:
            await gate.pass_()
        except asyncio.CancelledError:
            return "finished anyway"  # a tool that ignores cancellation
        return "finished"

    @server.tool(task=True)
    async def asking(ctx: Context) -> str:
        await gate.pass_()
        answer = await ctx.elicit("Your name?", NAME_SCHEMA)
        return f"hello {answer.data['n'] if answer.data else '?'}"

    return server


def ok(reply: dict[str, Any]) -> Any:
    assert "result" in reply, reply
    return reply["result"]


def error_of(reply: dict[str, Any]) -> dict[str, Any]:
    assert "error" in reply, reply
    return reply["error"]


class Wire:
    """One session of an MCP endpoint, spoken as raw JSON-RPC; `token` is sent as a bearer."""

    def __init__(
        self, http: httpx.AsyncClient, url: str, sid: str | None, token: str | None
    ) -> None:
        self.http = http
        self.url = url
        self.sid = sid
        self.token = token
        self._ids = itertools.count(100)

    def headers(self) -> dict[str, str]:
        found = headers(self.sid)
        if self.token is not None:
            found["authorization"] = f"Bearer {self.token}"
        return found

    def message(self, method: str, params: Any = None) -> dict[str, Any]:
        found: dict[str, Any] = {"jsonrpc": "2.0", "id": next(self._ids), "method": method}
        if params is not None:
            found["params"] = params
        return found

    async def post(self, body: Any) -> httpx.Response:
        return await self.http.post(self.url, json=body, headers=self.headers())

    async def call(self, method: str, params: Any = None) -> dict[str, Any]:
        """The answer to one request (the last message of its response)."""
        response = await self.post(self.message(method, params))
        assert response.status_code == 200, response.text
        return dict(messages_of(response)[-1])

    async def create(self, name: str, args: dict[str, Any] | None = None, **task: Any) -> str:
        params = {"name": name, "arguments": args or {}, "task": task}
        created = ok(await self.call("tools/call", params))
        assert created["task"]["status"] == "working", created
        return str(created["task"]["taskId"])

    @asynccontextmanager
    async def stream(self, method: str, params: Any = None) -> AsyncIterator[Messages]:
        """POST a request and read its SSE answer message by message."""
        body = self.message(method, params)
        async with self.http.stream("POST", self.url, json=body, headers=self.headers()) as got:
            assert got.status_code == 200
            assert got.headers["content-type"].startswith("text/event-stream")
            yield Messages(Reader(got))

    @asynccontextmanager
    async def listen(self) -> AsyncIterator[Messages]:
        """The session's GET stream."""
        found = self.headers()
        del found["content-type"]
        async with self.http.stream("GET", self.url, headers=found) as got:
            assert got.status_code == 200, got.status_code
            yield Messages(Reader(got))

    async def delete(self) -> None:
        response = await self.http.delete(self.url, headers=self.headers())
        assert response.status_code == 200


class Messages:
    """The JSON-RPC messages of an SSE response (the priming event skipped)."""

    def __init__(self, reader: Reader) -> None:
        self.reader = reader

    async def next(self) -> Any:
        while True:
            event = await self.reader.next()
            assert event is not None, "the stream ended"
            if event.data:
                return message(event)

    async def rest(self) -> list[Any]:
        return [message(e) for e in await self.reader.rest() if e.data]


async def open_wire(http: httpx.AsyncClient, url: str, token: str | None = None) -> Wire:
    """initialize and notifications/initialized: a Wire on the new session."""
    init = headers()
    if token is not None:
        init["authorization"] = f"Bearer {token}"
    # The client can answer elicitations, which `asking` sends while it is a task.
    body = {**INITIALIZE, "params": {**INITIALIZE["params"], "capabilities": {"elicitation": {}}}}
    response = await http.post(url, json=body, headers=init)
    assert response.status_code == 200, response.text
    wire = Wire(http, url, response.headers["mcp-session-id"], token)
    done = await wire.post({"jsonrpc": "2.0", "method": "notifications/initialized"})
    assert done.status_code == 202
    return wire
