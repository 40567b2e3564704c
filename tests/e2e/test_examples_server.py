"""What examples/tools.py shows of the standard types, through a Client
(tests/examples covers the rest of the example)."""

from __future__ import annotations

import importlib.util
import pathlib
import sys
from types import ModuleType

from mcpkit import Client

EXAMPLES = pathlib.Path(__file__).parents[2] / "examples"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"examples_{name}_e2e", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


async def test_tools_example_takes_dates_and_answers_a_duration() -> None:
    server = _load("tools").server
    async with Client(server) as client:
        tools = {t.name: t for t in await client.list_tools()}
        schema = tools["days_until"].input_schema["properties"]["day"]
        assert schema == {"type": "string", "format": "date"}
        result = await client.call_tool("days_until", {"day": "2025-12-25", "today": "2025-11-25"})
        assert result.structured_content == {"result": "P30D"}
        refused = await client.call_tool("days_until", {"day": "christmas"})
        assert refused.is_error is True
