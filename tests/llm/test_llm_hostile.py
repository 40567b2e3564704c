"""What a server that gets things wrong, or on purpose, hands the LLM adapters: a name made to
be another's hashed name, an image whose data is not base64, a call refused with -32602 as
servers before SEP-1303 do. Each reaches the model as something it can act on; none raises
out of the loop or maps one model's name to two tools."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Any

import pytest

from mcpkit import Client, Context, Server
from mcpkit.errors import McpError
from mcpkit.llm import ToolNames, Toolset, gemini_function_response
from mcpkit.llm.gemini import GeminiSampling
from mcpkit.protocol import codes
from mcpkit.server.middleware import CallNext
from mcpkit.types import (
    CallToolResult,
    ContentBlock,
    CreateMessageRequestParams,
    ImageContent,
    SamplingMessage,
    TextContent,
)

WAIT = 30


def test_a_name_made_to_be_anothers_hashed_name_still_maps_one_to_one() -> None:
    # "a.b" would become "a_b", which is taken, then "a_b_" + its hash: give that name too
    hashed = "a_b_" + hashlib.sha256(b"a.b").hexdigest()[:8]
    server_names = ["a_b", hashed, "a.b"]
    names = ToolNames(server_names)
    api = [names.to_api(name) for name in server_names]
    assert len(set(api)) == 3, api
    assert [names.to_mcp(a) for a in api] == server_names
    assert names.to_api("a_b") == "a_b" and names.to_api(hashed) == hashed


BAD_IMAGE = ImageContent(data="not base64 at all!", mime_type="image/png")


def test_gemini_says_an_image_whose_data_is_not_base64_is_not_shown() -> None:
    result = CallToolResult(content=[TextContent(text="chart:"), BAD_IMAGE])
    reply = gemini_function_response("c1", "chart", result)["function_response"]
    assert "parts" not in reply
    assert reply["response"]["output"] == (
        "chart:\n[image (image/png) not shown: its data is not valid base64]"
    )


class _Models:
    """The part of google-genai's client GeminiSampling uses: records what it was asked."""

    def __init__(self) -> None:
        self.asked: list[dict[str, Any]] = []
        self.aio = self
        self.models = self

    async def generate_content(self, **request: Any) -> Any:
        from google.genai import types

        self.asked.append(request)
        part = types.Part(text="a chart")
        content = types.Content(role="model", parts=[part])
        return types.GenerateContentResponse(
            candidates=[types.Candidate(content=content, finish_reason=types.FinishReason.STOP)]
        )


async def test_gemini_sampling_of_an_image_that_is_not_base64_asks_the_model() -> None:
    models = _Models()
    handler = GeminiSampling(models, model="gemini")  # type: ignore[arg-type]
    params = CreateMessageRequestParams(
        messages=[SamplingMessage(role="user", content=BAD_IMAGE)], max_tokens=10
    )
    async with asyncio.timeout(WAIT):
        answered = await handler(params)
    assert isinstance(answered.content, TextContent) and answered.content.text == "a chart"
    sent = models.asked[0]["contents"][0]["parts"]
    assert sent == [{"text": "[image (image/png) not shown: its data is not valid base64]"}]


def _refusing_server() -> Server:
    server = Server("old-style")

    @server.tool()
    def add(a: int, b: int) -> int:
        return a + b

    async def refuse(ctx: Context, params: Any, call_next: CallNext) -> Any:
        if ctx.method == "tools/call":
            raise McpError(codes.INVALID_PARAMS, "b must be a number")
        return await call_next(params)

    server.add_middleware(refuse)
    return server


async def test_arguments_a_server_refuses_with_32602_are_a_tool_error_for_the_model() -> None:
    async with asyncio.timeout(WAIT), Client(_refusing_server()) as client:
        tools = await Toolset.load(client)
        refused = await tools.call("add", {"a": 1, "b": "two"})
    assert refused.is_error
    assert refused.content == [TextContent(text="The server refused the call: b must be a number")]


def _flooding_server() -> Server:
    server = Server("flood")

    @server.tool()
    def dump(size: int) -> str:
        return "x" * size

    @server.tool()
    def picture() -> list[ContentBlock]:
        image = ImageContent(data="A" * 5000, mime_type="image/png")
        return [TextContent(text="a picture:"), image]

    return server


async def test_a_result_too_big_for_a_request_reaches_the_model_cut_with_a_note() -> None:
    async with asyncio.timeout(WAIT), Client(_flooding_server()) as client:
        tools = await Toolset.load(client, max_result_chars=1000)
        small = await tools.call("dump", {"size": 10})
        huge = await tools.call("dump", {"size": 5_000_000})
        picture = await tools.call("picture", {})
        whole = await Toolset.load(client, max_result_chars=None)
        uncut = await whole.call("dump", {"size": 5_000_000})
        default = await (await Toolset.load(client)).call("dump", {"size": 5_000_000})
    assert small.content == [TextContent(text="x" * 10)]
    first, note = huge.content
    assert first == TextContent(text="x" * 1000) and huge.structured_content is None
    assert isinstance(note, TextContent) and "more than the 1000 (max_result_chars)" in note.text
    # an image larger than what is left is left out, and the note says the result was cut
    assert [type(block).__name__ for block in picture.content] == ["TextContent", "TextContent"]
    assert "(max_result_chars)" in picture.content[1].text  # type: ignore[union-attr]
    assert uncut.content == [TextContent(text="x" * 5_000_000)]
    assert sum(len(b.text) for b in default.content if isinstance(b, TextContent)) < 101_000
    with pytest.raises(ValueError, match="max_result_chars must be at least 1"):
        Toolset(client, [], max_result_chars=0)
