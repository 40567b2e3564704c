"""An MCP server built with mcpkit whose tools ask the client: served over stdio.

It offers the features surface every peer features server shares (see README.md):
`ask_llm` (sampling), `ask_llm_with_tools` (sampling with a tool, SEP-1577), `sign_up` (form
elicitation), `connect_account` (URL elicitation and its completion notification),
`connect_required` (the -32042 error), `show_roots` (roots) and `chatty` (log messages).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgspec

from mcpkit import Context, Server, UrlElicitationRequired
from mcpkit.server.elicitation_schema import EnumTitles
from mcpkit.types import (
    SamplingMessage,
    TextContent,
    Tool,
    ToolChoice,
    ToolResultContent,
    ToolUseContent,
)

__all__ = ["server"]

server = Server("mcpkit-features", version="1.0.0", instructions="interop features server")

CONNECT_URL = "https://example.com/connect?session=interop"
ELICITATION_ID = "acct-1"
REQUIRED_ELICITATION_ID = "acct-2"
LOOKUP = Tool(
    name="lookup",
    description="Look a term up.",
    input_schema={
        "type": "object",
        "properties": {"term": {"type": "string"}},
        "required": ["term"],
    },
)


@server.tool()
async def ask_llm(question: str, ctx: Context) -> str:
    """Ask the client's LLM, and report what it answered as JSON."""
    result = await ctx.sample(question, max_tokens=64, system_prompt="Answer briefly.")
    content = result.content
    return json.dumps(
        {
            "role": result.role,
            "model": result.model,
            "text": getattr(content, "text", None),
            "stop_reason": result.stop_reason,
        }
    )


def blocks(content: Any) -> list[Any]:
    """A sampling message's or result's content, one block or many, as a list."""
    return list(content) if isinstance(content, list) else [content]


def summary(block: Any) -> list[Any]:
    """A sampling content block, in the peers' shared summary shape."""
    if isinstance(block, ToolUseContent):
        return ["tool_use", block.id, block.name, block.input]
    if isinstance(block, ToolResultContent):
        return ["tool_result", block.tool_use_id, [getattr(c, "text", None) for c in block.content]]
    return [block.type, getattr(block, "text", None)]


@server.tool()
async def ask_llm_with_tools(question: str, ctx: Context) -> str:
    """Sample with a tool the LLM may call (SEP-1577): answer its call, sample again, and
    report both answers as JSON."""
    choice = ToolChoice(mode="auto")
    first = await ctx.sample(question, max_tokens=64, tools=[LOOKUP], tool_choice=choice)
    calls = [b for b in blocks(first.content) if isinstance(b, ToolUseContent)]
    results: list[Any] = [
        ToolResultContent(
            tool_use_id=call.id,
            content=[TextContent(text=f"{call.input.get('term')} is a protocol")],
        )
        for call in calls
    ]
    messages = [
        SamplingMessage(role="user", content=TextContent(text=question)),
        SamplingMessage(role="assistant", content=blocks(first.content)),
        SamplingMessage(role="user", content=results),
    ]
    final = await ctx.sample(messages, max_tokens=64, tools=[LOOKUP], tool_choice=choice)
    return json.dumps(
        {
            "first": {
                "stop_reason": first.stop_reason,
                "content": [summary(b) for b in blocks(first.content)],
            },
            "final": {
                "stop_reason": final.stop_reason,
                "content": [summary(b) for b in blocks(final.content)],
            },
        }
    )


@dataclass
class SignUp:
    name: Annotated[str, msgspec.Meta(description="Your name")]
    newsletter: bool
    color: Literal["red", "green", "blue"]
    size: Annotated[Literal["s", "m", "l"], EnumTitles({"s": "Small", "m": "Medium", "l": "Large"})]
    age: Annotated[int, msgspec.Meta(ge=0, le=150)] = 30


@server.tool()
async def sign_up(ctx: Context) -> str:
    """Ask the user for a form, and report the action and the data as JSON."""
    answer = await ctx.elicit("Tell us about yourself", SignUp)
    data = dataclasses.asdict(answer.data) if answer.data is not None else None
    return json.dumps({"action": answer.action, "data": data})


@server.tool()
async def connect_account(ctx: Context) -> str:
    """Send the user to a URL, then tell the client the interaction finished."""
    result = await ctx.elicit_url("Connect your account", CONNECT_URL, ELICITATION_ID)
    await ctx.complete_elicitation(ELICITATION_ID)
    return json.dumps({"action": result.action})


@server.tool()
def connect_required() -> str:
    """Answer -32042: the client must complete a URL elicitation first."""
    raise UrlElicitationRequired(
        [
            {
                "mode": "url",
                "message": "Connect your account first",
                "url": CONNECT_URL,
                "elicitationId": REQUIRED_ELICITATION_ID,
            }
        ]
    )


@server.tool()
async def show_roots(ctx: Context) -> str:
    """The client's roots, as JSON."""
    roots = await ctx.list_roots()
    return json.dumps([{"uri": root.uri, "name": root.name} for root in roots])


@server.tool()
async def chatty(ctx: Context) -> str:
    """Log one message at each of four levels; the client's level filters them."""
    await ctx.debug("debug detail", logger="interop")
    await ctx.info("starting", logger="interop")
    await ctx.warning({"disk": "low", "free_mb": 12}, logger="interop")
    await ctx.error("failed step", logger="interop")
    return "logged"


if __name__ == "__main__":
    server.run()
