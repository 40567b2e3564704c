"""Result types the client returns: the schema's structs, with conveniences for callers."""

from __future__ import annotations

from mcpkit.types import CallToolResult, TextContent

__all__ = ["RESULT_TYPES", "ToolResult"]


class ToolResult(CallToolResult, kw_only=True, omit_defaults=True):
    """A `tools/call` result (`CallToolResult` as the schema has it) plus `text`."""

    @property
    def text(self) -> str:
        """The text of the result's text content blocks, one per line ("" if none)."""
        return "\n".join(block.text for block in self.content if isinstance(block, TextContent))


#: What the client asks its session to decode results into.
RESULT_TYPES: dict[str, type] = {"tools/call": ToolResult}
