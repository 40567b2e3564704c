"""docs/server.md's Middleware examples run as written (every block of the page in order, in
one namespace, as test_docs_server runs them) and the operators' layers do what the text says."""

from __future__ import annotations

import pathlib
import re
from typing import Any

import pytest

from mcpkit import Client, McpError, Server
from mcpkit.server.middleware.rate_limit import RATE_LIMITED

DOC = pathlib.Path(__file__).parents[2] / "docs" / "server.md"


def run_page() -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "docs_server"}
    for block in re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL):
        # Our own docs, as a reader runs them: not under this module's `from __future__`.
        exec(compile(block, str(DOC), "exec", dont_inherit=True), namespace)
    return namespace


async def test_the_guarded_server_limits_sizes_and_rates(fake_clock: Any) -> None:
    guarded: Server = run_page()["guarded"]
    async with Client(guarded) as client:
        small = await client.call_tool("search", {"query": "tea", "limit": 2})
        assert small.structured_content == {"result": ["tea #0", "tea #1"]}
        big = await client.call_tool("search", {"query": "tea" * 100, "limit": 1000})
        assert big.is_error is True and "over this server's limit of 64000" in big.text
        for _ in range(8):  # 10 at once in all: two went above
            await client.call_tool("search", {"query": "tea"})
        with pytest.raises(McpError) as refused:
            await client.call_tool("search", {"query": "tea"})
        assert refused.value.code == RATE_LIMITED
        assert refused.value.data == {"retryAfter": 0.2, "rate": 5.0, "burst": 10}
        await client.list_tools()  # only tools/call is counted
        fake_clock.advance(0.2)
        await client.call_tool("search", {"query": "tea"})
