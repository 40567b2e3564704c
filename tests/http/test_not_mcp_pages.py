"""A URL that answers with a web page (an HTML 404, a login page) rather than MCP fails with
one line naming the status and what the page is (its title), never the page's markup."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from _serving import WAIT, serving

from mcpkit import Client, McpkitError
from mcpkit.transports.http_client._wire import describe_page, read_refusal

NOT_FOUND = b"""<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>404 Not Found</title>
<style>
body { font-family: sans-serif; }
</style>
</head>
<body>
<h1>Not Found</h1>
<p>The requested URL was not found on this server.</p>
</body>
</html>
"""
LOGIN = (
    b"<html><head><title>\n  Sign in - Acme SSO\n</title></head><body><form></form></body></html>"
)


def page_app(status: int, body: bytes, kind: bytes = b"text/html; charset=utf-8") -> Any:
    """A web server with no MCP at all: every request gets the same page."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        headers = [(b"content-type", kind)] if kind else []
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


BAD_GATEWAY = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
CASES = [
    (404, NOT_FOUND, "404 Not Found: an HTML page titled '404 Not Found'", "check the URL's path"),
    (200, LOGIN, "200 OK: an HTML page titled 'Sign in - Acme SSO'", "check the URL"),
    (401, LOGIN, "401 Unauthorized: an HTML page titled 'Sign in - Acme SSO'", "check the URL"),
]
NOT_MCP = "(not an MCP endpoint: {})"


@pytest.mark.parametrize("protocol", ["auto", "2025-11-25", "2026-07-28"])
@pytest.mark.parametrize(("status", "body", "says", "check"), CASES)
async def test_a_web_page_is_named_in_one_line(
    protocol: str, status: int, body: bytes, says: str, check: str
) -> None:
    async with asyncio.timeout(WAIT), serving(page_app(status, body)) as base:
        with pytest.raises(McpkitError) as caught:
            async with Client(base + "/mcp", protocol=protocol):
                pass
    text = str(caught.value)
    assert f"{base}/mcp answered HTTP {says} {NOT_MCP.format(check)}" in text, text
    assert "\n" not in text and "<" not in text, text


@pytest.mark.parametrize("protocol", ["auto", "2025-11-25", "2026-07-28"])
async def test_an_error_page_is_not_blamed_on_the_url(protocol: str) -> None:
    """A 5xx page is a proxy's or a framework's: the URL may well be right, the server down."""
    async with asyncio.timeout(WAIT), serving(page_app(502, BAD_GATEWAY)) as base:
        with pytest.raises(McpkitError) as caught:
            async with Client(base + "/mcp", protocol=protocol):
                pass
    text = str(caught.value)
    said = "HTTP 502 Bad Gateway: an HTML page titled '502 Bad Gateway' (an error page, not an"
    assert f"{base}/mcp answered {said} MCP answer)" in text, text
    assert "\n" not in text and "<" not in text, text


def test_a_page_is_told_by_its_content_type_or_its_first_tag() -> None:
    assert (
        describe_page(b"<p>hi</p>", "text/html")
        == "an HTML page (not an MCP endpoint: check the URL)"
    )
    assert describe_page(LOGIN, "", 403) is not None  # no content type: its markup says it
    assert describe_page(NOT_FOUND, "text/plain", 404) == (
        "an HTML page titled '404 Not Found' (not an MCP endpoint: check the URL's path)"
    )
    assert describe_page(b"Not Found", "text/plain", 404) is None


def test_other_bodies_are_one_line_and_json_rpc_errors_are_read() -> None:
    assert read_refusal(b"bad gateway\n  upstream\tdown\n") == ("bad gateway upstream down", None)
    error = b'{"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"Bad session"}}'
    assert read_refusal(error, content_type="application/json") == ("Bad session", -32600)
    assert read_refusal(NOT_FOUND, content_type="text/html", status=404)[0].startswith(
        "an HTML page titled '404 Not Found'"
    )
