"""Server Cards (SEP-2127, experimental): `server.publish_card(...)` serves examples/everything.py's
card at `<endpoint>/server-card` and, with `catalog=True`, the AI Catalog at
`/.well-known/ai-catalog.json`, built from what the server knows (its serverInfo, the revisions
it speaks, its bearer token, its legacy SSE transport) and the public URL it was given, with
the caching and CORS headers the extension asks for; nothing private in it; `Client.fetch_card`
and `fetch_server_card` read and check one before connecting, and refuse what is not one."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from _examples import fresh_example
from _serving import WAIT, serving

from mcpkit import Client, Server
from mcpkit.auth.server.resource import ProtectedResource
from mcpkit.auth.server.verifier import AccessToken
from mcpkit.client.card_reader import (
    MAX_CARD_BYTES,
    ServerCardInvalid,
    card_url,
    fetch_server_card,
)
from mcpkit.errors import ConnectionFailed, InvalidToken
from mcpkit.types.server_card import CARD_MEDIA_TYPE, CARD_SCHEMA_URL, card_problems

PUBLIC = "https://mcp.example.com/mcp"
NAME = "com.example/everything"


def everything() -> Server:
    """A fresh examples/everything.py server (each test publishes its own card)."""
    return fresh_example("everything.py", "card_everything")


def published(**options: Any) -> Server:
    server = everything()
    server.publish_card(NAME, PUBLIC, repository="https://github.com/example/everything", **options)
    return server


async def test_the_card_of_everything_served_by_uvicorn_and_read_by_the_client() -> None:
    server = published()
    async with serving(server.http_app()) as base:
        async with httpx.AsyncClient(timeout=WAIT) as http:
            raw = await http.get(base + "/mcp/server-card", headers={"accept": CARD_MEDIA_TYPE})
        card = await Client(base + "/mcp").fetch_card()  # no connection made for it
        async with Client(base + "/mcp") as client:  # and the live serverInfo agrees
            assert client.server_info is not None
            assert (client.server_info.name, client.server_info.version) == ("everything", "1.0.0")
    assert raw.status_code == 200
    assert raw.headers["content-type"] == CARD_MEDIA_TYPE
    document = raw.json()
    assert card_problems(document) == []
    assert document["$schema"] == CARD_SCHEMA_URL
    assert (card.name, card.version, card.title) == (NAME, "1.0.0", "Everything example")
    assert card.description == server.info.description
    assert card.website_url == "https://example.com/mcpkit"
    assert card.icons is not None and card.icons[0].src == "https://example.com/icon.png"
    assert card.repository is not None and card.repository.source == "github"
    assert card.remotes is not None
    streamable, sse = card.remotes
    assert (streamable.type, streamable.url) == ("streamable-http", PUBLIC)
    assert streamable.supported_protocol_versions == [
        "2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"
    ]  # fmt: skip
    assert (sse.type, sse.url, sse.supported_protocol_versions) == (
        "sse", "https://mcp.example.com/sse", ["2024-11-05"]
    )  # fmt: skip
    assert streamable.headers is None  # no auth: no Authorization asked for


async def test_nothing_private_leaves_through_the_card_or_the_catalog() -> None:
    server = published(catalog=True)
    async with Client(server) as client:  # what the server offers, in memory
        tools = [tool.name for tool in await client.list_tools()]
    assert "add" in tools
    async with serving(server.http_app()) as base:
        async with httpx.AsyncClient(base_url=base, timeout=WAIT) as http:
            card = (await http.get("/mcp/server-card")).text
            catalog = (await http.get("/.well-known/ai-catalog.json")).text
    for text in (card, catalog):
        for name in tools:
            assert f'"{name}"' not in text, name
        assert "127.0.0.1" not in text  # the bound address: only the public URL is named
        assert "capabilities" not in text and "tools" not in json.loads(text)
        assert "Start with the" not in text  # the instructions are for a connected client


async def test_the_catalog_points_to_the_card_at_its_public_url() -> None:
    app = published(catalog=True).http_app()
    async with app.lifespan(), _inprocess(app) as client:
        answer = await client.get("/.well-known/ai-catalog.json")
        unpublished = await _inprocess_get(published().http_app(), "/.well-known/ai-catalog.json")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/ai-catalog+json"
    assert answer.json() == {
        "specVersion": "1.0",
        "entries": [
            {
                "identifier": "urn:air:example.com:mcp:everything",
                "type": CARD_MEDIA_TYPE,
                "url": PUBLIC + "/server-card",
            }
        ],
    }
    assert unpublished.status_code == 404  # catalog=False: the host is not this app's


async def test_caching_and_cors_headers_and_a_304_for_a_known_tag() -> None:
    app = published().http_app()
    async with app.lifespan(), _inprocess(app) as client:
        first = await client.get("/mcp/server-card")
        again = await client.get(
            "/mcp/server-card", headers={"if-none-match": first.headers["etag"]}
        )
        weak = await client.get(
            "/mcp/server-card", headers={"if-none-match": "W/" + first.headers["etag"]}
        )
        other = await client.get("/mcp/server-card", headers={"if-none-match": '"nope"'})
        head = await client.head("/mcp/server-card")
        preflight = await client.options("/mcp/server-card")
        posted = await client.post("/mcp/server-card", content=b"{}")
    assert first.headers["cache-control"] == "public, max-age=3600"
    assert first.headers["access-control-allow-origin"] == "*"
    assert first.headers["access-control-allow-methods"] == "GET"
    assert first.headers["access-control-allow-headers"] == "Content-Type, If-None-Match"
    assert first.headers["access-control-expose-headers"] == "ETag"
    assert (again.status_code, again.content) == (304, b"")
    assert again.headers["etag"] == first.headers["etag"]
    assert weak.status_code == 304
    assert other.status_code == 200 and other.content == first.content
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len(first.content))
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert posted.status_code == 405 and "GET" in posted.headers["allow"]


async def test_a_page_of_any_origin_reads_the_card_of_a_deployed_server() -> None:
    """CORS is open; the Origin check (DNS rebinding protection, on for a loopback bind) still
    keeps a foreign page away from a server on this machine."""
    foreign = {"origin": "https://elsewhere.example"}
    deployed = published().http_app(dns_rebinding_protection=False)
    async with deployed.lifespan(), _inprocess(deployed) as client:
        read = await client.get("/mcp/server-card", headers=foreign)
        preflight = await client.options("/mcp/server-card", headers=foreign)
    local = published().http_app()
    async with local.lifespan(), _inprocess(local) as client:
        refused = await client.get("/mcp/server-card", headers=foreign)
    assert read.status_code == 200 and read.headers["access-control-allow-origin"] == "*"
    assert preflight.status_code == 204
    assert refused.status_code == 403


class _OneToken:
    async def verify(self, token: str, *, resource: str) -> AccessToken:
        raise InvalidToken("no token is good here")


async def test_an_endpoint_behind_a_bearer_token_says_so_and_the_card_stays_open() -> None:
    server = everything()
    server.auth = ProtectedResource(verifier=_OneToken(), resource=PUBLIC)
    server.publish_card(NAME, PUBLIC)
    app = server.http_app(legacy_sse=False)
    async with app.lifespan(), _inprocess(app) as client:
        answer = await client.get("/mcp/server-card")  # no token sent
        refused = await client.post("/mcp", json={})
    assert refused.status_code == 401
    assert answer.status_code == 200
    (remote,) = answer.json()["remotes"]  # legacy_sse=False: the SSE remote is gone too
    (header,) = remote["headers"]
    assert header["name"] == "Authorization"
    assert header["value"] == "Bearer {token}"
    assert header["isSecret"] is True and header["isRequired"] is True


def test_what_cannot_make_a_valid_card_is_refused_where_written() -> None:
    server = everything()
    with pytest.raises(ValueError, match=r"/name: \"everything\" does not match"):
        server.publish_card("everything", PUBLIC)
    with pytest.raises(ValueError, match=r"publish_card\(url='/mcp'\) must be the public"):
        server.publish_card(NAME, "/mcp")
    with pytest.raises(ValueError, match="no query or fragment"):
        server.publish_card(NAME, PUBLIC + "?tenant=a")
    bare = Server("bare")  # no description: the card requires one
    with pytest.raises(ValueError, match=r"/description: .* Server\(description="):
        bare.publish_card("com.example/bare", PUBLIC)
    wordy = Server("wordy", description="x" * 101)
    with pytest.raises(ValueError, match=r"/description: .*longer than 100"):
        wordy.publish_card("com.example/wordy", PUBLIC)
    assert bare.published_card is None and wordy.published_card is None


async def test_no_card_published_no_card_served() -> None:
    answer = await _inprocess_get(everything().http_app(), "/mcp/server-card")
    assert answer.status_code == 404


def test_card_url_appends_the_reserved_suffix_once() -> None:
    assert card_url("https://h.example/mcp") == "https://h.example/mcp/server-card"
    assert card_url("https://h.example/mcp/") == "https://h.example/mcp/server-card"
    assert card_url("https://h.example/mcp/server-card") == "https://h.example/mcp/server-card"


def _handler(status: int, body: bytes, media: str) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        assert request.headers["accept"] == CARD_MEDIA_TYPE
        assert "authorization" not in request.headers
        return httpx.Response(status, content=body, headers={"content-type": media})

    return httpx.MockTransport(answer)


@pytest.mark.parametrize(
    ("status", "body", "media", "said"),
    [
        (404, b"{}", "application/json", "answered 404, not a Server Card"),
        (200, b"<html>", "text/html", "answered text/html, not application/mcp-server-card+json"),
        (200, b"{not json", CARD_MEDIA_TYPE, "is not JSON"),
        (200, b'{"name": "a/b"}', CARD_MEDIA_TYPE, 'breaks its schema: /: "$schema" is a required'),
    ],
)
async def test_what_is_not_a_card_is_refused_saying_why(
    status: int, body: bytes, media: str, said: str
) -> None:
    async with httpx.AsyncClient(transport=_handler(status, body, media)) as http:
        with pytest.raises(ServerCardInvalid) as raised:
            await fetch_server_card("https://h.example/mcp", http_client=http)
    assert said in str(raised.value)


class _Endless(httpx.AsyncByteStream):
    """A card answer streamed as it is read (bounded here at `chunks` of 64 KiB: 64 MiB),
    counting what was read. (Bytes given whole to `httpx.Response` are read, and inflated,
    when it is made, before any client sees them.)"""

    def __init__(self, chunks: int = 1024) -> None:
        self.sent = 0
        self.chunks = chunks

    async def __aiter__(self) -> AsyncIterator[bytes]:
        chunk = b" " * 65536
        for _ in range(self.chunks):
            self.sent += len(chunk)
            yield chunk


async def test_a_card_that_never_ends_is_refused_past_its_bound_unread() -> None:
    body = _Endless()

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=body, headers={"content-type": CARD_MEDIA_TYPE})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        with pytest.raises(ServerCardInvalid, match=f"over the limit of {MAX_CARD_BYTES} bytes"):
            await fetch_server_card("https://h.example/mcp", http_client=http)
    assert body.sent <= MAX_CARD_BYTES + 65536  # read up to the bound, not the 64 MiB


async def test_a_card_declared_too_large_or_compressed_is_refused_before_reading() -> None:
    for headers, said in (
        ({"content-length": str(MAX_CARD_BYTES + 1)}, "over the limit"),
        ({"content-encoding": "gzip"}, r"compressed \(gzip\)"),
    ):

        def answer(request: httpx.Request, headers: dict[str, str] = headers) -> httpx.Response:
            assert request.headers["accept-encoding"] == "identity"
            return httpx.Response(
                200, stream=_Endless(1), headers={"content-type": CARD_MEDIA_TYPE, **headers}
            )

        async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
            with pytest.raises(ServerCardInvalid, match=said):
                await fetch_server_card("https://h.example/mcp", http_client=http)


async def test_an_unreachable_server_is_a_connection_failure() -> None:
    with pytest.raises(
        ConnectionFailed,
        match=r"cannot fetch the Server Card at http://127\.0\.0\.1:9/mcp/server-card",
    ):
        await fetch_server_card("http://127.0.0.1:9/mcp", timeout=WAIT)


async def test_fetch_card_needs_a_url_target() -> None:
    with pytest.raises(ValueError, match="fetch_card needs a URL target"):
        await Client(everything()).fetch_card()


def _inprocess(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://127.0.0.1:8000")


async def _inprocess_get(app: Any, path: str) -> httpx.Response:
    async with app.lifespan(), _inprocess(app) as client:
        return await client.get(path)
