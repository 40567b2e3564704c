"""Use an eras server with FastMCP 4's client, in the era asked for; print a summary.

Usage: fastmcp_eras_client.py MODE URL
       fastmcp_eras_client.py MODE COMMAND [ARG...]

MODE is the client's `mode=` (`auto`, its default; `legacy`; or a pinned revision such as
`2026-07-28`), as in official_eras_client.py; so are the scenario and the summary.
"""

from __future__ import annotations

import os
import sys
import warnings
from typing import Any

import mcp_types as types
import peer_main
from fastmcp import Client
from fastmcp.client.transports import StdioTransport, StreamableHttpTransport
from mcp.shared.exceptions import MCPDeprecationWarning

__all__ = ["summarize"]

OVERALL_TIMEOUT = 25.0  # seconds; below the test's own bound so the failure is reported here
CITY = "Lisbon"
NAME = "Ada"
REVIEW_CODE = "x = 1"


def wire(model: Any) -> Any:
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


class Answers:
    """FastMCP's elicitation and sampling handlers, and what the server asked of each."""

    def __init__(self) -> None:
        self.elicitations: list[str] = []
        self.samplings: list[str] = []

    async def elicit(self, message: str, response_type: Any, params: Any, context: Any) -> Any:
        self.elicitations.append(message)
        return {"name": NAME}

    async def sample(self, messages: list[types.SamplingMessage], params: Any, context: Any) -> str:
        text = wire(messages[-1])["content"]["text"]
        self.samplings.append(text)
        return f"answer to {text}"


async def summarize(argv: list[str]) -> dict[str, Any]:
    mode, target = argv[0], argv[1:]
    transport: StreamableHttpTransport | StdioTransport
    if target[0].startswith("http"):
        transport = StreamableHttpTransport(target[0])
    else:
        transport = StdioTransport(target[0], target[1:], env=dict(os.environ))
    answers = Answers()
    client = Client(
        transport,
        mode=mode,
        elicitation_handler=answers.elicit,
        sampling_handler=answers.sample,
        timeout=10.0,
    )
    async with client:
        tools = await client.list_tools()
        plan = await client.call_tool("plan", {"city": CITY}, raise_on_error=False)
        config = (await client.read_resource("config://app"))[0]
        prompt = await client.get_prompt("review", {"code": REVIEW_CODE})
        plan_text = next((b.text for b in plan.content if isinstance(b, types.TextContent)), None)
        return {
            "client": "fastmcp",
            "mode": mode,
            "protocol_version": client.protocol_version,
            "tools": sorted(tool.name for tool in tools),
            "plan": {"text": plan_text, "is_error": bool(plan.is_error)},
            "elicitations": answers.elicitations,
            "samplings": answers.samplings,
            "config": wire(config).get("text"),
            "review": [[m.role, wire(m.content).get("text")] for m in prompt.messages],
        }


if __name__ == "__main__":
    # Sampling is deprecated by 2026-07-28 (SEP-2577), yet served in both eras.
    warnings.simplefilter("ignore", MCPDeprecationWarning)
    sys.exit(peer_main.main("fastmcp_eras_client.py", summarize, OVERALL_TIMEOUT))
