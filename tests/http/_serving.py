"""Serve an ASGI app with uvicorn on an ephemeral port of 127.0.0.1, in the test's loop, and
talk to it with raw httpx: the helpers the HTTP tests share."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import tracemalloc
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
import uvicorn

import mcpkit
from mcpkit import Context, Server
from mcpkit.transports.deployment import uvicorn_protocol

WAIT = 10.0
ACCEPT = "application/json, text/event-stream"
VERSION = "2025-11-25"
# Traces of mcpkit's own code only: the package's folder, never a pattern such as */mcpkit/*,
# which in a checkout named `mcpkit` also matches .venv/.../site-packages (httpx, anyio).
ONLY_MCPKIT = [tracemalloc.Filter(True, os.path.join(os.path.dirname(mcpkit.__file__), "*"))]
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": VERSION,
        "capabilities": {},
        "clientInfo": {"name": "raw-http", "version": "0"},
    },
}


@contextlib.asynccontextmanager
async def serving(
    app: Any, http: Any = "auto", sndbuf: int | None = None, port: int = 0, keep_alive: int = 5
) -> AsyncIterator[str]:
    """The app served at a fresh port: yields its base URL, and always stops the server.
    `http` is uvicorn's parser: "auto" (httptools, installed with mcpkit[http], with its writes
    joined as `mcpkit run` serves it: mcpkit.transports.deployment.uvicorn_protocol), "httptools" as
    uvicorn has it, "h11", which sends header values httptools refuses (hostile servers), or a
    protocol class. `port` 0 is a free one; `keep_alive` is uvicorn's `timeout_keep_alive`."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted sockets inherit it on Linux; without it Nagle holds a response's last write
    # until the client's delayed ACK, 40 ms later, on every request.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if sndbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    sock.bind(("127.0.0.1", port))
    port = sock.getsockname()[1]
    protocol: Any = uvicorn_protocol.protocol("httptools") if http == "auto" else http
    config = uvicorn.Config(
        app,
        http=protocol,
        lifespan="on",
        log_level="warning",
        timeout_graceful_shutdown=2,
        timeout_keep_alive=keep_alive,
    )
    server = uvicorn.Server(config)
    # The socket listens before uvicorn runs: connections wait in its backlog until uvicorn
    # has run the lifespan startup and accepts them, so no readiness wait is needed.
    sock.listen(128)
    task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        async with asyncio.timeout(WAIT):
            await task
        sock.close()


def counting_posts(app: Any) -> tuple[Any, list[str]]:
    """`app` wrapped to note the path of every POST it is sent, and that list."""
    posts: list[str] = []

    async def counted(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            posts.append(scope["path"])
        await app(scope, receive, send)

    return counted, posts


def headers(session: str | None = None, **extra: str) -> dict[str, str]:
    found = {"accept": ACCEPT, "content-type": "application/json", "mcp-protocol-version": VERSION}
    if session is not None:
        found["mcp-session-id"] = session
    found.update(extra)
    return found


def sse_messages(text: str) -> list[Any]:
    """The JSON-RPC messages of an SSE body (every event here has one data line)."""
    return [
        msgspec.json.decode(line[len("data: ") :])
        for line in text.splitlines()
        if line.startswith("data: ")
    ]


def messages_of(response: httpx.Response) -> list[Any]:
    """The messages of a POST's answer, SSE or JSON."""
    if response.headers["content-type"].startswith("text/event-stream"):
        return sse_messages(response.text)
    return [response.json()]


async def open_session(client: httpx.AsyncClient, url: str) -> str:
    """initialize and notifications/initialized: the new session's id."""
    response = await client.post(url, json=INITIALIZE, headers=headers())
    assert response.status_code == 200, response.text
    (answer,) = messages_of(response)
    assert answer["result"]["protocolVersion"] == VERSION
    sid = response.headers["mcp-session-id"]
    done = await client.post(
        url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=headers(sid)
    )
    assert done.status_code == 202 and done.content == b""
    return sid


def small_server(name: str, version: str = "1.2.3") -> Server:
    """A server with `add(a, b)` and `slow(steps)` (one progress notification per step, then
    "N steps"): the surface most HTTP tests call; they add what else they need."""
    server = Server(name, version)

    @server.tool()
    def add(a: int, b: int) -> int:
        """Adds two numbers."""
        return a + b

    @server.tool()
    async def slow(ctx: Context, steps: int) -> str:
        """One progress notification per step."""
        for i in range(steps):
            await ctx.progress(i + 1, steps)
        return f"{steps} steps"

    return server
