"""An mcpkit server using what issue 42 gave handlers, for the outside clients of
test_handler_features_interop.py: per-caller state, a result budget that pages its
overflow, a per-tool timeout, typed middleware hooks, a response cache and JSON-string
arguments. `mcpkit run` this file to serve it over stdio (`server`); the test builds its
own with `make_server(auth=...)` and serves it over Streamable HTTP.
"""

from __future__ import annotations

import asyncio
from typing import Any

from mcpkit import Context, McpError, Server
from mcpkit.protocol.codes import INVALID_PARAMS
from mcpkit.server import ResponseCache, ResultBudget, TypedMiddleware
from mcpkit.server.hooks import CallToolNext, ListNext
from mcpkit.types import Tool

__all__ = ["REPORT", "STALL_TIMEOUT", "make_server", "server"]

#: The text `report` returns: 3,000 bytes, past its 1,024-byte budget, so paged.
REPORT = "".join(f"line {n:03d}: the quick brown fox jumps\n" for n in range(75))
#: Seconds `stall` may run (it never ends by itself).
STALL_TIMEOUT = 0.2


class Concierge(TypedMiddleware):
    """Tools named internal_* are neither listed nor callable; string arguments are trimmed."""

    async def on_list_tools(self, ctx: Context, call_next: ListNext) -> list[Tool]:
        tools: list[Tool] = await call_next()
        return [tool for tool in tools if not tool.name.startswith("internal_")]

    async def on_call_tool(
        self, ctx: Context, name: str, arguments: dict[str, Any], call_next: CallToolNext
    ) -> Any:
        if name.startswith("internal_"):
            raise McpError(INVALID_PARAMS, f"Unknown tool: {name}")
        trimmed = {k: v.strip() if isinstance(v, str) else v for k, v in arguments.items()}
        return await call_next(name, trimmed)


def make_server(**options: Any) -> Server:
    """The server; `options` go to `Server` (`auth=` for a protected one)."""
    server = Server(
        "handlers-interop",
        middleware=[Concierge(), ResponseCache(ttl=300, tools=["lookup"])],
        **options,
    )
    lookups = [0]
    stalls: dict[str, str] = {}

    @server.tool()
    async def count(ctx: Context) -> int:
        """Count this caller's calls, in its state."""
        seen: int = await ctx.get_state("calls", 0) + 1
        await ctx.set_state("calls", seen)
        return seen

    @server.tool()
    def lookup(topic: str) -> str:
        """A look-up the cache answers when asked again: says how many ran before it."""
        lookups[0] += 1
        return f"{topic}: run {lookups[0]}"

    @server.tool(max_result=ResultBudget(bytes=1024, overflow="paginate"))
    def report() -> str:
        """A report past its budget: the rest is paged into resources."""
        return REPORT

    @server.tool(timeout=STALL_TIMEOUT)
    async def stall(tag: str) -> str:
        """Never ends by itself: its timeout cancels it, which it records under `tag`."""
        stalls[tag] = "running"
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            stalls[tag] = "cancelled"
            raise
        return "finished"

    @server.tool()
    def stall_outcome(tag: str) -> str:
        """What became of the `stall` call tagged `tag`."""
        return stalls.get(tag, "never called")

    @server.tool()
    def greet(name: str) -> str:
        return f"Hello, {name}"

    @server.tool()
    def internal_reset() -> str:
        return "reset"

    @server.tool()
    def area(size: dict[str, float]) -> float:
        """An object argument, which many clients send as a JSON string."""
        return size["width"] * size["height"]

    return server


server = make_server()
