"""A POST body that comes in several ASGI messages (a client that sends it in pieces) is read
whole and served as one that comes in one; past the size limit it is refused with 413, in
either era."""

from __future__ import annotations

import itertools

import msgspec
import pytest
from _inprocess import asgi_request

from mcpkit import Server

MODERN_CALL = (
    b'{"jsonrpc":"2.0","id":7,"method":"tools/call",'
    b'"params":{"name":"echo","arguments":{"text":"hello"},"_meta":{'
    b'"io.modelcontextprotocol/protocolVersion":"2026-07-28",'
    b'"io.modelcontextprotocol/clientCapabilities":{}}}}'
)
HEADERS = {
    "host": "127.0.0.1:8000",
    "content-type": "application/json",
    "accept": "application/json, text/event-stream",
    "mcp-protocol-version": "2026-07-28",
    "mcp-method": "tools/call",
    "mcp-name": "echo",
}


def make_server(max_message_size: int = 1 << 20) -> Server:
    server = Server("chunks", max_message_size=max_message_size)

    @server.tool()
    def echo(text: str) -> str:
        return text

    return server


@pytest.mark.parametrize("cuts", [[], [10], [1, 50, 120]])
async def test_a_body_in_pieces_is_served_as_one_in_one_message(cuts: list[int]) -> None:
    app = make_server().http_app(json_response=True)
    async with app.lifespan():
        bounds = [0, *cuts, len(MODERN_CALL)]
        pieces = [MODERN_CALL[a:b] for a, b in itertools.pairwise(bounds)]
        sent = await asgi_request(app, "POST", HEADERS, pieces)
    assert sent[0]["status"] == 200
    answer = msgspec.json.decode(b"".join(m.get("body", b"") for m in sent[1:]))
    assert answer["id"] == 7
    assert answer["result"]["content"] == [{"type": "text", "text": "hello"}]


@pytest.mark.parametrize("pieces", [1, 3])
async def test_a_body_past_the_limit_is_413_in_one_message_or_in_pieces(pieces: int) -> None:
    app = make_server(max_message_size=64).http_app(json_response=True)
    async with app.lifespan():
        size = -(-len(MODERN_CALL) // pieces)
        parts = [MODERN_CALL[i : i + size] for i in range(0, len(MODERN_CALL), size)]
        sent = await asgi_request(app, "POST", HEADERS, parts)
    assert sent[0]["status"] == 413
