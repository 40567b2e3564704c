"""The Gemini API (google-genai): a client's tools as function declarations, the model's
function calls run through the client, and a sampling handler (`mcpkit[gemini]`)."""

from __future__ import annotations

import base64
import binascii
import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from mcpkit.llm._content import Piece, pieces
from mcpkit.llm._sampling import (
    SamplingHandler,
    as_call_result,
    blocks_of,
    result,
    tool_names,
)
from mcpkit.llm._sdk import GEMINI
from mcpkit.types import (
    AudioContent,
    CallToolResult,
    CreateMessageRequestParams,
    CreateMessageResult,
    ImageContent,
    TextContent,
    Tool,
    ToolResultContent,
    ToolUseContent,
)

if TYPE_CHECKING:
    from google.genai import Client as GenaiClient
    from google.genai.types import GenerateContentResponse

    from mcpkit.llm.names import ToolNames
    from mcpkit.llm.toolset import Toolset

__all__ = ["GeminiConversation", "GeminiSampling", "gemini_function_response", "gemini_tools"]

_CHOICE = {"auto": "AUTO", "required": "ANY", "none": "NONE"}
_STOP = {"STOP": "endTurn", "MAX_TOKENS": "maxTokens"}
_ids = itertools.count(1)


def _declarations(named: Sequence[tuple[str, Tool]]) -> list[dict[str, Any]]:
    declared = [
        {
            "name": name,
            "description": tool.description or tool.title or "",
            "parameters_json_schema": tool.input_schema,
        }
        for name, tool in named
    ]
    return [{"function_declarations": declared}] if declared else []


def gemini_tools(toolset: Toolset) -> list[dict[str, Any]]:
    """The toolset as the config's `tools` (one Tool of FunctionDeclarations, each with the
    tool's JSON Schema as `parameters_json_schema`)."""
    return _declarations(toolset.api_tools())


def _inline(piece: Piece) -> dict[str, Any] | None:
    """The piece's bytes as an `inline_data` part (the SDK takes bytes, so they are decoded
    here); None when its data is not base64, which the server that sent it got wrong."""
    try:
        data = base64.b64decode(piece.data)
    except (binascii.Error, ValueError):
        return None
    return {"inline_data": {"mime_type": piece.mime, "data": data}}


def _unreadable(piece: Piece) -> str:
    return f"[{piece.kind} ({piece.mime}) not shown: its data is not valid base64]"


def gemini_function_response(
    call_id: str | None, name: str, result: CallToolResult
) -> dict[str, Any]:
    """A tool's result as a `function_response` part: the structured result (or the text) as
    `output`, a tool error as `error` (the keys the API names), images and files as parts."""
    found = pieces(result.content)
    inline = [(p, _inline(p)) for p in found if p.kind != "text"]
    # a function response's parts take media only: what cannot be shown is said in its text
    notes = [_unreadable(p) for p, part in inline if part is None]
    text = "\n".join([*(p.text for p in found if p.kind == "text"), *notes])
    value: Any = result.structured_content if result.structured_content is not None else text
    response = {"error": value} if result.is_error else {"output": value}
    reply: dict[str, Any] = {"name": name, "response": response}
    if call_id:
        reply["id"] = call_id
    media = [part for _, part in inline if part is not None]
    if media:
        reply["parts"] = media
    return {"function_response": reply}


def _text(response: GenerateContentResponse) -> str:
    content = response.candidates[0].content if response.candidates else None
    parts = (content.parts or []) if content else []
    return "".join(p.text for p in parts if p.text and not p.thought)


class GeminiConversation:
    """A conversation with a Gemini model over a toolset, for `run_tool_loop`; `contents`
    is the whole exchange (the model's turns as it sent them: thought signatures kept)."""

    def __init__(
        self,
        toolset: Toolset,
        prompt: str | list[Any],
        *,
        model: str,
        client: GenaiClient | None = None,
        system: str | None = None,
    ) -> None:
        self.toolset = toolset
        self.client: GenaiClient = GEMINI.client(client)
        self.model = model
        self.system = system
        self.contents: list[Any] = (
            [{"role": "user", "parts": [{"text": prompt}]}]
            if isinstance(prompt, str)
            else list(prompt)
        )
        self.last: GenerateContentResponse | None = None

    async def step(self) -> bool:
        config: dict[str, Any] = {"tools": gemini_tools(self.toolset)}
        if self.system is not None:
            config["system_instruction"] = self.system
        response = await self.client.aio.models.generate_content(  # pyright: ignore[reportUnknownMemberType]  # its signature names PIL.Image, not installed
            model=self.model,
            contents=self.contents,
            config=config,  # type: ignore[arg-type]
        )
        self.last = response
        if response.candidates and response.candidates[0].content:
            self.contents.append(response.candidates[0].content)
        calls = response.function_calls or []
        if not calls:
            return True
        replies: list[dict[str, Any]] = []
        for call in calls:
            done = await self.toolset.call(call.name or "", call.args)
            replies.append(gemini_function_response(call.id, call.name or "", done))
        self.contents.append({"role": "user", "parts": replies})
        return False

    @property
    def text(self) -> str:
        return _text(self.last) if self.last else ""


def _sampling_parts(
    blocks: list[Any], names: ToolNames, called: dict[str, str]
) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    for block in blocks:
        if isinstance(block, TextContent):
            parts.append({"text": block.text})
        elif isinstance(block, ImageContent | AudioContent):
            kind: Literal["image", "audio"] = (
                "image" if isinstance(block, ImageContent) else "audio"
            )
            piece = Piece(kind, mime=block.mime_type, data=block.data)
            parts.append(_inline(piece) or {"text": _unreadable(piece)})
        elif isinstance(block, ToolUseContent):
            called[block.id] = names.to_api(block.name)
            parts.append(
                {"function_call": {"id": block.id, "name": called[block.id], "args": block.input}}
            )
        elif isinstance(block, ToolResultContent):
            name = called.get(block.tool_use_id, block.tool_use_id)
            parts.append(gemini_function_response(block.tool_use_id, name, as_call_result(block)))
    return parts


class GeminiSampling(SamplingHandler["GenaiClient"]):
    """A sampling handler (`Client(..., sampling_handler=GeminiSampling(model=...),
    sampling_tools=True)`): the server's `ctx.sample` answered by a Gemini model, tool use
    included. `models`: others a server's hints may pick."""

    sdk = GEMINI

    async def __call__(self, params: CreateMessageRequestParams) -> CreateMessageResult:
        names = tool_names(params)
        called: dict[str, str] = {}  # tool use id -> the name its result must carry
        contents = [
            {
                "role": "model" if m.role == "assistant" else "user",
                "parts": _sampling_parts(blocks_of(m), names, called),
            }
            for m in params.messages
        ]
        config: dict[str, Any] = {"max_output_tokens": int(params.max_tokens)}
        if params.system_prompt is not None:
            config["system_instruction"] = params.system_prompt
        if params.temperature is not None:
            config["temperature"] = params.temperature
        if params.stop_sequences:
            config["stop_sequences"] = params.stop_sequences
        if params.tools:
            config["tools"] = _declarations([(names.to_api(t.name), t) for t in params.tools])
        if params.tool_choice is not None and params.tool_choice.mode is not None:
            config["tool_config"] = {
                "function_calling_config": {"mode": _CHOICE[params.tool_choice.mode]}
            }
        model = self.model_for(params)
        response = await self.client.aio.models.generate_content(  # pyright: ignore[reportUnknownMemberType]  # its signature names PIL.Image, not installed
            model=model,
            contents=contents,
            config=config,  # type: ignore[arg-type]
        )
        content: list[Any] = [TextContent(text=_text(response))] if _text(response) else []
        for call in response.function_calls or []:
            name = names.to_mcp(call.name or "") or call.name or ""
            content.append(
                ToolUseContent(
                    id=call.id or f"call_{next(_ids)}", name=name, input=dict(call.args or {})
                )
            )
        finish = response.candidates[0].finish_reason if response.candidates else None
        reason = (
            "toolUse"
            if response.function_calls
            else _STOP.get(finish.value, finish.value)
            if finish
            else None
        )
        return result(content, response.model_version or model, reason)
