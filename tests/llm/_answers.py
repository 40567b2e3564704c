"""Scripted model answers in each API's response shape, checked against the SDKs' own
response models so that the script says only what a real API could."""

from __future__ import annotations

import json
from typing import Any

from anthropic.types import Message
from google.genai.types import GenerateContentResponse
from openai.types.chat import ChatCompletion
from openai.types.responses import Response

__all__ = ["anthropic_answer", "chat_answer", "gemini_answer", "responses_answer"]

Calls = list[tuple[str, str, dict[str, Any]]]  # (call id, tool name, arguments)


def anthropic_answer(text: str = "", calls: Calls = (), stop: str | None = None) -> dict[str, Any]:  # type: ignore[assignment]
    content: list[dict[str, Any]] = (
        [{"type": "text", "text": text, "citations": None}] if text else []
    )
    content += [{"type": "tool_use", "id": i, "name": n, "input": a} for i, n, a in calls]
    answer = {
        "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-test",
        "content": content, "stop_reason": stop or ("tool_use" if calls else "end_turn"),
        "stop_sequence": None, "usage": {"input_tokens": 1, "output_tokens": 1},
    }  # fmt: skip
    Message.model_validate(answer)
    return answer


def chat_answer(text: str | None = None, calls: Calls = ()) -> dict[str, Any]:  # type: ignore[assignment]
    message: dict[str, Any] = {"role": "assistant", "content": text, "refusal": None}
    if calls:
        message["tool_calls"] = [
            {"id": i, "type": "function", "function": {"name": n, "arguments": json.dumps(a)}}
            for i, n, a in calls
        ]
    choice = {
        "index": 0,
        "message": message,
        "finish_reason": "tool_calls" if calls else "stop",
        "logprobs": None,
    }
    answer = {
        "id": "chat_1",
        "object": "chat.completion",
        "created": 0,
        "model": "gpt-test",
        "choices": [choice],
    }
    ChatCompletion.model_validate(answer)
    return answer


def responses_answer(text: str = "", calls: Calls = ()) -> dict[str, Any]:  # type: ignore[assignment]
    output: list[dict[str, Any]] = []
    if text:
        part = {"type": "output_text", "text": text, "annotations": []}
        output.append(
            {
                "type": "message",
                "id": "msg_1",
                "role": "assistant",
                "status": "completed",
                "content": [part],
            }
        )
    output += [
        {
            "type": "function_call",
            "id": f"fc_{i}",
            "call_id": i,
            "name": n,
            "arguments": json.dumps(a),
            "status": "completed",
        }
        for i, n, a in calls
    ]
    answer = {
        "id": "resp_1", "object": "response", "created_at": 0, "model": "gpt-test",
        "status": "completed", "output": output, "error": None, "incomplete_details": None,
        "instructions": None, "metadata": {}, "parallel_tool_calls": True, "temperature": 1.0,
        "tool_choice": "auto", "tools": [], "top_p": 1.0,
    }  # fmt: skip
    Response.model_validate(answer)
    return answer


def gemini_answer(text: str = "", calls: Calls = (), finish: str = "STOP") -> dict[str, Any]:  # type: ignore[assignment]
    parts: list[dict[str, Any]] = [{"text": text}] if text else []
    parts += [{"functionCall": {"id": i, "name": n, "args": a}} for i, n, a in calls]
    candidate = {"content": {"role": "model", "parts": parts}, "finishReason": finish, "index": 0}
    answer = {"candidates": [candidate], "modelVersion": "gemini-test"}
    GenerateContentResponse.model_validate(answer)
    return answer
