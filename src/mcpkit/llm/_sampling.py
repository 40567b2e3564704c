"""What the sampling handlers of every provider share: how one is made (`SamplingHandler`),
the model chosen, the messages' blocks, the tools' names and the result."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Generic, TypeVar

from mcpkit.llm._sdk import Sdk
from mcpkit.llm.names import ToolNames
from mcpkit.types import (
    CallToolResult,
    CreateMessageRequestParams,
    CreateMessageResult,
    SamplingMessage,
    SamplingMessageContentBlock,
    TextContent,
    ToolResultContent,
    ToolUseContent,
)

__all__ = [
    "SamplingHandler",
    "as_call_result",
    "blocks_of",
    "choose_model",
    "result",
    "tool_names",
]

C = TypeVar("C")


class SamplingHandler(Generic[C]):
    """A sampling handler over one provider's SDK: its async `client` (the SDK's default one,
    made from the environment, when none is given), the `model` it asks, and the other
    `models` a server's hints may pick. Each provider's subclass names its `sdk`."""

    sdk: ClassVar[Sdk]

    def __init__(self, client: C | None = None, *, model: str, models: Sequence[str] = ()) -> None:
        self.client: C = self.sdk.client(client)
        self.model = model
        self.models = list(models)

    def model_for(self, params: CreateMessageRequestParams) -> str:
        """The model to ask for `params` (`choose_model`)."""
        return choose_model(params, self.model, self.models)


def choose_model(params: CreateMessageRequestParams, model: str, models: Sequence[str]) -> str:
    """The first of `models` that a hint of the server names (a hint is a substring of a
    model's name: client/sampling "Model Hints"), else `model`."""
    hints = (params.model_preferences.hints or []) if params.model_preferences else []
    for hint in hints:
        for candidate in models:
            if hint.name and hint.name in candidate:
                return candidate
    return model


def blocks_of(message: SamplingMessage) -> list[SamplingMessageContentBlock]:
    content = message.content
    return list(content) if isinstance(content, list) else [content]


def tool_names(params: CreateMessageRequestParams) -> ToolNames:
    """The names of the tools the server gave, and of those its messages used."""
    used = [
        block.name
        for message in params.messages
        for block in blocks_of(message)
        if isinstance(block, ToolUseContent)
    ]
    return ToolNames([*(tool.name for tool in params.tools or []), *used])


def result(content: list[Any], model: str, stop_reason: str | None) -> CreateMessageResult:
    """One text block as itself (what servers that never ask for tools expect), anything
    else as a list."""
    if not content:
        content = [TextContent(text="")]
    shape = content[0] if len(content) == 1 and isinstance(content[0], TextContent) else content
    return CreateMessageResult(
        role="assistant", content=shape, model=model, stop_reason=stop_reason
    )


def as_call_result(block: ToolResultContent) -> CallToolResult:
    """A sampling message's tool result as the tool call's result it reports."""
    return CallToolResult(
        content=block.content, is_error=block.is_error, structured_content=block.structured_content
    )
