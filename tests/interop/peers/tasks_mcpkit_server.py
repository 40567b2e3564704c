"""An mcpkit server with task tools (basic/utilities/tasks), for the task interop tests.

Run it by hand: `mcpkit run tests/interop/peers/tasks_mcpkit_server.py --transport http
--port N`, or serve `server.http_app()`. Tools:

- `add_later(a, b)`: optional taskSupport; the sum, structured.
- `job(steps)`: required; one progress notification per step, then "<steps> steps".
- `explode()`: optional; fails the task with an error result.
- `ask_name()`: required; asks the client for a name (form elicitation: the task is
  input_required until the answer comes through tasks/result), then "hello <name>".
- `forever()`: required; runs until cancelled.
"""

from __future__ import annotations

import asyncio
from typing import Any

from mcpkit import Context, Server, ToolError

__all__ = ["make_server", "server"]


def make_server(**options: Any) -> Server:
    """The server; `options` go to `Server` (`auth=` for a protected one, where tasks are
    bound to the token's identity and tasks/list is offered)."""
    server = Server("mcpkit-tasks", **options)

    @server.tool(task=True)
    async def add_later(a: int, b: int) -> int:
        """Adds two numbers, as a task if asked."""
        await asyncio.sleep(0)
        return a + b

    @server.tool(task="required")
    async def job(ctx: Context, steps: int) -> str:
        """Works in steps, reporting progress on each."""
        for i in range(1, steps + 1):
            await ctx.progress(i, steps)
        return f"{steps} steps"

    @server.tool(task=True)
    async def explode() -> str:
        """Always fails."""
        raise ToolError("it broke")

    @server.tool(task="required")
    async def ask_name(ctx: Context) -> str:
        """Asks the user's name."""
        answer = await ctx.elicit(
            "Your name?",
            {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]},
        )
        return f"hello {answer.data['name'] if answer.data else '?'}"

    @server.tool(task="required")
    async def forever() -> str:
        """Never ends by itself."""
        await asyncio.Event().wait()
        return "unreachable"

    return server


server = make_server()

if __name__ == "__main__":
    server.run()
