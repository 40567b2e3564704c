"""The Anthropic Messages API: a client's tools as its tool definitions, its tool calls run
through the client, and a sampling handler answered by its models (`mcpkit[anthropic]`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from mcpkit.llm._content import Piece, note, pieces
from mcpkit.llm._sampling import (
    SamplingHandler,
    as_call_result,
    blocks_of,
    result,
    tool_names,
)
from mcpkit.llm._sdk import ANTHROPIC
from mcpkit.llm.names import ToolNames
from mcpkit.types import (
    AudioContent,
    CallToolResult,
    CreateMessageRequestParams,
    CreateMessageResult,
    ImageContent,
    SamplingMessageContentBlock,
    TextContent,
    Tool,
    ToolUseContent,
)

if TYPE_CHECKING:
    from anthropic import AsyncAnthropic
    from anthropic.types import Message

    from mcpkit.llm.toolset import Toolset

__all__ = [
    "AnthropicConversation",
    "AnthropicSampling",
    "anthropic_tool_result",
    "anthropic_tools",
]

_IMAGES = {"image/jpeg", "image/png", "image/gif", "image/webp"}
_STOP = {
    "end_turn": "endTurn",
    "max_tokens": "maxTokens",
    "stop_sequence": "stopSequence",
    "tool_use": "toolUse",
}
_CHOICE = {"auto": "auto", "required": "any", "none": "none"}


def _definitions(named: Sequence[tuple[str, Tool]]) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "description": tool.description or tool.title or "",
            "input_schema": tool.input_schema,
        }
        for name, tool in named
    ]


def anthropic_tools(toolset: Toolset) -> list[dict[str, Any]]:
    """The toolset as the Messages API's `tools` (ToolParam)."""
    return _definitions(toolset.api_tools())


def _block(piece: Piece) -> dict[str, Any]:
    if piece.kind == "image" and piece.mime in _IMAGES:
        source = {"type": "base64", "media_type": piece.mime, "data": piece.data}
        return {"type": "image", "source": source}
    if piece.kind == "file" and piece.mime == "application/pdf":
        source = {"type": "base64", "media_type": piece.mime, "data": piece.data}
        return {"type": "document", "source": source}
    if piece.kind != "text":
        piece = note(piece, "the Messages API")
    return {"type": "text", "text": piece.text}


def anthropic_tool_result(tool_use_id: str, result: CallToolResult) -> dict[str, Any]:
    """A tool's result as a `tool_result` block (ToolResultBlockParam); a tool error is
    `is_error`, so the model sees it as one."""
    block: dict[str, Any] = {
        "type": "tool_result",
        "tool_use_id": tool_use_id,
        "content": [_block(p) for p in pieces(result.content, result.structured_content)],
    }
    if result.is_error:
        block["is_error"] = True
    return block


def _assistant_content(message: Message) -> list[dict[str, Any]]:
    """The reply as the next request's assistant turn (thinking blocks kept as they came:
    the API checks their signatures)."""
    content: list[dict[str, Any]] = []
    for block in message.content:
        if block.type == "text":
            content.append({"type": "text", "text": block.text})
        elif block.type == "tool_use":
            content.append(
                {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
            )
        else:
            content.append(block.to_dict())
    return content


class AnthropicConversation:
    """A conversation with a Claude model over a toolset, for `run_tool_loop`; `messages`
    is the whole exchange, in the Messages API's shape."""

    def __init__(
        self,
        toolset: Toolset,
        prompt: str | list[dict[str, Any]],
        *,
        model: str,
        client: AsyncAnthropic | None = None,
        max_tokens: int = 4096,
        system: str | None = None,
    ) -> None:
        self.toolset = toolset
        self.client: AsyncAnthropic = ANTHROPIC.client(client)
        self.model = model
        self.max_tokens = max_tokens
        self.system = system
        self.messages: list[dict[str, Any]] = (
            [{"role": "user", "content": prompt}] if isinstance(prompt, str) else list(prompt)
        )
        self.last: Message | None = None

    async def step(self) -> bool:
        extra: dict[str, Any] = {"system": self.system} if self.system is not None else {}
        # The SDK's overloads take its TypedDicts, ours are plain dicts of the same shape: mypy
        # picks an overload past the ignored arguments, pyright gives up (hence the cast).
        message = cast(  # type: ignore[redundant-cast]
            "Message",
            await self.client.messages.create(
                model=self.model,
                max_tokens=self.max_tokens,
                messages=self.messages,  # type: ignore[arg-type]  # dicts of the SDK's TypedDicts
                tools=anthropic_tools(self.toolset),  # type: ignore[arg-type]
                **extra,
            ),
        )
        self.last = message
        self.messages.append({"role": "assistant", "content": _assistant_content(message)})
        calls = [block for block in message.content if block.type == "tool_use"]
        if not calls:
            return True
        results = [
            anthropic_tool_result(call.id, await self.toolset.call(call.name, call.input))
            for call in calls
        ]
        self.messages.append({"role": "user", "content": results})
        return False

    @property
    def text(self) -> str:
        if self.last is None:
            return ""
        return "".join(block.text for block in self.last.content if block.type == "text")


def _sampling_block(block: SamplingMessageContentBlock, names: ToolNames) -> dict[str, Any]:
    if isinstance(block, TextContent):
        return {"type": "text", "text": block.text}
    if isinstance(block, ImageContent | AudioContent):
        return _block(
            Piece(
                "image" if isinstance(block, ImageContent) else "audio",
                mime=block.mime_type,
                data=block.data,
            )
        )
    if isinstance(block, ToolUseContent):
        return {
            "type": "tool_use",
            "id": block.id,
            "name": names.to_api(block.name),
            "input": block.input,
        }
    # a ToolResultContent: the last of the union
    return anthropic_tool_result(block.tool_use_id, as_call_result(block))


class AnthropicSampling(SamplingHandler["AsyncAnthropic"]):
    """A sampling handler (`Client(..., sampling_handler=AnthropicSampling(model=...),
    sampling_tools=True)`): the server's `ctx.sample` answered by a Claude model, the
    server's tools and tool choice included. `models`: others a server's hints may pick."""

    sdk = ANTHROPIC

    async def __call__(self, params: CreateMessageRequestParams) -> CreateMessageResult:
        names = tool_names(params)
        request: dict[str, Any] = {
            "model": self.model_for(params),
            "max_tokens": int(params.max_tokens),
            "messages": [
                {"role": m.role, "content": [_sampling_block(b, names) for b in blocks_of(m)]}
                for m in params.messages
            ],
        }
        if params.system_prompt is not None:
            request["system"] = params.system_prompt
        if params.temperature is not None:
            request["temperature"] = params.temperature
        if params.stop_sequences:
            request["stop_sequences"] = params.stop_sequences
        if params.tools:
            request["tools"] = _definitions([(names.to_api(t.name), t) for t in params.tools])
        if params.tool_choice is not None and params.tool_choice.mode is not None:
            request["tool_choice"] = {"type": _CHOICE[params.tool_choice.mode]}
        message = cast("Message", await self.client.messages.create(**request))
        content: list[Any] = []
        for block in message.content:
            if block.type == "text":
                content.append(TextContent(text=block.text))
            elif block.type == "tool_use":
                name = names.to_mcp(block.name) or block.name
                content.append(ToolUseContent(id=block.id, name=name, input=dict(block.input)))
        stop = message.stop_reason
        return result(content, message.model, _STOP.get(stop, stop) if stop else None)
