"""The client's answer to a request a server task sends carries that task's id too (tasks
spec, "Associating Task-Related Messages": requests, notifications AND responses)."""

from __future__ import annotations

from typing import Any

from mcpkit import Client, Context, Server

RELATED = "io.modelcontextprotocol/related-task"


async def test_an_answer_to_a_task_request_names_the_task() -> None:
    server = Server("asks")
    seen: dict[str, Any] = {}

    @server.tool(task=True)
    async def ask(ctx: Context) -> str:
        answer = await ctx.elicit(
            "name?", {"type": "object", "properties": {"n": {"type": "string"}}}
        )
        assert ctx.task is not None
        seen["task"] = ctx.task.id
        seen["meta"] = answer.raw.meta
        return "ok"

    @server.tool
    async def plain(ctx: Context) -> str:
        answer = await ctx.elicit(
            "name?", {"type": "object", "properties": {"n": {"type": "string"}}}
        )
        seen["plain_meta"] = answer.raw.meta
        return "ok"

    def handler(params: Any) -> dict[str, Any]:
        return {"action": "accept", "content": {"n": "Ada"}}

    async with Client(server, elicitation_handler=handler) as client:
        assert (await client.call_tool("ask", {}, task=True)).text == "ok"
        assert seen["meta"] == {RELATED: {"taskId": seen["task"]}}
        assert (await client.call_tool("plain", {})).text == "ok"
        assert seen["plain_meta"] is None  # nothing added to answers outside tasks
