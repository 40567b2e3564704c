"""The OpenAI Chat Completions and Responses APIs: a client's tools as their function tools,
their function calls run through the client, and a sampling handler (`mcpkit[openai]`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, cast

from mcpkit.llm._content import Piece
from mcpkit.llm._openai_content import (
    chat_part,
    chat_tool_messages,
    responses_output,
    responses_part,
)
from mcpkit.llm._sampling import (
    SamplingHandler,
    as_call_result,
    blocks_of,
    result,
    tool_names,
)
from mcpkit.llm._sdk import OPENAI
from mcpkit.llm.names import ToolNames
from mcpkit.types import (
    CallToolResult,
    CreateMessageRequestParams,
    CreateMessageResult,
    ImageContent,
    SamplingMessage,
    TextContent,
    Tool,
    ToolResultContent,
    ToolUseContent,
)

if TYPE_CHECKING:
    from openai import AsyncOpenAI
    from openai.types.chat import ChatCompletion
    from openai.types.responses import Response, ResponseFunctionToolCall

    from mcpkit.llm.toolset import Toolset

__all__ = [
    "OpenAIChatConversation",
    "OpenAIChatSampling",
    "OpenAIResponsesConversation",
    "OpenAIResponsesSampling",
    "openai_chat_tools",
    "openai_responses_tools",
]

_STOP = {"stop": "endTurn", "length": "maxTokens", "tool_calls": "toolUse"}


def _chat_definitions(named: Sequence[tuple[str, Tool]]) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "function": {
                "name": name,
                "description": tool.description or tool.title or "",
                "parameters": tool.input_schema,
            },
        }
        for name, tool in named
    ]


def openai_chat_tools(toolset: Toolset) -> list[dict[str, Any]]:
    """The toolset as Chat Completions `tools` (ChatCompletionToolParam)."""
    return _chat_definitions(toolset.api_tools())


def _responses_definitions(named: Sequence[tuple[str, Tool]]) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "name": name,
            "description": tool.description or tool.title or "",
            "parameters": tool.input_schema,
            "strict": False,
        }
        for name, tool in named
    ]


def openai_responses_tools(toolset: Toolset) -> list[dict[str, Any]]:
    """The toolset as Responses API `tools` (FunctionToolParam); not strict, since an MCP
    tool's schema need not meet strict mode's rules."""
    return _responses_definitions(toolset.api_tools())


class OpenAIChatConversation:
    """A conversation with a Chat Completions model over a toolset, for `run_tool_loop`;
    `messages` is the whole exchange in the API's shape."""

    def __init__(
        self,
        toolset: Toolset,
        prompt: str | list[dict[str, Any]],
        *,
        model: str,
        client: AsyncOpenAI | None = None,
    ) -> None:
        self.toolset = toolset
        self.client: AsyncOpenAI = OPENAI.client(client)
        self.model = model
        self.messages: list[dict[str, Any]] = (
            [{"role": "user", "content": prompt}] if isinstance(prompt, str) else list(prompt)
        )
        self.last: ChatCompletion | None = None

    async def step(self) -> bool:
        completion = await self.client.chat.completions.create(
            model=self.model,
            messages=self.messages,  # type: ignore[arg-type]  # dicts of the SDK's TypedDicts
            tools=openai_chat_tools(self.toolset),  # type: ignore[arg-type]
        )
        self.last = completion
        message = completion.choices[0].message
        calls = [call for call in message.tool_calls or [] if call.type == "function"]
        turn: dict[str, Any] = {"role": "assistant", "content": message.content}
        if calls:
            turn["tool_calls"] = [
                {
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.function.name, "arguments": c.function.arguments},
                }
                for c in calls
            ]
        self.messages.append(turn)
        results = [
            (call.id, await self.toolset.call(call.function.name, call.function.arguments))
            for call in calls
        ]
        self.messages.extend(chat_tool_messages(results))
        return not calls

    @property
    def text(self) -> str:
        return (self.last.choices[0].message.content or "") if self.last else ""


class OpenAIResponsesConversation:
    """A conversation with a Responses API model over a toolset, for `run_tool_loop`;
    `input` is the whole exchange as input items (sent each step: nothing kept server-side)."""

    def __init__(
        self,
        toolset: Toolset,
        prompt: str | list[dict[str, Any]],
        *,
        model: str,
        client: AsyncOpenAI | None = None,
        instructions: str | None = None,
    ) -> None:
        self.toolset = toolset
        self.client: AsyncOpenAI = OPENAI.client(client)
        self.model = model
        self.instructions = instructions
        self.input: list[dict[str, Any]] = (
            [{"role": "user", "content": prompt}] if isinstance(prompt, str) else list(prompt)
        )
        self.last: Response | None = None

    async def step(self) -> bool:
        extra: dict[str, Any] = {"instructions": self.instructions} if self.instructions else {}
        # as in AnthropicConversation.step: a cast for pyright, redundant for mypy
        response = cast(  # type: ignore[redundant-cast]
            "Response",
            await self.client.responses.create(
                model=self.model,
                input=self.input,  # type: ignore[arg-type]  # dicts of the SDK's TypedDicts
                tools=openai_responses_tools(self.toolset),  # type: ignore[arg-type]
                store=False,
                **extra,
            ),
        )
        self.last = response
        calls: list[ResponseFunctionToolCall] = []
        for item in response.output:
            if item.type == "function_call":
                calls.append(item)
                self.input.append(
                    {
                        "type": "function_call",
                        "call_id": item.call_id,
                        "name": item.name,
                        "arguments": item.arguments,
                    }
                )
            elif item.type == "message":
                text = "".join(part.text for part in item.content if part.type == "output_text")
                self.input.append({"role": "assistant", "content": text})
            else:  # reasoning and other items go back as they came
                self.input.append(item.model_dump(mode="json", exclude_none=True))
        for call in calls:
            done = await self.toolset.call(call.name, call.arguments)
            self.input.append(responses_output(call.call_id, done))
        return not calls

    @property
    def text(self) -> str:
        return self.last.output_text if self.last else ""


def _chat_messages(message: SamplingMessage, names: ToolNames) -> list[dict[str, Any]]:
    """One sampling message as chat messages: tool results become `tool` messages, tool
    uses an assistant's `tool_calls`."""
    results: list[tuple[str, CallToolResult]] = []
    parts: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []
    for block in blocks_of(message):
        if isinstance(block, ToolResultContent):
            results.append((block.tool_use_id, as_call_result(block)))
        elif isinstance(block, ToolUseContent):
            function = {"name": names.to_api(block.name), "arguments": json.dumps(block.input)}
            calls.append({"id": block.id, "type": "function", "function": function})
        elif isinstance(block, TextContent):
            parts.append({"type": "text", "text": block.text})
        else:  # an image or audio
            kind: Literal["image", "audio"] = (
                "image" if isinstance(block, ImageContent) else "audio"
            )
            parts.append(chat_part(Piece(kind, mime=block.mime_type, data=block.data)))
    out = chat_tool_messages(results) if results else []
    if message.role == "assistant":
        text = "".join(p.get("text", "") for p in parts)
        turn: dict[str, Any] = {"role": "assistant", "content": text or None}
        if calls:
            turn["tool_calls"] = calls
        return [*out, turn]
    return [*out, {"role": "user", "content": parts}] if parts else out


class OpenAIChatSampling(SamplingHandler["AsyncOpenAI"]):
    """A sampling handler over Chat Completions (`Client(..., sampling_handler=
    OpenAIChatSampling(model=...), sampling_tools=True)`), tool use included; any server
    speaking that API (base_url) serves. `models`: others a server's hints may pick."""

    sdk = OPENAI

    async def __call__(self, params: CreateMessageRequestParams) -> CreateMessageResult:
        names = tool_names(params)
        messages = (
            [{"role": "system", "content": params.system_prompt}] if params.system_prompt else []
        )
        for message in params.messages:
            messages.extend(_chat_messages(message, names))
        request: dict[str, Any] = {
            "model": self.model_for(params),
            "messages": messages,
            "max_completion_tokens": int(params.max_tokens),
        }
        if params.temperature is not None:
            request["temperature"] = params.temperature
        if params.stop_sequences:
            request["stop"] = params.stop_sequences
        if params.tools:
            request["tools"] = _chat_definitions([(names.to_api(t.name), t) for t in params.tools])
        if params.tool_choice is not None and params.tool_choice.mode is not None:
            request["tool_choice"] = params.tool_choice.mode
        completion = cast("ChatCompletion", await self.client.chat.completions.create(**request))
        choice = completion.choices[0]
        content: list[Any] = []
        if choice.message.content:
            content.append(TextContent(text=choice.message.content))
        for call in choice.message.tool_calls or []:
            if call.type == "function":
                arguments = json.loads(call.function.arguments or "{}")
                name = names.to_mcp(call.function.name) or call.function.name
                content.append(ToolUseContent(id=call.id, name=name, input=arguments))
        reason = choice.finish_reason
        return result(content, completion.model, _STOP.get(reason, reason))


def _responses_items(message: SamplingMessage, names: ToolNames) -> list[dict[str, Any]]:
    """One sampling message as Responses input items: tool uses become `function_call`
    items, tool results `function_call_output` items, the rest one message."""
    items: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    for block in blocks_of(message):
        if isinstance(block, ToolResultContent):
            items.append(responses_output(block.tool_use_id, as_call_result(block)))
        elif isinstance(block, ToolUseContent):
            name, arguments = names.to_api(block.name), json.dumps(block.input)
            items.append(
                {"type": "function_call", "call_id": block.id, "name": name, "arguments": arguments}
            )
        elif isinstance(block, TextContent):
            parts.append(responses_part(Piece("text", block.text)))
        else:  # an image or audio
            kind: Literal["image", "audio"] = (
                "image" if isinstance(block, ImageContent) else "audio"
            )
            parts.append(responses_part(Piece(kind, mime=block.mime_type, data=block.data)))
    if message.role == "assistant":
        text = "".join(p["text"] for p in parts if p["type"] == "input_text")
        return [*items, {"role": "assistant", "content": text}] if text else items
    return [*items, {"role": "user", "content": parts}] if parts else items


class OpenAIResponsesSampling(SamplingHandler["AsyncOpenAI"]):
    """A sampling handler over the Responses API, tool use included; nothing is stored on
    OpenAI's side (`store=False`). The API has no stop sequences: a server's are not sent.
    `models`: others a server's hints may pick."""

    sdk = OPENAI

    async def __call__(self, params: CreateMessageRequestParams) -> CreateMessageResult:
        names = tool_names(params)
        request: dict[str, Any] = {
            "model": self.model_for(params),
            "input": [item for m in params.messages for item in _responses_items(m, names)],
            "max_output_tokens": int(params.max_tokens),
            "store": False,
        }
        if params.system_prompt is not None:
            request["instructions"] = params.system_prompt
        if params.temperature is not None:
            request["temperature"] = params.temperature
        if params.tools:
            request["tools"] = _responses_definitions(
                [(names.to_api(t.name), t) for t in params.tools]
            )
        if params.tool_choice is not None and params.tool_choice.mode is not None:
            request["tool_choice"] = params.tool_choice.mode
        response = cast("Response", await self.client.responses.create(**request))
        content: list[Any] = (
            [TextContent(text=response.output_text)] if response.output_text else []
        )
        for item in response.output:
            if item.type == "function_call":
                name = names.to_mcp(item.name) or item.name
                content.append(
                    ToolUseContent(
                        id=item.call_id, name=name, input=json.loads(item.arguments or "{}")
                    )
                )
        details = response.incomplete_details
        if any(isinstance(block, ToolUseContent) for block in content):
            reason = "toolUse"
        elif details is not None and details.reason == "max_output_tokens":
            reason = "maxTokens"
        else:
            reason = "endTurn"
        return result(content, response.model, reason)
