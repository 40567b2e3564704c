"""Complete the OAuth 2.1 flow against a protected MCP server with the official Python SDK's
`OAuthClientProvider` (on httpx2) and its Streamable HTTP client, headlessly, and print a
summary; test_auth_interop.py imports `official_summary` and runs it in its own loop.

Usage: python official_auth_client.py URL [AUTH_METHOD]

The redirect handler follows the authorization URL with one GET (the development
authorization server approves at once) and keeps `code`, `state` and `iss` from the 302's
`Location`, which the callback handler hands to the SDK (it checks `state` and `iss`). The
client lists tools, calls `whoami`, then `rotate_secrets`, whose 403 insufficient_scope makes
the provider authorize again for more scopes, and lists and calls once more. AUTH_METHOD is the
`token_endpoint_auth_method` it registers with (default `none`). It prints one JSON object
(the shape of peers/ts_auth_client.mjs) and exits 0, or the error and exits 1.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

__all__ = ["REDIRECT_URI", "HeadlessBrowser", "SdkMemoryStorage", "json_text", "official_summary"]

REDIRECT_URI = "http://127.0.0.1:3030/callback"  # never served: the code is read from Location
WAIT = 10.0  # seconds: a bound on one HTTP exchange, not a measurement
OVERALL_TIMEOUT = 25.0  # seconds: below the tests' own bound, so the failure is reported here


class SdkMemoryStorage:
    """The official SDK's TokenStorage, in memory."""

    def __init__(self) -> None:
        self.tokens: Any = None
        self.client: Any = None

    async def get_tokens(self) -> Any:
        return self.tokens

    async def set_tokens(self, tokens: Any) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> Any:
        return self.client

    async def set_client_info(self, client_info: Any) -> None:
        self.client = client_info


class HeadlessBrowser:
    """The official SDK's redirect and callback handlers without a browser: follow the
    authorization URL with one GET and read the answer from the 302's Location."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self.answer: dict[str, list[str]] = {}

    async def redirect(self, url: str) -> None:
        self.urls.append(url)
        async with httpx.AsyncClient(timeout=WAIT) as browser:
            response = await browser.get(url)
        assert response.status_code == 302, response.text
        location = response.headers["location"]
        assert location.startswith(REDIRECT_URI + "?"), location
        self.answer = parse_qs(urlsplit(location).query)

    async def callback(self) -> Any:
        from mcp.client.auth import AuthorizationCodeResult

        found = self.answer
        return AuthorizationCodeResult(
            code=found["code"][0], state=found["state"][0], iss=found.get("iss", [None])[0]
        )


async def official_summary(url: str, auth_method: str = "none") -> dict[str, Any]:
    """The official Python SDK's OAuthClientProvider against `url`, registering with token
    endpoint authentication `auth_method`."""
    import httpx2
    from mcp import ClientSession
    from mcp.client.auth import OAuthClientProvider
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared.auth import OAuthClientMetadata

    browser = HeadlessBrowser()
    storage = SdkMemoryStorage()
    metadata = OAuthClientMetadata(
        redirect_uris=[REDIRECT_URI],  # type: ignore[list-item]  # pydantic converts
        client_name="official-interop",
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        token_endpoint_auth_method=auth_method,  # type: ignore[arg-type]  # a Literal
    )
    provider = OAuthClientProvider(url, metadata, storage, browser.redirect, browser.callback)
    async with (
        asyncio.timeout(OVERALL_TIMEOUT),
        httpx2.AsyncClient(auth=provider, timeout=WAIT) as http,
        streamable_http_client(url, http_client=http) as (read, write, *_),
        ClientSession(read, write) as session,
    ):
        init = await session.initialize()
        tools = sorted(tool.name for tool in (await session.list_tools()).tools)
        whoami = await session.call_tool("whoami", {})
        # A 403 insufficient_scope: the provider authorizes again, for more scopes, and retries.
        rotated = await session.call_tool("rotate_secrets", {})
        tools_after = sorted(tool.name for tool in (await session.list_tools()).tools)
        whoami_after = await session.call_tool("whoami", {})
    assert storage.client is not None and storage.tokens is not None
    return {
        "client": "official",
        "server_name": init.server_info.name,
        "tools": tools,
        "whoami": json_text(whoami),
        "client_id": storage.client.client_id,
        "auth_method": storage.client.token_endpoint_auth_method,
        "has_secret": bool(storage.client.client_secret),
        "token_type": storage.tokens.token_type,
        "refresh_token": bool(storage.tokens.refresh_token),
        "authorization_urls": browser.urls,
        "iss": browser.answer.get("iss", [None])[0],
        "step_up": {
            "result": rotated.content[0].text,  # type: ignore[union-attr]
            "tools": tools_after,
            "whoami": json_text(whoami_after),
        },
    }


def json_text(result: Any) -> Any:
    """A tool result's first text block, as JSON."""
    return json.loads(result.content[0].text)


if __name__ == "__main__":
    try:
        summary = asyncio.run(official_summary(*sys.argv[1:3]))
    except Exception as exc:  # the peer's contract: the error on stderr, exit 1
        print(f"official_auth_client.py: {exc!r}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps(summary))
