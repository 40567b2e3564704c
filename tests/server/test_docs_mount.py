"""docs/server.md, "Composing servers": its example runs as written (with the page's other
blocks before it, as a reader pastes them into one file), and the hub serves what the text
says."""

from __future__ import annotations

import asyncio
import pathlib
import re
from typing import Any

import pytest

from mcpkit import Client, McpError, Server

DOC = pathlib.Path(__file__).parents[2] / "docs" / "server.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


def _example() -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "docs_server"}
    for block in BLOCKS:
        # Our own docs, as a reader runs them: not under this module's `from __future__`.
        exec(compile(block, str(DOC), "exec", dont_inherit=True), namespace)
    return namespace


async def test_the_hub_serves_the_mounted_notes_as_the_text_says() -> None:
    example = _example()
    hub: Server = example["hub"]
    notes: Server = example["notes"]
    updated: list[str] = []
    got = asyncio.Event()

    def on_notification(method: str, params: Any) -> None:
        if method == "notifications/resources/updated":
            updated.append(params.uri)
            got.set()

    async with Client(hub, on_notification=on_notification) as client:
        assert [t.name for t in await client.list_tools()] == ["work_add_note"]
        assert [p.name for p in await client.list_prompts()] == ["work_summarize"]
        assert [r.uri for r in await client.list_resources()] == ["notes://work/today"]
        templates = await client.list_resource_templates()
        assert [t.uri_template for t in templates] == ["notes://work/{index}"]
        for text in ("milk", "eggs", "tea", "jam"):
            await client.call_tool("work_add_note", {"text": text})
        read = await client.read_resource("notes://work/3")
        assert read.contents[0].uri == "notes://work/3"
        assert read.contents[0].text == "jam"  # type: ignore[union-attr]
        ref = {"type": "ref/prompt", "name": "work_summarize"}
        assert (await client.complete(ref, "style", "s")).completion.values == ["short"]
        await client.subscribe("notes://work/today")
        await notes.notify_resource_updated("notes://today")
        await asyncio.wait_for(got.wait(), 5)
        assert updated == ["notes://work/today"]
        with pytest.raises(McpError):
            await client.read_resource("notes://today")  # the mounted server's own URI
