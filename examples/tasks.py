"""Tasks (SEP-1686): tools a client may call as a task, answered at once and run on while the
client polls, and the result fetched later, even from another connection.

Serve it over HTTP with `mcpkit run examples/tasks.py --transport http --port 8000` (a task
outlives the session that made it there), or over stdio with `mcpkit run examples/tasks.py`.
docs/tasks.md walks through it.
"""

from __future__ import annotations

import asyncio

from mcpkit import Context, Server, ToolError

server = Server("tasks-example", version="1.0.0")


@server.tool(task=True)  # "optional": called plainly, or as a task
async def render_video(frames: int, ctx: Context) -> str:
    """Render a video, one frame at a time, reporting progress."""
    if frames < 1:
        raise ToolError("frames must be at least 1")  # the task ends `failed`
    for frame in range(1, frames + 1):
        await asyncio.sleep(0.01)  # the real work
        await ctx.progress(frame, total=frames, message=f"frame {frame}")
    return f"rendered {frames} frames"


@server.tool(task="required")  # only as a task: a plain call is refused
async def nightly_report(ctx: Context) -> str:
    """Build the nightly report; asks the user which format first."""
    answer = await ctx.elicit(
        "Which format?",
        {"type": "object", "properties": {"format": {"type": "string", "enum": ["pdf", "html"]}}},
    )  # the task waits in `input_required` until the client answers
    chosen = answer.data["format"] if answer.data else "pdf"
    return f"report ready as {chosen}"


@server.tool()
def status() -> str:
    """A plain tool: no task support, so a call with `task` is refused."""
    return "all systems nominal"


if __name__ == "__main__":
    server.run()
