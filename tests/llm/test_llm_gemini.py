"""Gemini over a client's tools: function declarations and function responses sent by the
google-genai SDK to a local generateContent-shaped server, a scripted multi-step loop over a
real mcpkit server, and the sampling handler with tool use."""

from __future__ import annotations

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator

from _answers import gemini_answer
from _providers import provider_server
from _tools_server import PNG, sampling_server, tools_server
from google import genai

from mcpkit import Client
from mcpkit.llm import GeminiConversation, GeminiSampling, Toolset, run_tool_loop

WAIT = 20


@contextlib.asynccontextmanager
async def sdk(url: str) -> AsyncIterator[genai.Client]:
    client = genai.Client(api_key="test", http_options={"base_url": url})
    async with client.aio:
        yield client


async def test_a_scripted_loop_runs_every_kind_of_tool_result() -> None:
    async with (
        asyncio.timeout(WAIT),
        provider_server() as provider,
        sdk(provider.url) as model,
        Client(tools_server()) as client,
    ):
        toolset = await Toolset.load(client)
        provider.script["gemini"] = [
            gemini_answer(
                "",
                [
                    ("g1", "add", {"a": 2, "b": 3}),
                    ("g2", "chart", {}),
                    ("g3", "fail", {"reason": "no disk"}),
                    ("g4", "notes_read", {}),
                ],
            ),
            gemini_answer("It is 5."),
        ]
        chat = GeminiConversation(
            toolset, "Add 2 and 3.", model="gemini-test", client=model, system="Be brief."
        )
        assert await run_tool_loop(chat) == "It is 5."
    assert provider.errors == []
    first, second = provider.bodies("gemini")
    (declared,) = first["tools"]
    names = {d["name"] for d in declared["functionDeclarations"]}
    assert names == {"add", "chart", "fail", "notes_read"}
    # the SDK sends this field under its proto name, which the API's JSON mapping accepts
    assert declared["functionDeclarations"][0]["parameters_json_schema"]["required"] == ["a", "b"]
    assert first["systemInstruction"]["parts"] == [{"text": "Be brief."}]
    model_turn, replies = second["contents"][1:]
    assert model_turn["role"] == "model" and model_turn["parts"][0]["functionCall"]["id"] == "g1"
    by_id = {p["functionResponse"]["id"]: p["functionResponse"] for p in replies["parts"]}
    assert by_id["g1"] == {"id": "g1", "name": "add", "response": {"output": {"total": 5}}}
    # sent as the SDK serializes it: proto field names, URL-safe base64
    (image,) = by_id["g2"]["parts"]
    assert image["inline_data"]["mime_type"] == "image/png"
    assert base64.urlsafe_b64decode(image["inline_data"]["data"]) == base64.b64decode(PNG)
    assert "it failed: no disk" in by_id["g3"]["response"]["error"]
    assert by_id["g4"]["response"]["output"].startswith("[resource note://1]\nbuy milk")


async def test_the_sampling_handler_answers_with_tool_use() -> None:
    async with asyncio.timeout(WAIT), provider_server() as provider, sdk(provider.url) as model:
        provider.script["gemini"] = [
            gemini_answer("", [("g1", "get_weather", {"city": "Paris"})]),
            gemini_answer("Sunny in Paris."),
        ]
        handler = GeminiSampling(model, model="gemini-test")
        async with Client(
            sampling_server(), sampling_handler=handler, sampling_tools=True
        ) as client:
            done = await client.call_tool("forecast", {"city": "Paris"})
    assert done.text == "Sunny in Paris. (gemini-test, endTurn)", done
    assert provider.errors == []
    first, second = provider.bodies("gemini")
    assert first["toolConfig"] == {"functionCallingConfig": {"mode": "ANY"}}
    assert first["generationConfig"]["maxOutputTokens"] == 1024
    call, reply = second["contents"][1:]
    assert call == {
        "role": "model",
        "parts": [{"functionCall": {"id": "g1", "name": "get_weather", "args": {"city": "Paris"}}}],
    }
    assert reply["parts"] == [
        {"functionResponse": {"id": "g1", "name": "get_weather", "response": {"output": "sunny"}}}
    ]
