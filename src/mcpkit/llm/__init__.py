"""A client's tools handed to an LLM (Anthropic, OpenAI, Gemini), the model/tool loop, and
sampling handlers answered by those models; each provider's SDK is an extra, loaded lazily."""

from __future__ import annotations

from mcpkit.llm.anthropic import (
    AnthropicConversation,
    AnthropicSampling,
    anthropic_tool_result,
    anthropic_tools,
)
from mcpkit.llm.gemini import (
    GeminiConversation,
    GeminiSampling,
    gemini_function_response,
    gemini_tools,
)
from mcpkit.llm.loop import Conversation, StepLimitReached, run_tool_loop
from mcpkit.llm.names import ToolNames
from mcpkit.llm.openai import (
    OpenAIChatConversation,
    OpenAIChatSampling,
    OpenAIResponsesConversation,
    OpenAIResponsesSampling,
    openai_chat_tools,
    openai_responses_tools,
)
from mcpkit.llm.toolset import Toolset

__all__ = [
    "AnthropicConversation",
    "AnthropicSampling",
    "Conversation",
    "GeminiConversation",
    "GeminiSampling",
    "OpenAIChatConversation",
    "OpenAIChatSampling",
    "OpenAIResponsesConversation",
    "OpenAIResponsesSampling",
    "StepLimitReached",
    "ToolNames",
    "Toolset",
    "anthropic_tool_result",
    "anthropic_tools",
    "gemini_function_response",
    "gemini_tools",
    "openai_chat_tools",
    "openai_responses_tools",
    "run_tool_loop",
]
