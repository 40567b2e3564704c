"""Call every tool of the output-schema table (test_output_schemas.py) with the official
Python SDK's client, which refuses a result whose structured content is missing or does not
fit the tool's output schema. Prints a JSON list of the refusals (empty: none) and exits 0.

Usage: official_output_check.py  (run by test_official_client_outputs.py)
"""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import sys

from mcp import Client, StdioServerParameters

HERE = pathlib.Path(__file__).parent
SERVE = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from test_output_schemas import _server; _server()[0].run()"
)


async def main() -> list[str]:
    params = StdioServerParameters(
        command=sys.executable, args=["-c", SERVE, str(HERE)], env=dict(os.environ)
    )
    refused: list[str] = []
    async with Client(params, read_timeout_seconds=10.0) as client:
        tools = (await client.list_tools()).tools
        for tool in tools:
            try:
                result = await client.call_tool(tool.name, {})
            except Exception as exc:  # the SDK's refusal is a RuntimeError
                refused.append(f"{tool.name}: {type(exc).__name__}: {exc}")
                continue
            if result.is_error:
                refused.append(f"{tool.name}: an error result")
    return refused


if __name__ == "__main__":
    print(json.dumps(asyncio.run(asyncio.wait_for(main(), 60))))
