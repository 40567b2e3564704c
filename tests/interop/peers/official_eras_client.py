"""Use an eras server with the official Python SDK's client, in the era asked for; print a summary.

Usage: official_eras_client.py MODE URL
       official_eras_client.py MODE COMMAND [ARG...]

MODE is the client's `mode=`: `auto` (its default: it probes `server/discover` and takes
2026-07-28 where offered), `legacy` (the initialize handshake) or a pinned revision such as
`2026-07-28`. A URL is reached over Streamable HTTP; a command is started and spoken to over
stdio. The client lists tools, calls `plan` (answering its elicitation and sampling), reads
`config://app` and gets prompt `review`, then prints one JSON object (the shape shared by every
eras client, see README.md) and exits 0; on any failure it prints the error and exits 1.
"""

from __future__ import annotations

import os
import sys
import warnings
from typing import Any

import mcp_types as types
import peer_main
from mcp import Client, StdioServerParameters
from mcp.client.session import ClientRequestContext
from mcp.shared.exceptions import MCPDeprecationWarning

__all__ = ["summarize"]

OVERALL_TIMEOUT = 25.0  # seconds; below the test's own bound so the failure is reported here
CITY = "Lisbon"
NAME = "Ada"
REVIEW_CODE = "x = 1"


def wire(model: Any) -> Any:
    """The JSON the SDK's pydantic model stands for, with the wire's camelCase names."""
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def first_text(result: Any) -> str | None:
    for block in wire(result).get("content", []):
        if block.get("type") == "text":
            text: str = block["text"]
            return text
    return None


class Answers:
    """The client's elicitation and sampling handlers, and what the server asked of each."""

    def __init__(self) -> None:
        self.elicitations: list[str] = []
        self.samplings: list[str] = []

    async def elicit(
        self, context: ClientRequestContext, params: types.ElicitRequestParams
    ) -> types.ElicitResult:
        self.elicitations.append(wire(params)["message"])
        return types.ElicitResult(action="accept", content={"name": NAME})

    async def sample(
        self, context: ClientRequestContext, params: types.CreateMessageRequestParams
    ) -> types.CreateMessageResult:
        text = wire(params)["messages"][-1]["content"]["text"]
        self.samplings.append(text)
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text=f"answer to {text}"),
            model="interop-llm",
            stop_reason="endTurn",
        )


async def summarize(argv: list[str]) -> dict[str, Any]:
    mode, target = argv[0], argv[1:]
    server: str | StdioServerParameters
    if target[0].startswith("http"):
        server = target[0]
    else:
        server = StdioServerParameters(command=target[0], args=target[1:], env=dict(os.environ))
    answers = Answers()
    async with Client(
        server,
        mode=mode,
        elicitation_callback=answers.elicit,
        sampling_callback=answers.sample,
        read_timeout_seconds=10.0,
    ) as client:
        tools = await client.list_tools()
        plan = await client.call_tool("plan", {"city": CITY})
        config = (await client.read_resource("config://app")).contents[0]
        prompt = await client.get_prompt("review", {"code": REVIEW_CODE})
        return {
            "client": "official",
            "mode": mode,
            "protocol_version": client.protocol_version,
            "tools": sorted(tool.name for tool in tools.tools),
            "plan": {"text": first_text(plan), "is_error": bool(plan.is_error)},
            "elicitations": answers.elicitations,
            "samplings": answers.samplings,
            "config": wire(config).get("text"),
            "review": [[m.role, wire(m.content).get("text")] for m in prompt.messages],
        }


if __name__ == "__main__":
    # Sampling is deprecated by 2026-07-28 (SEP-2577), yet served in both eras.
    warnings.simplefilter("ignore", MCPDeprecationWarning)
    sys.exit(peer_main.main("official_eras_client.py", summarize, OVERALL_TIMEOUT))
