"""Result types the client returns: the schema's structs, with conveniences for callers."""

from __future__ import annotations

from typing import TypeVar

import msgspec

from mcpkit.errors import McpError
from mcpkit.protocol import codes
from mcpkit.types import CallToolResult, TextContent

__all__ = ["RESULT_TYPES", "ToolResult", "read_result"]

_S = TypeVar("_S", bound=msgspec.Struct)


class ToolResult(CallToolResult, kw_only=True, omit_defaults=True):
    """A `tools/call` result (`CallToolResult` as the schema has it) plus `text`."""

    @property
    def text(self) -> str:
        """The text of the result's text content blocks, one per line ("" if none)."""
        return "\n".join(block.text for block in self.content if isinstance(block, TextContent))


#: What the client asks its session to decode results into.
RESULT_TYPES: dict[str, type] = {"tools/call": ToolResult}


def read_result(decoder: msgspec.json.Decoder[_S], raw: msgspec.Raw | bytes, method: str) -> _S:
    """What the server answered to `method`, as `decoder` reads it; McpError -32602 saying
    what was wrong when it is not that shape (a broken or hostile server)."""
    try:
        return decoder.decode(raw)
    except msgspec.ValidationError as exc:
        raise McpError(codes.INVALID_PARAMS, f"Invalid result for {method}: {exc}") from None
