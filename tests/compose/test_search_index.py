"""Tool search's index (docs/compose.md, "Large catalogs: tool search"), through `Client` in
both eras: it ranks each caller's answer by the tools that caller may see alone, so that
the others leave no trace in it."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from mcpkit import Client, Context, Server

ERAS = ["2025-11-25", "2026-07-28"]


def names(result: Any) -> list[str]:
    return [tool["name"] for tool in result.structured_content["tools"]]


def reports(server: Server, *, audits: int) -> Server:
    """Two reports anyone may see, and `audits` tools whose every word is "alpha"."""
    server.add_tool(lambda: "a", name="alpha_report", description="A report.")
    server.add_tool(lambda: "b", name="beta_report", description="A report.")
    for i in range(audits):
        server.add_tool(lambda: "x", name=f"alpha_audit_{i}", description="Alpha, alpha.")
    server.add_tool_search()
    return server


def auditors_only(ctx: Context, component: Any) -> bool:
    client = ctx.client_info
    return not component.key.startswith("alpha_audit") or (
        client is not None and client.name == "auditor"
    )


@pytest.mark.parametrize("era", ERAS)
async def test_tools_a_caller_cannot_see_leave_no_trace_in_its_ranking(era: str) -> None:
    # Before: the index ranked every tool by the statistics of the whole catalog, then left
    # out what the caller may not see; words the hidden tools hold weighed less, so the order
    # of the tools it sees told a caller what the others are about ("alpha" is common).
    server = reports(Server("reports"), audits=6)
    server.add_visibility_rule(auditors_only)
    alone = reports(Server("two reports"), audits=0)
    query = {"query": "alpha beta"}
    async with (
        asyncio.timeout(10),
        Client(server, protocol=era) as guest,
        Client(server, protocol=era, name="auditor") as auditor,
        Client(alone, protocol=era) as reference,
    ):
        seen = names(await guest.call_tool("search_tools", query))
        assert seen == names(await reference.call_tool("search_tools", query))
        assert seen == ["alpha_report", "beta_report"]  # alike but for the word: by position
        # The auditor's catalog holds the audits: "alpha" is common there, "beta" rare.
        assert names(await auditor.call_tool("search_tools", query))[0] == "beta_report"
