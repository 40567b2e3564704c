"""docs/http.md works as written: its server module, served by uvicorn, answers the official
SDK's client."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from types import ModuleType

from _serving import WAIT, serving
from mcp import Client as OfficialClient

DOC = Path(__file__).resolve().parents[2] / "docs" / "http.md"


def load_example() -> ModuleType:
    (block,) = [b for b in re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S)]
    assert block.startswith("# weather.py\n")
    module = ModuleType("weather")
    exec(compile(block, "weather.py", "exec"), module.__dict__)
    return module


async def test_the_served_example_answers_a_client() -> None:
    weather = load_example()
    assert "uvicorn weather:app --host 127.0.0.1" in DOC.read_text()
    progress: list[float] = []

    async def on_progress(value: float, total: float | None, message: str | None) -> None:
        progress.append(value)

    async with asyncio.timeout(WAIT), serving(weather.app) as base:
        async with OfficialClient(base + "/mcp") as client:
            result = await client.call_tool(
                "forecast", {"city": "Oslo", "days": 2}, progress_callback=on_progress
            )
    assert result.content[0].text == "Oslo: sunny for 2 days"  # type: ignore[union-attr]
    assert set(progress) <= {1, 2}
