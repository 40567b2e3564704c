"""A `ToolError` a middleware raises on a tools/call: the tool's error result, as when the tool
raises it (server/tools, "Error Handling": a failure the model should hear of), not a
protocol error. Each layer of a tools/call chain is wrapped once (`chains.chain_for` keeps
the chain), so the layers outside the one that raised see the result, as they would see the
tool's own. A call that asked for a task still gets one (`handlers.routing.through_layers`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mcpkit.errors import ToolError
from mcpkit.protocol.jsonrpc import field_of
from mcpkit.types import CallToolResult, TextContent

if TYPE_CHECKING:
    from mcpkit.runtime.layers import CallNext, Layer

__all__ = ["reporting_tool_errors", "tool_error_result"]


def tool_error_result(name: str, exc: ToolError, error_prefix: str | None) -> CallToolResult:
    """The error result of a `ToolError` raised on a call of tool `name`, by the tool or by a
    middleware around it: its text, after the server's prefix if it has one."""
    prefix = "" if error_prefix is None else error_prefix.format(name=name)
    return CallToolResult(content=[TextContent(text=f"{prefix}{exc}")], is_error=True)


def reporting_tool_errors(layer: Layer[Any]) -> Layer[Any]:
    """`layer`, with a `ToolError` it raises on a tools/call made the call's error result."""

    async def reported(ctx: Any, params: Any, call_next: CallNext) -> Any:
        try:
            return await layer(ctx, params, call_next)
        except ToolError as exc:
            name = str(field_of(params, "name"))
            return tool_error_result(name, exc, ctx.server.tool_error_prefix)

    return reported
