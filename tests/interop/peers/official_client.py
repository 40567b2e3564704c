"""Drive an MCP server over stdio with the official Python SDK's client and print a summary.

Usage: official_client.py COMMAND [ARG...]

The server command is started as a subprocess with this process's environment. The client
initializes, lists everything, calls `add`, `echo` and `slow` (with a progress callback),
reads `config://app` and `users://42/profile`, gets prompt `review` and pings. It prints one
JSON object (the shape shared with ts_client.mjs, see README.md) and exits 0; on any failure
it prints the error to stderr and exits 1.
"""

from __future__ import annotations

import asyncio
import os
import sys
import warnings
from typing import Any

import peer_main
from mcp import Client, StdioServerParameters
from mcp.shared.exceptions import MCPDeprecationWarning
from mcp_types.version import HANDSHAKE_PROTOCOL_VERSIONS

__all__ = ["summarize"]

OVERALL_TIMEOUT = 25.0  # seconds; below the test's own bound so the failure is reported here
REQUEST_TIMEOUT = 10.0  # seconds per request
SLOW_STEPS = 3
ECHO_TEXT = "hello interop"
REVIEW_CODE = "x = 1"


def wire(model: Any) -> Any:
    """The JSON the SDK's pydantic model stands for, with the wire's camelCase names."""
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def first_text(result: dict[str, Any]) -> str | None:
    """The text of a result's first text content block, if any."""
    for block in result.get("content", []):
        if block.get("type") == "text":
            text: str = block["text"]
            return text
    return None


async def call_slow(client: Client) -> dict[str, Any]:
    """Call `slow` and collect its progress notifications."""
    seen: list[list[float | None]] = []
    all_seen = asyncio.Event()

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append([progress, total])
        if len(seen) >= SLOW_STEPS:
            all_seen.set()

    result = await client.call_tool("slow", {"steps": SLOW_STEPS}, progress_callback=on_progress)
    # The SDK runs progress callbacks as tasks of their own, so the last may still be queued
    # when the response resolves; wait for it, bounded, and let the test judge what came.
    try:
        await asyncio.wait_for(all_seen.wait(), 5.0)
    except TimeoutError:
        pass
    return {"text": first_text(wire(result)), "progress": seen}


async def ping(client: Client) -> bool | None:
    """Ping, where the negotiated revision has ping; None where it does not (2026-07-28)."""
    if client.protocol_version not in HANDSHAKE_PROTOCOL_VERSIONS:
        return None
    with warnings.catch_warnings():
        # The SDK marks ping deprecated because the 2026-07-28 revision drops it.
        warnings.simplefilter("ignore", MCPDeprecationWarning)
        await client.send_ping()
    return True


async def summarize(command: list[str]) -> dict[str, Any]:
    """Run the whole scenario against `command` and return the summary."""
    params = StdioServerParameters(command=command[0], args=command[1:], env=dict(os.environ))
    async with Client(params, read_timeout_seconds=REQUEST_TIMEOUT) as client:
        info = client.server_info
        tools = {tool.name: wire(tool) for tool in (await client.list_tools()).tools}
        add = wire(await client.call_tool("add", {"a": 2, "b": 3}))
        echo = wire(await client.call_tool("echo", {"text": ECHO_TEXT}))
        slow = await call_slow(client)
        resources = [r.uri for r in (await client.list_resources()).resources]
        templates = [
            t.uri_template for t in (await client.list_resource_templates()).resource_templates
        ]
        prompts = [p.name for p in (await client.list_prompts()).prompts]
        config = wire(await client.read_resource("config://app"))["contents"][0]
        profile = wire(await client.read_resource("users://42/profile"))["contents"][0]
        review = wire(await client.get_prompt("review", {"code": REVIEW_CODE}))
        pinged = await ping(client)
        return {
            "client": "official",
            "protocol_version": client.protocol_version,
            "server_name": info.name if info else None,
            "server_version": info.version if info else None,
            "instructions": client.instructions,
            "tools": sorted(tools),
            "add_input_schema": tools.get("add", {}).get("inputSchema"),
            "add_output_schema": tools.get("add", {}).get("outputSchema"),
            "add": {
                "structured": add.get("structuredContent"),
                "text": first_text(add),
                "is_error": add.get("isError", False),
            },
            "echo": {"text": first_text(echo)},
            "slow": slow,
            "resources": sorted(resources),
            "templates": sorted(templates),
            "prompts": sorted(prompts),
            "config": {"text": config.get("text"), "mime_type": config.get("mimeType")},
            "profile": {"text": profile.get("text")},
            "review": {
                "messages": [
                    {"role": m["role"], "text": m["content"].get("text")}
                    for m in review["messages"]
                ]
            },
            "ping": pinged,
        }


if __name__ == "__main__":
    sys.exit(peer_main.main("official_client.py", summarize, OVERALL_TIMEOUT))
