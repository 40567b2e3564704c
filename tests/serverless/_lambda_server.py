"""The server the Lambda handler tests serve: a tool that adds, one that reports what the
request and its event say (and records the event loop it ran on), one slower than any
invocation."""

from __future__ import annotations

import asyncio
from typing import Any

from _lambda_events import request

from mcpkit import Context, Server
from mcpkit.serverless import lambda_event

LOOPS: list[int] = []


def make_server(**options: Any) -> Server:
    server = Server("on-lambda", **options)

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    @server.tool()
    async def where(ctx: Context) -> dict[str, Any]:
        """What the request and its Lambda event say about the caller."""
        LOOPS.append(id(asyncio.get_running_loop()))
        found = lambda_event()
        assert found is not None and ctx.request_info is not None
        return {
            "cookie": ctx.request_info.header("cookie"),
            "accept": ctx.request_info.header("accept"),
            "source": (ctx.request_info.client or ("", 0))[0],
            "request_id": found["requestContext"]["requestId"],
        }

    @server.tool()
    async def slow() -> str:
        """Longer than any invocation in these tests."""
        await asyncio.sleep(60)
        return "late"

    return server


def call(name: str, arguments: dict[str, Any], rid: Any = 1) -> dict[str, Any]:
    return request("tools/call", {"name": name, "arguments": arguments}, rid)
