"""docs/client.md's Streamable HTTP example runs as written against docs/http.md's server."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from types import ModuleType

from _serving import WAIT, serving
from test_http_docs import load_example

DOC = Path(__file__).resolve().parents[2] / "docs" / "client.md"


def load_remote() -> ModuleType:
    (block,) = [
        b for b in re.findall(r"```python\n(.*?)```", DOC.read_text(), re.S) if "# remote.py" in b
    ]
    module = ModuleType("remote")
    exec(compile(block, "remote.py", "exec"), module.__dict__)
    return module


async def test_the_remote_example_runs_against_the_served_weather_example() -> None:
    weather = load_example()
    remote = load_remote()
    async with asyncio.timeout(WAIT), serving(weather.app) as base:
        assert await remote.main(base + "/mcp") == [
            "Oslo: sunny for 2 days",
            "forecast",
            "Oslo: sunny for 2 days",
        ]
    assert len(weather.app.sessions) == 0
