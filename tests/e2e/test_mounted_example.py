"""examples/mounted.py works as its docstring says, through the real client."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from mcpkit import Client

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "mounted.py"


def load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("example_mounted", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


async def test_the_hub_serves_both_servers_under_their_namespaces() -> None:
    example = load()
    updates: list[str] = []
    got = asyncio.Event()

    def on_notification(method: str, params: Any) -> None:
        if method == "notifications/resources/updated":
            updates.append(params.uri)
            got.set()

    async with Client(example.server, on_notification=on_notification) as client:
        names = [t.name for t in await client.list_tools()]
        assert names == ["about", "notes_add", "notes_search", "units_convert"]
        about = await client.call_tool("about")
        assert about.content[0].text == "notes: notes, units: units"  # type: ignore[union-attr]
        await client.subscribe("notes://notes/all")
        assert (await client.call_tool("notes_add", {"text": "buy tea"})).structured_content == {
            "result": 2
        }
        await asyncio.wait_for(got.wait(), 5)
        assert updates == ["notes://notes/all"]
        found = await client.call_tool("notes_search", {"word": "buy"})
        assert found.structured_content == {"result": ["buy milk", "buy tea"]}
        second = await client.read_resource("notes://notes/1")
        assert second.contents[0].text == "buy tea"  # type: ignore[union-attr]
        prompt = await client.get_prompt("notes_digest")
        assert "short digest" in prompt.messages[0].content.text  # type: ignore[union-attr]
        km = await client.call_tool("units_convert", {"value": 10, "unit": "mi", "to": "km"})
        assert km.structured_content == {"result": 16.093}
        bad = await client.call_tool("units_convert", {"value": 1, "unit": "kg", "to": "km"})
        assert bad.is_error is True
    assert example.notes.lifespan_state is None  # left with the hub's
