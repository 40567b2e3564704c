"""`ErrorTransform`: exceptions of chosen types answered with a message of your choosing, as
a tool error or a JSON-RPC error, so their text (and what it tells of the internals) stays in
the server's log."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from mcpkit.errors import McpError, ToolError
from mcpkit.protocol import codes
from mcpkit.server.catalog.calling.tool_failures import failures_inside
from mcpkit.server.middleware.typed import CallToolNext, TypedMiddleware
from mcpkit.types import CallToolResult, TextContent

if TYPE_CHECKING:
    from mcpkit.runtime.layers import CallNext
    from mcpkit.server.context import Context

__all__ = ["ErrorTransform"]


class ErrorTransform(TypedMiddleware):
    """Answer an exception that is an instance of a key of `messages` with that key's
    message (the first key that matches, in order). A tool's exception becomes a tool error
    (`isError`, the model reads the message) with `tools_as="tool_error"`, or a JSON-RPC
    error with `code` with `tools_as="mcp_error"`; any other request's (a resource read, a
    prompt, a layer inside this one) becomes a JSON-RPC error with `code`. McpError and
    ToolError pass as they are: their text is meant for the client already. The exception
    is still logged with its traceback where it was raised."""

    def __init__(
        self,
        messages: Mapping[type[Exception], str],
        *,
        tools_as: Literal["tool_error", "mcp_error"] = "tool_error",
        code: int = codes.INTERNAL_ERROR,
    ) -> None:
        if tools_as not in ("tool_error", "mcp_error"):
            raise ValueError(f"tools_as must be 'tool_error' or 'mcp_error', not {tools_as!r}")
        for kind in messages:
            if not _exception_class(kind):
                raise TypeError(f"ErrorTransform's keys are exception classes, not {kind!r}")
        self.messages = dict(messages)
        self.tools_as = tools_as
        self.code = code

    def message_for(self, exc: BaseException) -> str | None:
        """The message `exc` is answered with, or None to leave it as it is."""
        if isinstance(exc, (McpError, ToolError)):
            return None
        for kind, message in self.messages.items():
            if isinstance(exc, kind):
                return message
        return None

    async def on_request(self, ctx: Context, method: str, params: Any, call_next: CallNext) -> Any:
        """Every request's exceptions: a resource read's, a prompt's, and those of the layers
        inside this one; a tool's own exception arrives as a result (`on_call_tool`)."""
        try:
            return await call_next(params)
        except Exception as exc:
            message = self.message_for(exc)
            if message is None:
                raise
            if method == "tools/call" and self.tools_as == "tool_error":
                return _tool_error(message)
            raise McpError(self.code, message) from None

    async def on_call_tool(
        self, ctx: Context, name: str, arguments: dict[str, Any], call_next: CallToolNext
    ) -> Any:
        # The tool's own exception is an error result by now: kept aside to be told apart.
        with failures_inside() as failures:
            result = await call_next(name, arguments)
        if not failures or not isinstance(result, CallToolResult) or not result.is_error:
            return result
        # The last failure: the attempt this result is from, when a retry inside made several.
        message = self.message_for(failures[-1])
        if message is None:
            return result
        if self.tools_as == "mcp_error":
            raise McpError(self.code, message)
        return _tool_error(message)


def _exception_class(kind: object) -> bool:
    # (checked at run time too: a key written as a string would never match anything)
    return isinstance(kind, type) and issubclass(kind, Exception)


def _tool_error(message: str) -> CallToolResult:
    """An `isError` result with the message as its text, which clients SHOULD give the model
    to act on (server/tools, "Error Handling"); a JSON-RPC error they only MAY."""
    return CallToolResult(content=[TextContent(text=message)], is_error=True)
