"""docs/server.md, "When the client cannot answer": its examples run as written (the page's
blocks in one namespace, as test_docs_server runs them) and do what the text says, in both
eras."""

from __future__ import annotations

import asyncio
import pathlib
import re
from typing import Any

import httpx
import pytest

from mcpkit import Client, Server
from mcpkit.types import TextContent

DOC = pathlib.Path(__file__).parents[2] / "docs" / "server.md"
SECTION = DOC.read_text().split("## When the client cannot answer", 1)[1].split("\n## ", 1)[0]
ERAS = ["2025-11-25", "2026-07-28"]


def page_server() -> Server:
    """The `server` of the page's `files.py` once the section's blocks have run."""
    namespace: dict[str, Any] = {"__name__": "docs_server"}
    before = DOC.read_text().split("## When the client cannot answer", 1)[0]
    for block in re.findall(r"```python\n(.*?)```", before + SECTION, flags=re.DOTALL):
        exec(compile(block, str(DOC), "exec", dont_inherit=True), namespace)
    server: Server = namespace["server"]
    return server


@pytest.mark.parametrize("protocol", ERAS)
async def test_the_confirm_example_asks_the_model_then_takes_its_yes(protocol: str) -> None:
    async with asyncio.timeout(10), Client(page_server(), protocol=protocol) as client:
        first = await client.call_tool("remove_note", {"path": "todo.md"})
        second = await client.call_tool("remove_note", {"path": "todo.md", "confirm": True})
    assert first.is_error is True
    assert isinstance(first.content[0], TextContent)
    shown = re.search(r"```text\n(.*?)```", SECTION, flags=re.DOTALL)
    assert shown is not None
    assert first.content[0].text == " ".join(shown[1].split())  # the page's text, unwrapped
    assert isinstance(second.content[0], TextContent)
    assert second.content[0].text == "Removed todo.md"


@pytest.mark.parametrize("protocol", ERAS)
async def test_the_url_example_sends_the_user_to_the_page_then_goes_on(protocol: str) -> None:
    from test_ask_fallback_url import decide, link_in, serving

    async with asyncio.timeout(10), serving(page_server()) as base:
        async with Client(f"{base}/mcp", protocol=protocol) as client, httpx.AsyncClient() as web:
            first = await client.call_tool("publish_note", {"path": "todo.md"})
            link = link_in(first)
            assert link.startswith(f"{base}/mcp-approval?t=")  # where the text says
            await decide(web, link)
            second = await client.call_tool("publish_note", {"path": "todo.md"})
    assert first.is_error is True
    assert isinstance(second.content[0], TextContent)
    assert second.content[0].text == "Published todo.md"
