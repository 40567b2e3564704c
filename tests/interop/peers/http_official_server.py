"""A Streamable HTTP server built with the official Python SDK (MCPServer), for the mcpkit
client's interop tests, which serve `make_app()` with uvicorn: tools `add`, `slow` (progress),
`poll` (closes its SSE stream mid-call, SEP-1699), `ask_llm` (sampling) and `ask_name` (form
elicitation). SSE answers come with an in-memory event store (the SDK ships only the
interface); `json_response=True` answers with JSON.

No `from __future__ import annotations`: MCPServer evaluates the tools' annotations.
"""

from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.streamable_http import EventCallback, EventMessage, EventStore
from mcp_types import SamplingMessage
from mcp_types import TextContent as OfficialText
from pydantic import BaseModel

__all__ = ["make_app"]


class Name(BaseModel):
    name: str


def make_app(json_response: bool) -> Any:
    class MemoryEventStore(EventStore):
        """Every event of every stream, in order; replays one stream after an event id."""

        def __init__(self) -> None:
            self.events: list[tuple[str, Any]] = []

        async def store_event(self, stream_id: str, message: Any) -> str:
            self.events.append((stream_id, message))
            return str(len(self.events) - 1)

        async def replay_events_after(
            self, last_event_id: str, send_callback: EventCallback
        ) -> str | None:
            if not last_event_id.isdigit() or int(last_event_id) >= len(self.events):
                return None
            start = int(last_event_id)
            stream = self.events[start][0]
            for index in range(start + 1, len(self.events)):
                sid, message = self.events[index]
                if sid == stream and message is not None:
                    await send_callback(EventMessage(message, str(index)))
            return stream

    server = MCPServer("official-http", version="2.0.0")

    @server.tool()
    def add(a: int, b: int) -> int:
        """Adds two numbers."""
        return a + b

    @server.tool()
    async def slow(steps: int, ctx: Context) -> str:
        """One progress notification per step."""
        for i in range(steps):
            await ctx.report_progress(i + 1, steps)
        return f"{steps} steps"

    @server.tool()
    async def poll(ctx: Context) -> str:
        """Closes its SSE stream mid-call (SEP-1699): the client resumes it to get the rest."""
        await ctx.report_progress(1, 2)
        await ctx.close_sse_stream()
        await ctx.report_progress(2, 2)
        return "resumed"

    @server.tool()
    async def ask_llm(question: str, ctx: Context) -> str:
        result = await ctx.session.create_message(
            [SamplingMessage(role="user", content=OfficialText(type="text", text=question))],
            max_tokens=16,
            related_request_id=ctx.request_context.request_id,
        )
        return str(getattr(result.content, "text", None))

    @server.tool()
    async def ask_name(ctx: Context) -> str:
        answer = await ctx.elicit("Your name?", Name)
        return f"{answer.action}:{getattr(answer, 'data', None)}"

    if json_response:
        return server.streamable_http_app(json_response=True)
    return server.streamable_http_app(event_store=MemoryEventStore(), retry_interval=10)
