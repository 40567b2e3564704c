"""The approval page's tests' server and browser: a `when_cannot_ask="url"` tool served by
uvicorn on 127.0.0.1, and its page opened and posted with httpx as a browser does."""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import uvicorn

from mcpkit import Context, Server
from mcpkit.auth.server.resource import ProtectedResource
from mcpkit.types import TextContent

__all__ = [
    "ERAS",
    "WAIT",
    "browser_headers",
    "decide",
    "deploying_server",
    "form_fields",
    "link_in",
    "serving",
    "text_of",
]

ERAS = ["2025-11-25", "2026-07-28"]
WAIT = 10.0


def deploying_server(done: list[str], auth: ProtectedResource | None = None) -> Server:
    server = Server("deploys", auth=auth)

    @server.tool(when_cannot_ask="url")
    async def deploy(env: str, ctx: Context) -> str:
        """Deploy to an environment."""
        answer = await ctx.elicit(f"Deploy to {env}?", bool)
        if answer.action != "accept" or not answer.data:
            return f"not deployed: {answer.action}"
        done.append(env)
        return f"deployed to {env}"

    return server


@contextlib.asynccontextmanager
async def serving(server: Server, **settings: Any) -> AsyncIterator[str]:
    """`server.http_app(**settings)` served at a fresh port of 127.0.0.1: yields its base URL."""
    config = uvicorn.Config(
        server.http_app(**settings), lifespan="on", log_level="warning", timeout_graceful_shutdown=2
    )
    running = uvicorn.Server(config)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(128)  # connections wait in the backlog until uvicorn accepts them
        task = asyncio.get_running_loop().create_task(running.serve(sockets=[sock]))
        try:
            yield f"http://127.0.0.1:{sock.getsockname()[1]}"
        finally:
            running.should_exit = True
            async with asyncio.timeout(WAIT):
                await task


def text_of(result: Any) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


def link_in(result: Any) -> str:
    found = re.search(r"open (https?://\S+) and approve", text_of(result))
    assert found is not None, text_of(result)
    return found[1]


def form_fields(page: str) -> dict[str, str]:
    return dict(re.findall(r'name="(\w)" value="([^"]+)"', page))


def browser_headers(link: str) -> dict[str, str]:
    """What a browser adds to the POST of a form on the page at `link` (Fetch: the page's
    origin, under its Referrer-Policy: same-origin; Fetch Metadata: same-origin)."""
    scheme, _, rest = link.partition("://")
    return {"origin": f"{scheme}://{rest.split('/')[0]}", "sec-fetch-site": "same-origin"}


async def decide(web: httpx.AsyncClient, link: str, decision: str = "approve") -> httpx.Response:
    """Open the link and press a button, as the user's browser does."""
    page = await web.get(link)
    assert page.status_code == 200, page.text
    return await web.post(
        link,
        data={**form_fields(page.text), "decision": decision},
        headers=browser_headers(link),
    )
