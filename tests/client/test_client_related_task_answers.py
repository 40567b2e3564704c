"""The client's answer to a request a server task sends carries that task's id too (tasks
spec, "Associating Task-Related Messages": requests, notifications AND responses)."""

from __future__ import annotations

import functools
from typing import Any

from mcpkit import Client, Context, Server

# These tests are about the 2025-11-25 session (what the server sends the client, its errors
# and notifications as that revision has them): the client is pinned to it. docs/eras.md says
# what 2026-07-28 does instead; tests/server/test_modern_revision.py and
# tests/client/test_client_modern.py cover it.
Client = functools.partial(Client, protocol="2025-11-25")


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
