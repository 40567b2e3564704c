"""What the sampling handlers of every provider share: the model chosen, the messages'
blocks, the tools' names and the result."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mcpkit.llm.names import ToolNames
from mcpkit.types import (
    CreateMessageRequestParams,
    CreateMessageResult,
    SamplingMessage,
    SamplingMessageContentBlock,
    TextContent,
    ToolUseContent,
)

__all__ = ["blocks_of", "choose_model", "result", "tool_names"]


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
