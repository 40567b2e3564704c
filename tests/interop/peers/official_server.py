"""An MCP server built with the official Python SDK (PyPI `mcp` 2.x), served over stdio.

It offers the interop surface every peer server shares: tools `add`, `echo` and `slow`,
resource `config://app`, template `users://{user_id}/profile` and prompt `review`.
"""

from __future__ import annotations

import json

from mcp.server.mcpserver import Context, MCPServer

__all__ = ["server"]

server = MCPServer("official-interop", version="1.0.0", instructions="interop test server")


@server.tool()
async def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


@server.tool()
def echo(text: str) -> str:
    """Echo the text back."""
    return text


@server.tool()
async def slow(steps: int, ctx: Context) -> str:
    """Report one progress step per unit of work, then finish."""
    for i in range(steps):
        await ctx.report_progress(i + 1, total=steps)
    return "done"


@server.resource("config://app", mime_type="application/json")
def config() -> str:
    """The application's configuration."""
    return json.dumps({"debug": False})


@server.resource("users://{user_id}/profile")
def profile(user_id: str) -> str:
    """A user's profile."""
    return f"profile of {user_id}"


@server.prompt()
def review(code: str) -> str:
    """Ask for a code review."""
    return f"Please review:\n{code}"


if __name__ == "__main__":
    server.run()
