"""Issue 64: past `max_connections` with every connection busy, the address holding the most
loses its oldest; when every address held as many (one listen each from 299 addresses under
`--max-connections 300`), each newcomer got 503. Now the oldest GET stream goes: its client
resumes it (`Last-Event-ID`), nobody's answer waits on it."""

from __future__ import annotations

import asyncio
import logging

import httpx
import msgspec
import pytest
from _serving import VERSION, WAIT, open_session, serving

from mcpkit import Server
from mcpkit.transports.deployment.app import McpHttpApp

URL = "http://127.0.0.1/mcp"


async def listen(
    base: str, source: str, sid: str
) -> tuple[bytes, asyncio.StreamReader, asyncio.StreamWriter]:
    """A session's GET stream on a connection from `source` (an address of the loopback
    network): the response's head, and the connection, left open."""
    port = int(base.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    writer.write(
        f"GET /mcp HTTP/1.1\r\nhost: 127.0.0.1\r\naccept: text/event-stream\r\n"
        f"mcp-session-id: {sid}\r\nmcp-protocol-version: {VERSION}\r\n\r\n".encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    return head, reader, writer


async def test_when_every_address_holds_as_many_the_oldest_listen_goes() -> None:
    app = McpHttpApp(Server("listens"), max_connections=3)
    async with (
        asyncio.timeout(WAIT),
        serving(app, http=app.uvicorn_protocol()) as base,
        # The sessions are opened in process: no connection of theirs counts.
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as here,
    ):
        sids = [await open_session(here, URL) for _ in range(4)]
        held = [await listen(base, f"127.0.0.{n + 2}", sid) for n, sid in enumerate(sids[:3])]
        assert all(head.startswith(b"HTTP/1.1 200 ") for head, _, _ in held)
        head, _, newcomer = await listen(base, "127.0.0.9", sids[3])
        assert head.startswith(b"HTTP/1.1 200 "), head
        oldest = held[0][1]
        while await oldest.read(65536):  # what it was sent, then the end of the connection
            pass
        for _, _, writer in (*held, (b"", None, newcomer)):
            writer.close()


def listen_request(port: int, rid: str) -> bytes:
    """A 2026-07-28 `subscriptions/listen` POST, whole."""
    body = msgspec.json.encode(
        {
            "jsonrpc": "2.0",
            "id": rid,
            "method": "subscriptions/listen",
            "params": {
                "notifications": {"toolsListChanged": True},
                "_meta": {
                    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                    "io.modelcontextprotocol/clientCapabilities": {},
                },
            },
        }
    )
    head = (
        f"POST /mcp HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\n"
        "accept: application/json, text/event-stream\r\nmcp-protocol-version: 2026-07-28\r\n"
        f"mcp-method: subscriptions/listen\r\ncontent-length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def subscribe(
    base: str, source: str, rid: str
) -> tuple[bytes, asyncio.StreamReader, asyncio.StreamWriter]:
    """A 2026-07-28 listen from `source`, acknowledged: the response's head, and the
    connection, left open."""
    port = int(base.rsplit(":", 1)[1])
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    writer.write(listen_request(port, rid))
    head = await reader.readuntil(b"\r\n\r\n")
    if head.startswith(b"HTTP/1.1 200 "):
        assert b"subscriptions/acknowledged" in await reader.readuntil(b"\n\n")
    return head, reader, writer


async def test_a_tie_of_2026_listens_ends_the_oldest_too() -> None:
    # A `subscriptions/listen` is a listen as a GET stream is: nobody's answer waits on it,
    # and its client opens another. Before, four of them from four addresses under
    # max_connections 4 left every newcomer 503.
    server = Server("listens")
    app = McpHttpApp(server, max_connections=4)
    async with asyncio.timeout(WAIT), serving(app, http=app.uvicorn_protocol()) as base:
        held = [await subscribe(base, f"127.0.0.{n}", f"L{n}") for n in range(2, 6)]
        assert all(head.startswith(b"HTTP/1.1 200 ") for head, _, _ in held)
        head, _, newcomer = await subscribe(base, "127.0.0.9", "new")
        assert head.startswith(b"HTTP/1.1 200 "), head
        oldest = held[0][1]
        while await oldest.read(65536):  # what it was sent, then the end of the connection
            pass
        for _, _, writer in (*held, (b"", None, newcomer)):
            writer.close()


async def test_the_greedy_addresss_newcomer_never_ends_another_addresss_listen(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # One address holds three of four connections, another one (the oldest listen): the
    # first's newcomer is refused, as its flood must fall on itself. Before, it ended the
    # other address's listen, the oldest.
    app = McpHttpApp(Server("listens"), max_connections=4)
    async with (
        asyncio.timeout(WAIT),
        serving(app, http=app.uvicorn_protocol()) as base,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as here,
    ):
        sids = [await open_session(here, URL) for _ in range(5)]
        sources = ["127.0.0.2", "127.0.0.3", "127.0.0.3", "127.0.0.3"]
        held = [await listen(base, source, sid) for source, sid in zip(sources, sids, strict=False)]
        assert all(head.startswith(b"HTTP/1.1 200 ") for head, _, _ in held)
        with caplog.at_level(logging.INFO, logger="mcpkit.http"):
            head, _, newcomer = await listen(base, "127.0.0.3", sids[4])
        assert head.startswith(b"HTTP/1.1 503 "), head
        assert "closed the oldest listen" not in caplog.text
        assert "refused a connection: max_connections (4) are busy" in caplog.text
        for _, _, writer in (*held, (b"", None, newcomer)):
            writer.close()
