"""The HTTP client's own connections: an idle one is not reused once a server may be closing
it, and a transport error with no message still says what failed
(`mcpkit.transports.http_client`)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from mcpkit.transports.http_client import _endpoint_requests
from mcpkit.transports.http_client._endpoint_requests import EndpointRequests, RequestFailed
from mcpkit.transports.http_client.transport import StreamableHttpTransport

ANSWER = b'{"jsonrpc":"2.0","id":1,"result":{}}'


class CountingServer:
    """An HTTP/1.1 server on 127.0.0.1 that answers each request with `ANSWER`, keeps each
    connection open, and counts the connections it was given."""

    def __init__(self) -> None:
        self.connections = 0
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.writers.append(writer)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    b"content-length: %d\r\n\r\n%s" % (len(ANSWER), ANSWER)
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in self.writers:
            writer.close()
            try:
                await writer.wait_closed()
            except ConnectionError:
                pass
        await self.server.wait_closed()


async def test_an_idle_connection_is_not_reused_past_the_keepalive_expiry(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An idle connection is dropped before a server's usual 5 s idle close, so a request
    never races the server closing it (KEEPALIVE_EXPIRY; scaled down here)."""
    monkeypatch.setattr(_endpoint_requests, "KEEPALIVE_EXPIRY", 0.05)
    server = CountingServer()
    port = await server.start()
    http = StreamableHttpTransport(f"http://127.0.0.1:{port}/mcp")
    http.open()
    client = http.http_client
    try:
        async with asyncio.timeout(10):
            answer = await client.post(f"http://127.0.0.1:{port}/mcp", content=b"{}")
            assert answer.content == ANSWER
            before = server.connections
            await asyncio.sleep(0.2)  # idle past the expiry (a busy machine only adds to it)
            answer = await client.post(f"http://127.0.0.1:{port}/mcp", content=b"{}")
            assert answer.content == ANSWER
            assert server.connections == before + 1  # a new one, not the idle one
    finally:
        await client.aclose()
        await server.stop()


async def test_a_transport_error_without_a_message_is_named() -> None:
    """httpx errors may carry no text (a read reset): the failure names the error's type."""

    def fail(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadError("")

    http = EndpointRequests(
        "http://127.0.0.1:9/mcp",
        headers={},
        auth=None,
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(fail)),
        timeout=5.0,
        sse_read_timeout=5.0,
    )
    http.open()
    with pytest.raises(RequestFailed, match=r"cannot reach http://127\.0\.0\.1:9/mcp: ReadError$"):
        await http.send_request("POST", {}, b"{}", streaming=False)
