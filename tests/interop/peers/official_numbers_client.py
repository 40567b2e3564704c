"""Answer a numbers server's form elicitation with the official Python SDK's client.

Usage: official_numbers_client.py COMMAND [ARG...]

Calls the server's `order` tool once per answer in ANSWERS (2.5 for a float field, 3 for a
float and 3.0 for an int, the default 1.5 taken as offered) and prints one JSON object: the
requested schemas and each call's result text (or its error). Exits 0; on a failure it prints
the error to stderr and exits 1.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import mcp_types as types
import peer_main
from mcp import Client, StdioServerParameters
from mcp.client.session import ClientRequestContext

OVERALL_TIMEOUT = 25.0  # seconds; below the test's own bound so the failure is reported here
REQUEST_TIMEOUT = 10.0  # seconds per request
ANSWERS: list[dict[str, Any]] = [
    {"ratio": 2.5, "quantity": 3},  # speed left out: the server applies its default
    {"ratio": 3, "quantity": 3.0, "speed": 1.5},
]


async def summarize(command: list[str]) -> dict[str, Any]:
    """Call `order` once per answer against `command`; return what each call gave."""
    schemas: list[Any] = []

    async def elicit(
        context: ClientRequestContext, params: types.ElicitRequestParams
    ) -> types.ElicitResult:
        assert isinstance(params, types.ElicitRequestFormParams)
        schemas.append(params.model_dump(mode="json", by_alias=True)["requestedSchema"])
        return types.ElicitResult(action="accept", content=dict(ANSWERS[len(schemas) - 1]))

    params = StdioServerParameters(command=command[0], args=command[1:], env=dict(os.environ))
    client = Client(params, read_timeout_seconds=REQUEST_TIMEOUT, elicitation_callback=elicit)
    results: list[Any] = []
    async with client:
        for _ in ANSWERS:
            result = await client.call_tool("order", {})
            text = next((b.text for b in result.content if isinstance(b, types.TextContent)), "")
            results.append({"error": text} if result.is_error else text)
    return {"client": "official", "schemas": schemas, "results": results}


if __name__ == "__main__":
    sys.exit(peer_main.main("official_numbers_client.py", summarize, OVERALL_TIMEOUT))
