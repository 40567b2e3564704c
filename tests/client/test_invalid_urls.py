"""A malformed URL or an impossible port is one clear `InvalidUrl` (a ValueError in mcpkit's
tree) naming the part at fault, raised by `Client(...)` itself, before any connection is
tried (the command line's one `error:` line for it: tests/cli/test_error_lines.py)."""

from __future__ import annotations

import asyncio
import socket

import pytest

from mcpkit import Client, InvalidUrl, McpkitError, ProxyServer, TransportError
from mcpkit.transports.http_client import StreamableHttpTransport

BAD = {
    "http://[::1": ("host", "no closing ']'"),
    "http://[::1]x/mcp": ("host", "follows the IPv6 address"),
    "http://[zz]/mcp": ("host", "[zz] is not an IPv6 address"),
    "http://::1/mcp": ("host", "an IPv6 address goes in brackets"),
    "http://:80/mcp": ("host", "names no host"),
    "http:///mcp": ("host", "names no host"),
    "http://127.0.0.1:99999/mcp": ("port", "'99999' is not a number from 1 to 65535"),
    "http://127.0.0.1:0/mcp": ("port", "'0' is not a number from 1 to 65535"),
    "https://example.com:http/mcp": ("port", "'http' is not a number"),
    "http://exa mple.com/mcp": ("characters", "has a space in it"),
    "http://example.com/mcp\n": ("characters", "control character"),
    "ws://example.com/mcp": ("scheme", "ws:// is not a transport mcpkit speaks"),
}
GOOD = [
    "http://127.0.0.1:8000/mcp",
    "http://[::1]:8000/mcp",
    "https://user:secret@example.com/mcp?key=1#frag",
    "http://localhost/mcp",
    "HTTPS://Example.COM:65535/",
]


@pytest.mark.parametrize("url", list(BAD))
def test_client_refuses_a_malformed_url_at_once(url: str) -> None:
    part, says = BAD[url]
    with pytest.raises(InvalidUrl) as caught:
        Client(url)  # no event loop, no connect: refused by the constructor itself
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, McpkitError)
    assert (caught.value.url, caught.value.part) == (url, part)
    assert says in str(caught.value) and "\n" not in str(caught.value)
    with pytest.raises(InvalidUrl):
        StreamableHttpTransport(url)
    with pytest.raises(InvalidUrl):
        ProxyServer(url)  # a proxy's upstream too, when it is made


@pytest.mark.parametrize("url", GOOD)
def test_well_formed_urls_are_taken(url: str) -> None:
    assert Client(url).target == url
    StreamableHttpTransport(url)


def test_a_command_with_a_url_among_its_words_is_still_a_command() -> None:
    Client("npx -y some-server --url http://[::1")  # a command's arguments are its own


async def test_a_scheme_in_capitals_is_still_a_url() -> None:
    """Not a command named `HTTP://...`: the connection is tried, and refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with asyncio.timeout(10):
        with pytest.raises(TransportError, match="cannot reach"):
            async with Client(f"HTTP://127.0.0.1:{port}/mcp"):
                pass
