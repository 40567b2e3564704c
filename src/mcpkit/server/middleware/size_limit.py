"""`ResponseSizeLimit`: a server middleware that refuses results larger than a number of bytes
of JSON, encoding each result once."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

import msgspec

from mcpkit.errors import McpError
from mcpkit.types import CallToolResult, TextContent
from mcpkit.types.methods import LATEST_REVISION

if TYPE_CHECKING:
    from mcpkit.server.context import Context
    from mcpkit.server.middleware import CallNext

__all__ = ["RESPONSE_TOO_LARGE", "ResponseSizeLimit"]

#: The JSON-RPC error code of a result refused for its size (not a tool's: see the class).
#: Chosen as RATE_LIMITED was (mcpkit.server.middleware.rate_limit): the spec defines none, so an
#: application code outside JSON-RPC's reserved range, -31413 recalling HTTP's 413.
RESPONSE_TOO_LARGE = -31413

logger = logging.getLogger("mcpkit.sizelimit")
_encoder = msgspec.json.Encoder()


class ResponseSizeLimit:
    """Refuses a result whose JSON is over `max_bytes` (the `result` member alone, not the
    JSON-RPC envelope around it).

    A tool's result (tools/call, and tasks/result of a tool's task) is replaced by a tool
    result with `isError: true` saying how large it was and to ask for less: the tool ran,
    and only the model can narrow its request (spec: server/tools, "Error Handling", tool
    errors are reported in the result so the model can see them and adjust). Any other
    result is answered with the JSON-RPC error `RESPONSE_TOO_LARGE`, data `{"size",
    "limit"}`: the client asked for something this server will not send in one piece.

    The result is encoded once, here; under the session's protocol revision (the latest) it
    is handed on as that JSON (`msgspec.Raw`) so the session sends these bytes rather than
    encoding it again. Layers added before this one therefore see `msgspec.Raw` results:
    add it first (outermost) if others inspect results. Older revisions get the result as it
    was, shaped for them by the session.

    Args:
        max_bytes: the largest result sent, in bytes of JSON.
        methods: the methods checked; every method the layers see if None.
    """

    def __init__(self, max_bytes: int, *, methods: Iterable[str] | None = None) -> None:
        if max_bytes < 1:
            raise ValueError(f"max_bytes must be a positive number of bytes, not {max_bytes}")
        self.max_bytes = max_bytes
        self.methods = frozenset(methods) if methods is not None else None

    async def __call__(self, ctx: Context, params: Any, call_next: CallNext) -> Any:
        result = await call_next(params)
        if self.methods is not None and ctx.method not in self.methods:
            return result
        encoded = _encoder.encode(result)
        size = len(encoded)
        if size <= self.max_bytes:
            if ctx.protocol_version == LATEST_REVISION:
                return msgspec.Raw(encoded)
            return result
        logger.warning(
            "result of %s was %d bytes, over the limit of %d: refused",
            ctx.method,
            size,
            self.max_bytes,
        )
        if _is_tool_result(ctx.method, result):
            return self._tool_error(size)
        raise McpError(
            RESPONSE_TOO_LARGE,
            f"The result of {ctx.method} would be {size} bytes, over this server's limit of "
            f"{self.max_bytes}; ask for less (a page, a narrower range)",
            {"size": size, "limit": self.max_bytes},
        )

    def _tool_error(self, size: int) -> CallToolResult:
        text = (
            f"The tool's result was {size} bytes, over this server's limit of "
            f"{self.max_bytes} bytes, so it was not sent. Call the tool again asking for "
            "less (a narrower query, fewer items, a page)."
        )
        return CallToolResult(content=[TextContent(text=text)], is_error=True)


def _is_tool_result(method: str, result: Any) -> bool:
    """Whether `result` is a tool's: a CallToolResult, or the stored result of a tool's task
    (tasks/result answers with what tools/call would have, as a dict)."""
    if isinstance(result, CallToolResult):
        return True
    if method == "tasks/result" and isinstance(result, dict):
        return "content" in cast("dict[str, Any]", result)
    return False
