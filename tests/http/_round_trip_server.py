"""The server the two-process test runs twice: a tool that elicits, then samples, then returns.
(`mcpkit run tests/http/_round_trip_server.py --transport http --port 0`.)"""

from __future__ import annotations

import os

from mcpkit import Context, Server

server = Server("round-trip")
NAME = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}


@server.tool()
async def plan(city: str, ctx: Context) -> str:
    """Ask who travels, then ask the client's LLM, then answer; says which process did."""
    who = await ctx.elicit(f"Who goes to {city}?", NAME)
    name = who.data["name"] if who.data else "?"
    idea = await ctx.sample(f"One thing to do in {city}", max_tokens=20)
    return f"{name} in {city}: {getattr(idea.content, 'text', '')} (answered by {os.getpid()})"
