"""The MCP server whose tools the models call in these tests: text, structured results, an
image, an embedded resource with a resource link, an error, and a name no API accepts."""

from __future__ import annotations

from typing import TypedDict

from mcpkit import Server, ToolError
from mcpkit.types import (
    ContentBlock,
    EmbeddedResource,
    ImageContent,
    ResourceLink,
    TextResourceContents,
)

__all__ = ["PNG", "tools_server"]

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
