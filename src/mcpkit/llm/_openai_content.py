"""MCP content as the OpenAI APIs take it: Chat Completions parts and Responses items."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mcpkit.llm._content import Piece, data_url, note, pieces
from mcpkit.types import CallToolResult

__all__ = ["chat_part", "chat_tool_messages", "error_text", "responses_output", "responses_part"]

# Neither API has a tool-error flag: the text says it, as the APIs' own guides advise.
ERROR_PREFIX = "The tool reported an error:\n"
_AUDIO = {"audio/wav": "wav", "audio/x-wav": "wav", "audio/mpeg": "mp3", "audio/mp3": "mp3"}


def error_text(result: CallToolResult, text: str) -> str:
    return ERROR_PREFIX + text if result.is_error else text


def chat_part(piece: Piece) -> dict[str, Any]:
    """A user message's part (ChatCompletionContentPartParam)."""
    if piece.kind == "image":
        return {"type": "image_url", "image_url": {"url": data_url(piece)}}
    if piece.kind == "audio" and piece.mime in _AUDIO:
        return {
            "type": "input_audio",
            "input_audio": {"data": piece.data, "format": _AUDIO[piece.mime]},
        }
    if piece.kind == "file" and piece.mime == "application/pdf":  # the one file type it reads
        name = piece.name.rsplit("/", 1)[-1] or "file"
        return {"type": "file", "file": {"file_data": data_url(piece), "filename": name}}
    if piece.kind != "text":
        piece = note(piece, "Chat Completions")
    return {"type": "text", "text": piece.text}


def chat_tool_messages(results: Sequence[tuple[str, CallToolResult]]) -> list[dict[str, Any]]:
    """Tool results (call id, result) as `tool` messages, which take text only, then one user
    message with their images, audio and PDFs, if any: the API wants every call's `tool`
    message straight after the assistant message that made the calls."""
    messages: list[dict[str, Any]] = []
    attached: list[dict[str, Any]] = []
    for call_id, result in results:
        found = pieces(result.content, result.structured_content)
        texts = [p.text for p in found if p.kind == "text"]
        media = [chat_part(p) for p in found if p.kind != "text"]
        # what a user message cannot take either is a note in the tool message
        texts += [part["text"] for part in media if part["type"] == "text"]
        media = [part for part in media if part["type"] != "text"]
        shown = "\n".join(texts) or ("(see the attached content)" if media else "(no output)")
        messages.append(
            {"role": "tool", "tool_call_id": call_id, "content": error_text(result, shown)}
        )
        if media:
            intro = {"type": "text", "text": f"The content tool call {call_id} returned:"}
            attached += [intro, *media]
    if attached:
        messages.append({"role": "user", "content": attached})
    return messages


def responses_part(piece: Piece) -> dict[str, Any]:
    """An input content item (ResponseInputContentParam) of the Responses API."""
    if piece.kind == "image":
        return {"type": "input_image", "image_url": data_url(piece), "detail": "auto"}
    if piece.kind == "file":
        name = piece.name.rsplit("/", 1)[-1] or "file"
        return {"type": "input_file", "file_data": data_url(piece), "filename": name}
    if piece.kind != "text":
        piece = note(piece, "the Responses API")
    return {"type": "input_text", "text": piece.text}


def responses_output(call_id: str, result: CallToolResult) -> dict[str, Any]:
    """A tool's result as a `function_call_output` item: its text, images and files."""
    found = pieces(result.content, result.structured_content)
    if result.is_error:
        found.insert(0, Piece("text", ERROR_PREFIX.strip()))
    if all(p.kind == "text" for p in found):
        output: Any = "\n".join(p.text for p in found)
    else:
        output = [responses_part(p) for p in found]
    return {"type": "function_call_output", "call_id": call_id, "output": output}
