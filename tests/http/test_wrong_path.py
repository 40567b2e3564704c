"""A client pointed at a path the server does not serve (its root, most often: the URL without
`/mcp`): both transports get 404, and the error says the path is likely wrong and which one to
try, instead of a story about falling back to HTTP+SSE; the server's own 404 names its
endpoint (issue 63)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from _serving import WAIT, serving
from starlette.applications import Starlette
from starlette.routing import Mount

from mcpkit import Client, ConnectionClosed, Server
from mcpkit._asgi import Receive, Scope, Send, send_whole


def make_server() -> Server:
    server = Server("paths")

    @server.tool()
    def ping() -> str:
        return "pong"

    return server


@pytest.mark.parametrize("path", ["", "/", "/mpc"])
async def test_a_url_without_the_endpoint_gets_a_short_message_naming_it(path: str) -> None:
    async with asyncio.timeout(WAIT), serving(make_server().http_app()) as base:
        with pytest.raises(ConnectionClosed) as raised:
            async with Client(base + path):
                pass
        async with Client(base + "/mcp") as client:  # where the message points
            assert (await client.call_tool("ping", {})).text == "pong"
    said = str(raised.value)
    assert said == (
        f"{base}{path} answered 404 to both Streamable HTTP and HTTP+SSE: this server's MCP "
        f"endpoint is /mcp: try {base}/mcp"
    )


async def test_the_endpoint_the_server_names_is_the_one_suggested() -> None:
    async with asyncio.timeout(WAIT), serving(make_server().http_app(path="/api")) as base:
        with pytest.raises(ConnectionClosed, match=r"endpoint is /api: try http\S+/api$"):
            async with Client(base + "/mcp"):
                pass


async def test_another_servers_404_gets_mcpkits_endpoint_as_a_guess() -> None:
    async def not_found(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await send_whole(send, 404, b"nothing here", [(b"content-type", b"text/plain")])

    async with asyncio.timeout(WAIT), serving(not_found) as base:
        with pytest.raises(ConnectionClosed) as raised:
            async with Client(base + "/"):
                pass
    said = str(raised.value)
    assert said.startswith(f"{base}/ answered 404 to both Streamable HTTP and HTTP+SSE (")
    assert said.endswith(f"): is the path right? mcpkit servers serve /mcp: try {base}/mcp")


async def test_the_404_body_names_the_endpoint_also_below_a_mount_point() -> None:
    plain = make_server().http_app()
    mounted = make_server().http_app()
    outer = Starlette(routes=[Mount("/tenant", app=mounted)], lifespan=lambda _: mounted.lifespan())
    async with asyncio.timeout(WAIT), httpx.AsyncClient(timeout=WAIT) as http:
        async with serving(plain) as base:
            root = await http.post(base + "/", json={})
        async with serving(outer) as base:
            below = await http.get(base + "/tenant/other")
    assert root.status_code == below.status_code == 404
    said = "no MCP endpoint at this path: this server's MCP endpoint is"
    assert root.json()["error"]["message"] == f"{said} /mcp"
    assert below.json()["error"]["message"] == f"{said} /tenant/mcp"
