"""A 2026-07-28 request whose `_meta` the server read before is served with that `_meta` left
undecoded until something reads it (`mcpkit.protocol.unread_meta`): what a handler, a
middleware and the session make of it is what they made of it decoded, on the first request
(read the general way) and on those after it (read by `ServerSession.read_sessionless`'s fold).
The progress token is looked for only where the `_meta`'s bytes may name one; the
`MCP-Protocol-Version` header is checked against the revision the terms were read from."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest
from _inprocess import asgi_request, final_answer
from _serving import WAIT, headers

from mcpkit import Context, Server
from mcpkit.protocol.unread_meta import UNREAD_TYPES

REVISION = "2026-07-28"
TERMS = (
    '"io.modelcontextprotocol/protocolVersion":"2026-07-28",'
    '"io.modelcontextprotocol/clientCapabilities":{},'
    '"io.modelcontextprotocol/clientInfo":{"name":"t","version":"1"}'
)


def body(meta: str, rid: int) -> bytes:
    """A tools/call of `seen` with `meta` (JSON text) as its `_meta`, written as sent."""
    return (
        f'{{"jsonrpc":"2.0","id":{rid},"method":"tools/call",'
        f'"params":{{"name":"seen","arguments":{{}},"_meta":{meta}}}}}'
    ).encode()


def modern(revision: str = REVISION) -> dict[str, str]:
    return headers(
        host="127.0.0.1",
        **{"mcp-protocol-version": revision, "mcp-method": "tools/call", "mcp-name": "seen"},
    )


class Seen:
    def __init__(self) -> None:
        self.metas: list[Any] = []
        self.tokens: list[Any] = []
        self.middleware: list[Any] = []


def make_server(seen: Seen, *, middleware: bool) -> Server:
    async def look(ctx: Context, params: Any, call_next: Any) -> Any:
        # (the params' type, then what Python code reads of them, then what their encoding
        # says: the same `_meta` either way)
        unread = type(params) in UNREAD_TYPES
        encoded = msgspec.json.decode(msgspec.json.encode(params))["_meta"]
        seen.middleware.append((unread, params.meta, encoded, params.meta is ctx.meta))
        return await call_next(params)

    server = Server("unread-meta", middleware=[look] if middleware else [])

    @server.tool("seen")
    def record(ctx: Context) -> str:
        seen.metas.append(ctx.meta)
        seen.tokens.append(ctx.progress_token)
        return "ok"

    return server


async def calls(server: Server, meta: str, times: int = 3, revision: str = REVISION) -> list[Any]:
    app = server.http_app(json_response=True)
    answers = []
    async with asyncio.timeout(WAIT):
        for rid in range(1, times + 1):
            sent = await asgi_request(app, "POST", modern(revision), body(meta, rid))
            answers.append(final_answer(sent))
    return answers


async def test_a_handler_gets_the_meta_as_sent_first_and_after() -> None:
    seen = Seen()
    answers = await calls(make_server(seen, middleware=False), f'{{{TERMS},"x":[1,{{}}]}}')
    assert [a["result"]["content"][0]["text"] for a in answers] == ["ok"] * 3
    sent = msgspec.json.decode(f'{{{TERMS},"x":[1,{{}}]}}'.encode())
    assert seen.metas == [sent] * 3
    assert all(type(meta) is dict for meta in seen.metas)
    assert seen.tokens == [None] * 3


async def test_a_middleware_sees_a_dict_and_the_context_the_same_one() -> None:
    seen = Seen()
    await calls(make_server(seen, middleware=True), f"{{{TERMS}}}")
    sent = msgspec.json.decode(f"{{{TERMS}}}".encode())
    # No request's `_meta` was decoded (the first's terms read from it, the later ones' found
    # by its bytes) until the middleware read it: a dict all the same, the Context's own.
    assert seen.middleware == [
        (True, sent, sent, True),
        (True, sent, sent, True),
        (True, sent, sent, True),
    ]
    assert seen.metas == [sent] * 3


@pytest.mark.parametrize(
    ("member", "token"),
    [
        ('"progressToken":7', 7),
        ('"progressToken":"p"', "p"),
        ('"progressToken":true', None),  # (a bool is no token)
        ('"progressToken":[1]', None),
        ('"progress\\u0054oken":9', 9),  # (spelt with an escape: no name in the bytes)
        ('"note":"progressToken"', None),  # (the name in a value: looked for, not found)
        ('"note":"a\\\\b"', None),
    ],
)
async def test_the_progress_token_is_found_as_before(member: str, token: object) -> None:
    seen = Seen()
    await calls(make_server(seen, middleware=False), f"{{{TERMS},{member}}}")
    assert seen.tokens == [token] * 3


async def test_a_revision_header_that_disagrees_is_refused_on_a_known_meta() -> None:
    seen = Seen()
    server = make_server(seen, middleware=False)
    app = server.http_app(json_response=True)
    async with asyncio.timeout(WAIT):
        for rid in (1, 2):  # (the `_meta` read, then known)
            sent = await asgi_request(app, "POST", modern(), body(f"{{{TERMS}}}", rid))
            assert final_answer(sent)["result"]["content"][0]["text"] == "ok"
        sent = await asgi_request(app, "POST", modern("2025-11-25"), body(f"{{{TERMS}}}", 3))
    assert sent[0]["status"] == 400
    assert final_answer(sent)["error"]["code"] == -32020
    assert len(seen.metas) == 2
