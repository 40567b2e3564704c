"""An MCP server built with mcpkit that asks the client for sampling and elicitation as tasks
of the client's (SEP-1686, `ctx.sample(..., task=...)`, `ctx.elicit(..., task=...)`): served
over stdio. Each tool reports what the client answered as JSON; `ask_llm_in_task` may itself
be called as a task of the server's."""

from __future__ import annotations

import json

from mcpkit import Context, Server

__all__ = ["server"]

TTL_MS = 60_000
NAME_FORM = {
    "type": "object",
    "properties": {"name": {"type": "string"}},
    "required": ["name"],
}

server = Server("mcpkit-tasks-requestor", version="1.0.0")


@server.tool()
async def ask_llm(question: str, ctx: Context) -> str:
    """Ask the client's LLM, as a task of the client's where it runs them."""
    result = await ctx.sample(question, max_tokens=32, task=TTL_MS)
    text = getattr(result.content, "text", None)
    return json.dumps({"model": result.model, "text": text})


@server.tool()
async def ask_user(ctx: Context) -> str:
    """Ask the user for a name, as a task of the client's where it runs them."""
    answer = await ctx.elicit("Your name?", NAME_FORM, task=TTL_MS)
    return json.dumps({"action": answer.action, "data": answer.data})


@server.tool(task=True)
async def ask_llm_in_task(question: str, ctx: Context) -> str:
    """`ask_llm`, callable as a task of the server's: its sampling then names that task."""
    return await ask_llm(question, ctx)


if __name__ == "__main__":
    server.run()
