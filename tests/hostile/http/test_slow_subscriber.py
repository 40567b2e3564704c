"""A slow subscriber never blocks a writer (issue 19): two sessions subscribed to a resource
and never reading their GET stream made the tool that writes the resource stop answering,
for every client, after 71 updates (notify_resource_updated waited on each subscriber in
turn). Updates are idempotent: one still waiting for a slow client makes further ones for
the same URI redundant, and the writer goes on."""

from __future__ import annotations

import asyncio
import gc
import socket
import tracemalloc

import httpx
from _serving import ACCEPT, WAIT, headers, messages_of, open_session, serving

from mcpkit import Context, Server

URI = "data://board"
UPDATES = 2000


def board_server() -> Server:
    server = Server("board")
    state = {"text": "x" * 1024}

    @server.resource(URI)
    def board() -> str:
        return state["text"]

    @server.tool()
    async def write(ctx: Context, times: int) -> str:
        for i in range(times):
            state["text"] = f"{i}" + "x" * 1024
            await ctx.server.notify_resource_updated(URI)
        return f"wrote {times} times"

    return server


def call(rid: int, name: str, **arguments: object) -> dict[str, object]:
    return {
        "jsonrpc": "2.0",
        "id": rid,
        "method": "tools/call",
        "params": {"name": name, "arguments": arguments},
    }


async def subscribe(client: httpx.AsyncClient, url: str, sid: str) -> None:
    body = {"jsonrpc": "2.0", "id": 9, "method": "resources/subscribe", "params": {"uri": URI}}
    answer = await client.post(url, json=body, headers=headers(sid))
    assert "result" in messages_of(answer)[0], answer.text


async def unread_get(base: str, sid: str) -> socket.socket:
    """A GET stream on a socket with a small receive buffer that is never read: what a
    stalled or hostile client leaves the server once the kernel's buffers are full."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
    request = (
        f"GET /mcp HTTP/1.1\r\nhost: {host}:{port}\r\naccept: text/event-stream\r\n"
        f"mcp-session-id: {sid}\r\nmcp-protocol-version: 2025-11-25\r\n\r\n"
    )
    await asyncio.get_running_loop().sock_sendall(sock, request.encode())
    return sock


async def test_subscribers_that_never_read_do_not_stop_the_writer() -> None:
    app = board_server().http_app()
    limits = httpx.Limits(max_connections=None)
    async with (
        asyncio.timeout(WAIT * 3),
        serving(app, sndbuf=4096) as base,
        httpx.AsyncClient(limits=limits, timeout=WAIT) as client,
    ):
        url = base + "/mcp"
        stalled = []
        for _ in range(2):  # subscribed, with a GET stream open and never read
            sid = await open_session(client, url)
            await subscribe(client, url, sid)
            stalled.append(await unread_get(base, sid))
        reading = await open_session(client, url)  # and one that reads its stream later
        await subscribe(client, url, reading)
        get = client.build_request("GET", url, headers={**headers(reading), "accept": ACCEPT})
        stream = await client.send(get, stream=True)
        writer = await open_session(client, url)
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            for round_ in range(3):  # before: stuck after 71 updates, until the readers left
                answer = await asyncio.wait_for(
                    client.post(
                        url, json=call(round_, "write", times=UPDATES), headers=headers(writer)
                    ),
                    WAIT,
                )
                text = messages_of(answer)[-1]["result"]["content"][0]["text"]
                assert text == f"wrote {UPDATES} times"
            grown = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        # A subscriber that reads learns of the change.
        async with asyncio.timeout(WAIT):
            async for line in stream.aiter_lines():
                if URI in line and "resources/updated" in line:
                    break
        await stream.aclose()
        for sock in stalled:
            sock.close()
    print(f"held after {3 * UPDATES} updates to 2 unread subscribers: {grown / 1024:.0f} KiB")
    assert grown < 12 * 1024 * 1024  # the unread streams' bounded queues, not 6,000 x 2 updates
