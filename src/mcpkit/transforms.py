"""Tool transforms (docs/compose.md, "Tool transforms"): what `server.transform_tool()` and
`server.mount(..., transforms=)` take to derive a tool from another."""

from mcpkit.server.catalog.transforms import Arg, Forward, OriginalToolError, ToolTransform
from mcpkit.server.tool_transforms import ToolTransforms

__all__ = ["Arg", "Forward", "OriginalToolError", "ToolTransform", "ToolTransforms"]
