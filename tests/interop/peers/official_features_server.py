"""An MCP server built with the official Python SDK whose tools ask the client: over stdio.

It offers the features surface every peer features server shares (see README.md):
`ask_llm` (sampling), `ask_llm_with_tools` (sampling with a tool, SEP-1577), `sign_up` (form
elicitation), `connect_account` (URL elicitation and its completion notification),
`connect_required` (the -32042 error), `show_roots` (roots) and `chatty` (log messages).

MCPServer sends every log message on handshake revisions and leaves `logging/setLevel` to
the application, so this peer registers that handler itself (on the low-level server, as
MCPServer offers no decorator for it) and filters by the level the client set.
"""

from __future__ import annotations

import json
import warnings
from typing import Annotated, Any, Literal

from mcp.server.context import ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.shared.exceptions import MCPDeprecationWarning, UrlElicitationRequiredError
from mcp_types import (
    ElicitRequestURLParams,
    EmptyResult,
    LoggingLevel,
    SamplingMessage,
    SetLevelRequestParams,
    TextContent,
    Tool,
    ToolChoice,
    ToolResultContent,
    ToolUseContent,
)
from pydantic import BaseModel, Field, WithJsonSchema

__all__ = ["server"]

# Sampling, roots and logging are deprecated by the 2026-07-28 revision; this peer speaks
# 2025-11-25, where they are current.
warnings.simplefilter("ignore", MCPDeprecationWarning)

server = MCPServer("official-features", version="1.0.0", instructions="interop features server")

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
LEVELS: list[LoggingLevel] = [
    "debug",
    "info",
    "notice",
    "warning",
    "error",
    "critical",
    "alert",
    "emergency",
]
# One client per process over stdio, so one threshold; None sends every level.
log_threshold: list[LoggingLevel | None] = [None]


async def set_level(ctx: ServerRequestContext[Any], params: SetLevelRequestParams) -> EmptyResult:
    log_threshold[0] = params.level
    return EmptyResult()


# A private attribute: MCPServer has no public hook for logging/setLevel.
server._lowlevel_server.add_request_handler("logging/setLevel", SetLevelRequestParams, set_level)


@server.tool()
async def ask_llm(question: str, ctx: Context) -> str:
    """Ask the client's LLM, and report what it answered as JSON."""
    result = await ctx.session.create_message(
        [SamplingMessage(role="user", content=TextContent(type="text", text=question))],
        max_tokens=64,
        system_prompt="Answer briefly.",
        related_request_id=ctx.request_context.request_id,
    )
    return json.dumps(
        {
            "role": result.role,
            "model": result.model,
            "text": getattr(result.content, "text", None),
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
    related = ctx.request_context.request_id
    first = await ctx.session.create_message(
        [SamplingMessage(role="user", content=TextContent(type="text", text=question))],
        max_tokens=64,
        tools=[LOOKUP],
        tool_choice=choice,
        related_request_id=related,
    )
    calls = [b for b in blocks(first.content) if isinstance(b, ToolUseContent)]
    results: list[Any] = [
        ToolResultContent(
            type="tool_result",
            tool_use_id=call.id,
            content=[TextContent(type="text", text=f"{call.input.get('term')} is a protocol")],
        )
        for call in calls
    ]
    messages = [
        SamplingMessage(role="user", content=TextContent(type="text", text=question)),
        SamplingMessage(role="assistant", content=blocks(first.content)),
        SamplingMessage(role="user", content=results),
    ]
    final = await ctx.session.create_message(
        messages, max_tokens=64, tools=[LOOKUP], tool_choice=choice, related_request_id=related
    )
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


TITLED_SIZES = {
    "type": "string",
    "oneOf": [
        {"const": "s", "title": "Small"},
        {"const": "m", "title": "Medium"},
        {"const": "l", "title": "Large"},
    ],
}


class SignUp(BaseModel):
    name: str = Field(description="Your name")
    newsletter: bool
    color: Literal["red", "green", "blue"]
    # pydantic renders a Literal as an untitled enum; the titled shape is given as is.
    size: Annotated[Literal["s", "m", "l"], WithJsonSchema(TITLED_SIZES)]
    age: int = Field(default=30, ge=0, le=150)


@server.tool()
async def sign_up(ctx: Context) -> str:
    """Ask the user for a form, and report the action and the data as JSON."""
    answer = await ctx.elicit("Tell us about yourself", SignUp)
    data = answer.data.model_dump() if answer.action == "accept" else None
    return json.dumps({"action": answer.action, "data": data})


@server.tool()
async def connect_account(ctx: Context) -> str:
    """Send the user to a URL, then tell the client the interaction finished."""
    result = await ctx.elicit_url("Connect your account", CONNECT_URL, ELICITATION_ID)
    await ctx.session.send_elicit_complete(ELICITATION_ID, ctx.request_context.request_id)
    return json.dumps({"action": result.action})


@server.tool()
def connect_required() -> str:
    """Answer -32042: the client must complete a URL elicitation first."""
    raise UrlElicitationRequiredError(
        [
            ElicitRequestURLParams(
                message="Connect your account first",
                url=CONNECT_URL,
                elicitation_id=REQUIRED_ELICITATION_ID,
            )
        ]
    )


@server.tool()
async def show_roots(ctx: Context) -> str:
    """The client's roots, as JSON."""
    result = await ctx.session.list_roots()
    return json.dumps([{"uri": str(root.uri), "name": root.name} for root in result.roots])


async def log(ctx: Context, level: LoggingLevel, data: Any) -> None:
    threshold = log_threshold[0]
    if threshold is None or LEVELS.index(level) >= LEVELS.index(threshold):
        await ctx.log(level, data, logger_name="interop")


@server.tool()
async def chatty(ctx: Context) -> str:
    """Log one message at each of four levels; the client's level filters them."""
    await log(ctx, "debug", "debug detail")
    await log(ctx, "info", "starting")
    await log(ctx, "warning", {"disk": "low", "free_mb": 12})
    await log(ctx, "error", "failed step")
    return "logged"


if __name__ == "__main__":
    server.run()
