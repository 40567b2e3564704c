"""A client's tools as a model sees them: valid names, and calls run back through the client."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mcpkit.errors import McpError
from mcpkit.llm._result_cap import DEFAULT_MAX_RESULT_CHARS, capped
from mcpkit.llm.names import ToolNames
from mcpkit.protocol import codes
from mcpkit.types import CallToolResult, TextContent, Tool

if TYPE_CHECKING:
    from mcpkit.client import Client

__all__ = ["Toolset"]


def _error(text: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(text=text)], is_error=True)


class Toolset:
    """The tools of one client (all of them, or those named), each with a name valid for
    every provider's API. `await Toolset.load(client)` lists them; `call` runs one.

    `max_result_chars` bounds what one result hands the model (its text and base64 data;
    None: no bound): a larger one is cut, with a note saying so (`_result_cap.capped`)."""

    def __init__(
        self,
        client: Client,
        tools: Sequence[Tool],
        *,
        max_result_chars: int | None = DEFAULT_MAX_RESULT_CHARS,
    ) -> None:
        if max_result_chars is not None and max_result_chars < 1:
            raise ValueError(f"max_result_chars must be at least 1, not {max_result_chars}")
        self.client = client
        self.tools = list(tools)
        self.names = ToolNames(tool.name for tool in self.tools)
        self.max_result_chars = max_result_chars

    @classmethod
    async def load(
        cls,
        client: Client,
        *,
        only: Sequence[str] | None = None,
        max_result_chars: int | None = DEFAULT_MAX_RESULT_CHARS,
    ) -> Toolset:
        """The client's tools (`only` these names, if given: an unknown one raises)."""
        tools = await client.list_tools()
        if only is not None:
            offered = {tool.name for tool in tools}
            missing = sorted(set(only) - offered)
            if missing:
                raise ValueError(f"the server offers no tool named {', '.join(missing)}")
            tools = [tool for tool in tools if tool.name in set(only)]
        return cls(client, tools, max_result_chars=max_result_chars)

    def api_tools(self) -> list[tuple[str, Tool]]:
        """Each tool with the name the model gets for it."""
        return [(self.names.to_api(tool.name), tool) for tool in self.tools]

    async def call(self, api_name: str, arguments: str | dict[str, Any] | None) -> CallToolResult:
        """Run the model's call of `api_name`. What the model got wrong (a name it was never
        given, arguments that are not a JSON object, arguments a server refuses with -32602
        as servers before SEP-1303 do) comes back as a tool error it can fix, as the server's
        own input errors do; other protocol errors raise."""
        name = self.names.to_mcp(api_name)
        if name is None:
            return _error(f"There is no tool named {api_name!r}.")
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments or "{}")
            except ValueError as exc:
                return _error(f"The arguments are not valid JSON: {exc}")
        if arguments is not None and not isinstance(arguments, dict):
            return _error("The arguments must be a JSON object.")
        try:
            result: CallToolResult = await self.client.call_tool(name, arguments or {})
        except McpError as exc:
            if exc.code != codes.INVALID_PARAMS:
                raise
            return _error(f"The server refused the call: {exc.message}")
        if self.max_result_chars is None:
            return result
        return capped(result, self.max_result_chars)
