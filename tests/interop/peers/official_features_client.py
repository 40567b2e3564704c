"""Answer a features server's requests with the official Python SDK's client; print a summary.

Usage: official_features_client.py COMMAND [ARG...]

The server command is started as a subprocess with this process's environment. The client
declares sampling (with tools), elicitation (form and URL) and roots by giving callbacks, and
calls `ask_llm`, `ask_llm_with_tools`, `sign_up` three times (accepting, declining, then
accepting without the defaulted `age`), `connect_account`, `connect_required` and
`show_roots`, then sets the log level to `info` and calls `chatty`. It prints one JSON object
(the shape shared with ts_features_client.mjs, see README.md) and exits 0; on any failure it
prints the error to stderr and exits 1.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import warnings
from collections.abc import Callable
from typing import Any

import mcp_types as types
import peer_main
from mcp import Client, StdioServerParameters
from mcp.client.session import ClientRequestContext, IncomingMessage
from mcp.shared.exceptions import MCPDeprecationWarning, MCPError

__all__ = ["summarize"]

OVERALL_TIMEOUT = 25.0  # seconds; below the test's own bound so the failure is reported here
REQUEST_TIMEOUT = 10.0  # seconds per request
NOTIFICATION_WAIT = 5.0  # seconds; notifications may be handled after the call returns
QUESTION = "What is MCP?"
TOOL_QUESTION = "MCP"
MODEL = "interop-llm"
FORM_ANSWER = {"name": "Ada", "age": 36, "newsletter": True, "color": "green", "size": "l"}
# The third form leaves out `age`, whose default the server applies.
FORM_ANSWER_WITHOUT_AGE = {k: v for k, v in FORM_ANSWER.items() if k != "age"}
ROOTS = [
    {"uri": "file:///interop/project", "name": "project"},
    {"uri": "file:///interop/scratch", "name": None},
]
LOG_LEVEL: types.LoggingLevel = "info"

# Sampling, roots and logging are deprecated by the 2026-07-28 revision; the features
# servers speak 2025-11-25, where they are current.
warnings.simplefilter("ignore", MCPDeprecationWarning)


def wire(model: Any) -> Any:
    """The JSON the SDK's pydantic model stands for, with the wire's camelCase names."""
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


def first_text(result: Any) -> str | None:
    """The text of a tool result's first text content block, if any."""
    for block in wire(result).get("content", []):
        if block.get("type") == "text":
            text: str = block["text"]
            return text
    return None


def tool_json(result: Any) -> Any:
    """A features tool's JSON report, or its text when it is not JSON (an error, say)."""
    text = first_text(result)
    if result.is_error or text is None:
        return {"error": text}
    return json.loads(text)


async def call_expecting_error(client: Client, name: str) -> dict[str, Any]:
    """The JSON-RPC error a tool call answers with: its code and data."""
    try:
        result = await client.call_tool(name, {})
    except MCPError as exc:
        return {"code": exc.code, "data": exc.data}
    return {"result": wire(result)}


def block_summary(block: dict[str, Any]) -> list[Any]:
    """A sampling content block, as wire JSON, in the peers' shared summary shape."""
    if block["type"] == "tool_use":
        return ["tool_use", block["id"], block["name"], block["input"]]
    if block["type"] == "tool_result":
        return ["tool_result", block["toolUseId"], [c.get("text") for c in block["content"]]]
    return [block["type"], block.get("text")]


def blocks(content: Any) -> list[Any]:
    """A sampling message's content, one block or many, as a list."""
    return list(content) if isinstance(content, list) else [content]


class Recorder:
    """The client's callbacks, and what the server sent to each."""

    def __init__(self) -> None:
        self.sampling: list[dict[str, Any]] = []
        self.sampling_tools: list[dict[str, Any]] = []
        self.forms: list[dict[str, Any]] = []
        self.urls: list[dict[str, Any]] = []
        self.completed: list[str] = []
        self.logs: list[list[Any]] = []
        self.changed = asyncio.Event()

    async def sample(
        self, context: ClientRequestContext, params: types.CreateMessageRequestParams
    ) -> types.CreateMessageResult | types.CreateMessageResultWithTools:
        raw = wire(params)
        if raw.get("tools"):
            return self.sample_with_tools(raw)
        self.sampling.append(
            {
                "messages": [[m["role"], m["content"].get("text")] for m in raw["messages"]],
                "max_tokens": raw.get("maxTokens"),
                "system_prompt": raw.get("systemPrompt"),
            }
        )
        question = raw["messages"][-1]["content"].get("text")
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text=f"answer to {question}"),
            model=MODEL,
            stop_reason="endTurn",
        )

    def sample_with_tools(self, raw: dict[str, Any]) -> types.CreateMessageResultWithTools:
        """Call the offered tool first; once its result is in, answer with text."""
        messages = [
            [m["role"], [block_summary(b) for b in blocks(m["content"])]] for m in raw["messages"]
        ]
        self.sampling_tools.append(
            {
                "tools": [[t["name"], t.get("inputSchema")] for t in raw["tools"]],
                "tool_choice": raw.get("toolChoice", {}).get("mode"),
                "messages": messages,
            }
        )
        last = messages[-1][1]
        if last and last[0][0] == "tool_result":
            return types.CreateMessageResultWithTools(
                role="assistant",
                content=types.TextContent(type="text", text=f"final: {last[0][2][0]}"),
                model=MODEL,
                stop_reason="endTurn",
            )
        term = messages[0][1][0][1]
        return types.CreateMessageResultWithTools(
            role="assistant",
            content=[
                types.TextContent(type="text", text="Let me look that up."),
                types.ToolUseContent(
                    type="tool_use", id="call-1", name="lookup", input={"term": term}
                ),
            ],
            model=MODEL,
            stop_reason="toolUse",
        )

    async def elicit(
        self, context: ClientRequestContext, params: types.ElicitRequestParams
    ) -> types.ElicitResult:
        raw = wire(params)
        if isinstance(params, types.ElicitRequestURLParams):
            self.urls.append(
                {
                    "mode": raw.get("mode"),
                    "message": raw.get("message"),
                    "url": raw.get("url"),
                    "elicitation_id": raw.get("elicitationId"),
                }
            )
            return types.ElicitResult(action="accept")
        self.forms.append(
            {
                "mode": raw.get("mode"),
                "message": raw.get("message"),
                "requested_schema": raw.get("requestedSchema"),
            }
        )
        # The first form is filled in, the second declined, the third filled in without age.
        if len(self.forms) == 1:
            return types.ElicitResult(action="accept", content=dict(FORM_ANSWER))
        if len(self.forms) == 2:
            return types.ElicitResult(action="decline")
        return types.ElicitResult(action="accept", content=dict(FORM_ANSWER_WITHOUT_AGE))

    async def list_roots(self, context: ClientRequestContext) -> types.ListRootsResult:
        roots = [types.Root(uri=r["uri"], name=r["name"]) for r in ROOTS]
        return types.ListRootsResult(roots=roots)

    async def log(self, params: types.LoggingMessageNotificationParams) -> None:
        self.logs.append([params.level, params.logger, params.data])
        self.changed.set()

    async def on_message(self, message: IncomingMessage) -> None:
        if isinstance(message, types.ElicitCompleteNotification):
            self.completed.append(message.params.elicitation_id)
            self.changed.set()

    async def wait_until(self, done: Callable[[], bool]) -> None:
        """Wait, bounded, for notification callbacks the SDK runs as tasks of their own;
        the test judges whatever arrived."""
        try:
            async with asyncio.timeout(NOTIFICATION_WAIT):
                while not done():
                    self.changed.clear()
                    await self.changed.wait()
        except TimeoutError:
            pass


async def summarize(command: list[str]) -> dict[str, Any]:
    """Run the whole scenario against `command` and return the summary."""
    params = StdioServerParameters(command=command[0], args=command[1:], env=dict(os.environ))
    rec = Recorder()
    # The 2025-11-25 feature set (URL elicitation's completion notice and its -32042 error,
    # logging/setLevel, roots/list_changed: all gone from 2026-07-28), so the legacy era;
    # tests/interop/test_interop_eras.py covers what both eras share.
    client = Client(
        params,
        mode="legacy",
        read_timeout_seconds=REQUEST_TIMEOUT,
        sampling_callback=rec.sample,
        sampling_capabilities=types.SamplingCapability(tools=types.SamplingToolsCapability()),
        elicitation_callback=rec.elicit,
        list_roots_callback=rec.list_roots,
        logging_callback=rec.log,
        message_handler=rec.on_message,
    )
    async with client:
        info = client.server_info
        sampled = tool_json(await client.call_tool("ask_llm", {"question": QUESTION}))
        with_tools = tool_json(
            await client.call_tool("ask_llm_with_tools", {"question": TOOL_QUESTION})
        )
        accepted = tool_json(await client.call_tool("sign_up", {}))
        declined = tool_json(await client.call_tool("sign_up", {}))
        defaulted = tool_json(await client.call_tool("sign_up", {}))
        connected = tool_json(await client.call_tool("connect_account", {}))
        await rec.wait_until(lambda: len(rec.completed) >= 1)
        required = await call_expecting_error(client, "connect_required")
        roots = tool_json(await client.call_tool("show_roots", {}))
        await client.set_logging_level(LOG_LEVEL)
        chatty = first_text(await client.call_tool("chatty", {}))
        await rec.wait_until(lambda: len(rec.logs) >= 3)
        return {
            "client": "official",
            "protocol_version": client.protocol_version,
            "server_name": info.name if info else None,
            "logging_capability": client.server_capabilities.logging is not None,
            "sampling": {"requests": rec.sampling, "result": sampled},
            "sampling_tools": {"requests": rec.sampling_tools, "result": with_tools},
            "form": {
                "requests": rec.forms,
                "accepted": accepted,
                "declined": declined,
                "defaulted": defaulted,
            },
            "url": {
                "requests": rec.urls,
                "result": connected,
                "completed": rec.completed,
                "required_error": required,
            },
            "roots": roots,
            "logs": rec.logs,
            "chatty": chatty,
        }


if __name__ == "__main__":
    sys.exit(peer_main.main("official_features_client.py", summarize, OVERALL_TIMEOUT))
