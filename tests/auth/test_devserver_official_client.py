"""The official Python SDK's OAuth client (PyPI `mcp`) completes the whole flow against the
development authorization server over real HTTP: discovery, dynamic registration, PKCE with
the redirect followed headlessly, the `iss` check (RFC 9207), the token, and calls carrying it.

The MCP endpoint here sits behind a stub that only asks for a bearer token (401 with
`resource_metadata`, and the RFC 9728 document): the real protected server is tested with
this authorization server in the resource tests."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import httpx2
from _devserver_helpers import WAIT, read_jwt, serving
from _serving import small_server
from mcp import ClientSession
from mcp.client.auth import AuthorizationCodeResult, OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

from mcpkit.auth.devserver import DevAuthorizationServer
from mcpkit.auth.metadata import ProtectedResourceMetadata, encode


class MemoryStorage:
    """The SDK's TokenStorage, in memory."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client = client_info


async def answer(send: Any, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    length = (b"content-length", str(len(body)).encode())
    await send({"type": "http.response.start", "status": status, "headers": [*headers, length]})
    await send({"type": "http.response.body", "body": body})


def same_origin_app(auth: DevAuthorizationServer, bearers: list[bytes]) -> Any:
    """The authorization server's paths, the RFC 9728 document, and /mcp behind a bearer stub."""
    mcp = small_server("behind-a-stub").http_app()

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await mcp(scope, receive, send)
        headers = dict(scope["headers"])
        base = "http://" + headers[b"host"].decode()
        if scope["path"] in auth.routes:
            return await auth(scope, receive, send)
        if scope["path"].startswith("/.well-known/oauth-protected-resource"):
            document = ProtectedResourceMetadata(
                resource=base + "/mcp", authorization_servers=[base]
            )
            return await answer(
                send, 200, encode(document), [(b"content-type", b"application/json")]
            )
        if b"authorization" not in headers:
            challenge = (
                f'Bearer resource_metadata="{base}/.well-known/oauth-protected-resource/mcp"'
            )
            return await answer(send, 401, b"", [(b"www-authenticate", challenge.encode())])
        bearers.append(headers[b"authorization"])
        return await mcp(scope, receive, send)

    return app


async def test_the_official_oauth_client_completes_the_flow() -> None:
    auth = DevAuthorizationServer()
    bearers: list[bytes] = []
    redirected: dict[str, list[str]] = {}

    async def follow(url: str) -> None:  # the "browser": the server approves at once
        async with httpx.AsyncClient(timeout=WAIT) as browser:
            response = await browser.get(url)
        assert response.status_code == 302
        redirected.update(parse_qs(urlsplit(response.headers["location"]).query))

    async def callback() -> AuthorizationCodeResult:
        return AuthorizationCodeResult(
            code=redirected["code"][0], state=redirected["state"][0], iss=redirected["iss"][0]
        )

    metadata = OAuthClientMetadata(
        redirect_uris=["http://localhost:3030/callback"],  # type: ignore[list-item]  # pydantic converts
        client_name="official",
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
    )
    storage = MemoryStorage()
    async with asyncio.timeout(WAIT), serving(same_origin_app(auth, bearers)) as base:
        provider = OAuthClientProvider(base + "/mcp", metadata, storage, follow, callback)
        async with (
            httpx2.AsyncClient(auth=provider) as http,
            streamable_http_client(base + "/mcp", http_client=http) as (read, write, *_),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            result = await session.call_tool("add", {"a": 1, "b": 2})
        async with httpx.AsyncClient(timeout=WAIT) as http:
            claims = (
                await read_jwt(http, base, bearers[-1].decode().removeprefix("Bearer "))
            ).claims
    assert result.structured_content == {"result": 3}
    assert storage.client is not None and claims["client_id"] == storage.client.client_id
    assert claims["aud"] == base + "/mcp" and claims["iss"] == base and claims["sub"] == "dev-user"
    assert storage.tokens is not None and storage.tokens.refresh_token
