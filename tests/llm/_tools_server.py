"""The MCP server whose tools the models call in these tests: text, structured results, an
image, an embedded resource with a resource link, an error, and a name no API accepts."""

from __future__ import annotations

from typing import Any, TypedDict

from mcpkit import Context, Server, ToolError
from mcpkit.types import (
    ContentBlock,
    EmbeddedResource,
    ImageContent,
    ResourceLink,
    SamplingMessage,
    TextContent,
    TextResourceContents,
    Tool,
    ToolChoice,
    ToolResultContent,
    ToolUseContent,
)

__all__ = ["PNG", "sampling_server", "tools_server"]

# A 1x1 PNG, base64
PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5E"
    "rkJggg=="
)


class Sum(TypedDict):
    total: int


def tools_server() -> Server:
    server = Server("llm-tools")

    @server.tool()
    def add(a: int, b: int) -> Sum:
        """Add two numbers."""
        return {"total": a + b}

    @server.tool()
    def chart() -> ImageContent:
        """Draw the chart."""
        return ImageContent(data=PNG, mime_type="image/png")

    @server.tool()
    def fail(reason: str) -> str:
        """Always fails."""
        raise ToolError(f"it failed: {reason}")

    @server.tool(name="notes.read")
    def read_notes() -> list[ContentBlock]:
        """Read the notes."""
        note = TextResourceContents(uri="note://1", text="buy milk", mime_type="text/plain")
        link = ResourceLink(uri="note://2", name="second", mime_type="text/plain")
        return [EmbeddedResource(resource=note), link]

    return server


def sampling_server() -> Server:
    """A tool that samples with a tool of its own, runs the model's tool use and samples
    again with the result (client/sampling, "Tool Use in Sampling")."""
    server = Server("sampler")
    weather = Tool(
        name="get.weather",
        input_schema={"type": "object", "properties": {"city": {"type": "string"}}},
    )

    @server.tool()
    async def forecast(city: str, ctx: Context) -> str:
        ask = [ctx_message("user", TextContent(text=f"Weather in {city}?"))]
        first = await ctx.sample(
            ask, tools=[weather], tool_choice=ToolChoice(mode="required"), system_prompt="Be brief."
        )
        uses = [
            b
            for b in (first.content if isinstance(first.content, list) else [first.content])
            if isinstance(b, ToolUseContent)
        ]
        assert first.stop_reason == "toolUse" and uses[0].name == "get.weather", first
        ask.append(ctx_message("assistant", uses))
        ask.append(
            ctx_message(
                "user",
                [ToolResultContent(tool_use_id=uses[0].id, content=[TextContent(text="sunny")])],
            )
        )
        second = await ctx.sample(ask, tools=[weather])
        assert isinstance(second.content, TextContent), second
        return f"{second.content.text} ({second.model}, {second.stop_reason})"

    return server


def ctx_message(role: Any, content: Any) -> SamplingMessage:
    return SamplingMessage(role=role, content=content)
