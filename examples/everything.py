"""One server that uses every feature mcpkit offers for MCP 2025-11-25.

`python examples/client.py` starts this file over stdio and walks through it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from enum import Enum
from typing import Annotated, Literal

import msgspec

from mcpkit import (
    Context,
    Server,
    ToolError,
    UrlElicitationRequired,
    embedded_resource,
    resource_link,
    text,
)
from mcpkit.server.elicitation_schema import EnumTitles
from mcpkit.types import ContentBlock, Icon, PromptMessage, TextContent, Tool, ToolAnnotations


@contextlib.asynccontextmanager
async def lifespan(server: Server) -> AsyncIterator[dict[str, int]]:
    yield {"visits": 0}


server = Server(
    "everything",
    version="1.0.0",
    title="Everything example",
    description="A tour of every MCP feature mcpkit offers.",
    instructions="A tour of every MCP feature. Start with the `add` tool.",
    website_url="https://example.com/mcpkit",
    icons=[Icon(src="https://example.com/icon.png", mime_type="image/png")],
    lifespan=lifespan,
    page_size=50,
)

# ------------------------------------------------------------------------ tools


@server.tool(
    annotations=ToolAnnotations(read_only_hint=True, idempotent_hint=True),
    meta={"example.com/category": "math"},
)
async def add(a: int, b: int, ctx: Context) -> int:
    """Add two numbers, with progress and a log message."""
    await ctx.progress(1, total=1)
    await ctx.info(f"adding {a} and {b}")
    return a + b


@dataclass
class Stats:
    count: int
    mean: float
    values: list[float] = field(default_factory=list)


@server.tool(title="Statistics")
def stats(values: Annotated[list[float], msgspec.Meta(min_length=1)]) -> Stats:
    """Count and mean of some numbers (an object result is structured output as it is)."""
    return Stats(count=len(values), mean=sum(values) / len(values), values=values)


@server.tool()
def divide(a: float, b: float) -> float:
    """Divide a by b; dividing by zero is an error result the model can read."""
    if b == 0:
        raise ToolError("b must not be zero")
    return a / b


@server.tool()
def files() -> list[ContentBlock]:
    """Content blocks: text, a link to a resource and an embedded resource."""
    return [
        text("two files:"),
        resource_link("config://app", "config"),
        embedded_resource("notes://welcome", "Hello!", mime_type="text/plain"),
    ]


@server.tool()
async def slow(seconds: float, ctx: Context) -> str:
    """Wait (cancel it from the client, or give it a timeout)."""
    for i in range(int(seconds * 10)):
        await ctx.progress(i + 1, total=seconds * 10)
        await asyncio.sleep(0.1)
    return "done"


@server.tool()
def visit(ctx: Context) -> int:
    """Count visits in the lifespan's state (a sync tool runs off the event loop)."""
    ctx.lifespan_state["visits"] += 1
    return int(ctx.lifespan_state["visits"])


# ----------------------------------------------------- asking the client (tools)


@server.tool()
async def ask_model(question: str, ctx: Context) -> str:
    """Sampling: ask the client's LLM, offering it a tool when the client allows that."""
    tools = None
    if ctx.client_supports("sampling.tools"):
        tools = [Tool(name="lookup", input_schema={"type": "object"})]
    result = await ctx.sample(question, max_tokens=100, tools=tools)
    return getattr(result.content, "text", str(result.content))


class Color(Enum):
    red = "red"
    green = "green"


@dataclass
class Profile:
    name: Annotated[str, msgspec.Meta(min_length=1, title="Your name")]
    age: Annotated[int, msgspec.Meta(ge=0, le=150)] = 30
    color: Color = Color.green
    size: Annotated[
        Literal["s", "m", "l"], EnumTitles({"s": "Small", "m": "Medium", "l": "Large"})
    ] = "m"
    toppings: list[Literal["cheese", "ham"]] = field(default_factory=list)
    newsletter: bool = False


@server.tool()
async def sign_up(ctx: Context) -> str:
    """Elicitation (form mode): every field kind, defaults and the enum shapes."""
    answer = await ctx.elicit("Tell us about yourself", Profile)
    if answer.data is None:
        return f"not signed up ({answer.action})"
    p = answer.data
    return f"{p.name}, {p.age}, {p.color.value}, {p.size}, {p.toppings}, {p.newsletter}"


@server.tool()
async def connect_account(ctx: Context) -> str:
    """Elicitation (URL mode), or the -32042 error for clients that cannot open URLs."""
    if not ctx.client_supports("elicitation.url"):
        raise UrlElicitationRequired(
            [
                {
                    "mode": "url",
                    "elicitationId": "acct-1",
                    "url": "https://example.com/connect",
                    "message": "Connect your account in the browser",
                }
            ]
        )
    result = await ctx.elicit_url("Connect your account", "https://example.com/connect", "acct-1")
    await ctx.complete_elicitation("acct-1")
    return f"connect: {result.action}"


@server.tool()
async def roots(ctx: Context) -> list[str]:
    """Roots: the places the client lets us work in."""
    if not ctx.client_supports("roots"):
        return []
    return [root.uri for root in await ctx.list_roots()]


@server.tool()
def add_greeting_tool() -> str:
    """Add a tool at run time (clients get notifications/tools/list_changed)."""

    def greet(name: str) -> str:
        return f"Hello, {name}!"

    server.add_tool(greet, description="Greet someone.")
    return "added greet"


# -------------------------------------------------------------------- resources

NOTES = {"welcome": "Hello!", "todo": "Write docs."}


@server.resource("config://app", mime_type="application/json", title="Settings")
def config() -> dict[str, object]:
    return {"theme": "dark"}


@server.resource("notes://{name}", mime_type="text/plain", description="A note by name")
def note(name: str) -> str:
    return NOTES[name]


@server.completion(template="notes://{name}", argument="name")
def note_names(prefix: str, context: dict[str, str]) -> list[str]:
    return [n for n in NOTES if n.startswith(prefix)]


@server.tool()
async def write_note(name: str, body: str) -> str:
    """Change a note; subscribers get notifications/resources/updated."""
    NOTES[name] = body
    await server.notify_resource_updated(f"notes://{name}")
    return "saved"


# ---------------------------------------------------------------------- prompts


@server.prompt(title="Code review")
def review(code: str, language: Literal["python", "go", "rust"] = "python") -> str:
    """Review some code."""
    return f"Please review this {language} code:\n{code}"


@server.prompt()
def chat(topic: str) -> list[PromptMessage]:
    return [
        PromptMessage(role="user", content=TextContent(text=f"Let's talk about {topic}")),
        PromptMessage(role="assistant", content=TextContent(text="Gladly.")),
    ]


if __name__ == "__main__":
    server.run()
