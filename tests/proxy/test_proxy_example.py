"""examples/proxy.py works as written: its `server` puts examples/everything.py on HTTP."""

from __future__ import annotations

import asyncio
import importlib.util
from pathlib import Path

from _proxying import WAIT
from _serving import serving

from mcpkit import Client

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "proxy.py"


async def test_the_example_serves_everything_py_over_http() -> None:
    spec = importlib.util.spec_from_file_location("example_proxy", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    async with serving(module.server.http_app()) as base:
        async with asyncio.timeout(WAIT), Client(base + "/mcp") as client:
            assert client.server_info.name == "everything"
            result = await client.call_tool("add", {"a": 2, "b": 40})
            assert result.structured_content == {"result": 42}
