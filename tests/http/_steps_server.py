"""The server of the killed-worker tests (tests/http/test_http_workers.py, and the TypeScript
client's in tests/interop): `steps` reports three progress messages naming the process that
runs it, then waits to be killed."""

from __future__ import annotations

__all__ = ["STEPS"]

STEPS = """
import asyncio
import os

from mcpkit import Context, Server

server = Server("steps")


@server.tool()
async def steps(ctx: Context) -> str:
    for n in (1, 2, 3):
        await ctx.progress(n, 3, f"step {n} by {os.getpid()}")
    await asyncio.sleep(600)  # killed here
    return "never"
"""
