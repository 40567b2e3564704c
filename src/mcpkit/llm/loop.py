"""The model/tool loop: ask the model, run the tools it calls, until it answers or a limit."""

from __future__ import annotations

from typing import Protocol

from mcpkit.errors import McpkitError

__all__ = ["Conversation", "StepLimitReached", "run_tool_loop"]


class Conversation(Protocol):
    """A provider's conversation with a model over a `Toolset` (AnthropicConversation,
    OpenAIChatConversation, OpenAIResponsesConversation, GeminiConversation)."""

    async def step(self) -> bool:
        """Ask the model once and run the tools it calls, their results added to the
        conversation; True when it answered without calling any."""
        ...

    @property
    def text(self) -> str:
        """The text of the model's latest answer."""
        ...


class StepLimitReached(McpkitError):
    """The model still called tools after `max_steps` requests; `conversation` holds them
    all, so a caller may read it, or go on with a new limit."""

    def __init__(self, max_steps: int, conversation: Conversation) -> None:
        super().__init__(f"the model still called tools after {max_steps} steps (max_steps)")
        self.max_steps = max_steps
        self.conversation = conversation


async def run_tool_loop(conversation: Conversation, *, max_steps: int = 10) -> str:
    """Run the conversation until the model answers without calling a tool; its answer's
    text. Each step is one request to the model; StepLimitReached after `max_steps`."""
    if max_steps < 1:
        raise ValueError(f"max_steps must be at least 1, not {max_steps}")
    for _ in range(max_steps):
        if await conversation.step():
            return conversation.text
    raise StepLimitReached(max_steps, conversation)
