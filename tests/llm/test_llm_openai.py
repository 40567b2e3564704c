"""OpenAI over a client's tools: Chat Completions and Responses function tools and tool
outputs sent by the openai SDK to a local server of those shapes, scripted multi-step loops
over a real mcpkit server, and the Chat Completions sampling handler with tool use."""

from __future__ import annotations

import asyncio
import json

from _answers import chat_answer, responses_answer
from _providers import provider_server
from _tools_server import PNG, sampling_server, tools_server
from openai import AsyncOpenAI

from mcpkit import Client
from mcpkit.llm import (
    OpenAIChatConversation,
    OpenAIChatSampling,
    OpenAIResponsesConversation,
    OpenAIResponsesSampling,
    Toolset,
    run_tool_loop,
)

WAIT = 20
DATA_URL = f"data:image/png;base64,{PNG}"
CALLS = [
    ("c1", "add", {"a": 2, "b": 3}),
    ("c2", "chart", {}),
    ("c3", "fail", {"reason": "no disk"}),
    ("c4", "notes_read", {}),
]


def sdk(url: str) -> AsyncOpenAI:
    return AsyncOpenAI(base_url=f"{url}/v1", api_key="test", max_retries=0)


async def test_a_chat_completions_loop_runs_every_kind_of_tool_result() -> None:
    async with (
        asyncio.timeout(WAIT),
        provider_server() as provider,
        sdk(provider.url) as model,
        Client(tools_server()) as client,
    ):
        toolset = await Toolset.load(client)
        provider.script["chat"] = [chat_answer(None, CALLS), chat_answer("It is 5.")]
        chat = OpenAIChatConversation(toolset, "Add 2 and 3.", model="gpt-test", client=model)
        assert await run_tool_loop(chat) == "It is 5."
    assert provider.errors == []
    first, second = provider.bodies("chat")
    names = {tool["function"]["name"] for tool in first["tools"]}
    assert names == {"add", "chart", "fail", "notes_read"}
    assert second["messages"][1]["tool_calls"][0]["function"] == {
        "name": "add",
        "arguments": '{"a": 2, "b": 3}',
    }
    tool = {m["tool_call_id"]: m for m in second["messages"] if m["role"] == "tool"}
    assert tool["c1"]["content"] == '{"total":5}'
    assert tool["c3"]["content"].startswith("The tool reported an error:\n")
    assert "it failed: no disk" in tool["c3"]["content"]
    assert tool["c4"]["content"].startswith("[resource note://1]\nbuy milk\n[resource link")
    # every tool message straight after the calls; a tool message takes text only, so the
    # image follows in a user message
    roles = [m["role"] for m in second["messages"]]
    assert roles == ["user", "assistant", "tool", "tool", "tool", "tool", "user"]
    assert second["messages"][-1]["content"] == [
        {"type": "text", "text": "The content tool call c2 returned:"},
        {"type": "image_url", "image_url": {"url": DATA_URL}},
    ]


async def test_a_responses_loop_runs_every_kind_of_tool_result() -> None:
    async with (
        asyncio.timeout(WAIT),
        provider_server() as provider,
        sdk(provider.url) as model,
        Client(tools_server()) as client,
    ):
        toolset = await Toolset.load(client)
        provider.script["responses"] = [
            responses_answer("Looking.", CALLS),
            responses_answer("It is 5."),
        ]
        chat = OpenAIResponsesConversation(
            toolset, "Add 2 and 3.", model="gpt-test", client=model, instructions="Be brief."
        )
        assert await run_tool_loop(chat, max_steps=2) == "It is 5."
    assert provider.errors == []
    first, second = provider.bodies("responses")
    assert first["instructions"] == "Be brief." and first["store"] is False
    assert first["tools"][0] == {
        "type": "function",
        "name": "add",
        "description": "Add two numbers.",
        "parameters": first["tools"][0]["parameters"],
        "strict": False,
    }
    outputs = {
        i["call_id"]: i["output"]
        for i in second["input"]
        if i.get("type") == "function_call_output"
    }
    assert outputs["c1"] == '{"total":5}'
    assert outputs["c2"] == [{"type": "input_image", "image_url": DATA_URL, "detail": "auto"}]
    assert outputs["c3"].startswith("The tool reported an error:\n")
    calls = [i for i in second["input"] if i.get("type") == "function_call"]
    assert json.loads(calls[0]["arguments"]) == {"a": 2, "b": 3}
    assert second["input"][1] == {"role": "assistant", "content": "Looking."}


async def test_the_chat_sampling_handler_answers_with_tool_use() -> None:
    async with asyncio.timeout(WAIT), provider_server() as provider, sdk(provider.url) as model:
        provider.script["chat"] = [
            chat_answer(None, [("c1", "get_weather", {"city": "Paris"})]),
            chat_answer("Sunny in Paris."),
        ]
        handler = OpenAIChatSampling(model, model="gpt-test")
        async with Client(
            sampling_server(), sampling_handler=handler, sampling_tools=True
        ) as client:
            done = await client.call_tool("forecast", {"city": "Paris"})
    assert done.text == "Sunny in Paris. (gpt-test, endTurn)", done
    assert provider.errors == []
    first, second = provider.bodies("chat")
    assert (
        first["tool_choice"] == "required"
        and first["tools"][0]["function"]["name"] == "get_weather"
    )
    assert first["messages"][0] == {"role": "system", "content": "Be brief."}
    assert second["messages"][1]["tool_calls"][0]["function"]["name"] == "get_weather"
    assert second["messages"][2] == {"role": "tool", "tool_call_id": "c1", "content": "sunny"}


async def test_the_responses_sampling_handler_answers_with_tool_use() -> None:
    async with asyncio.timeout(WAIT), provider_server() as provider, sdk(provider.url) as model:
        provider.script["responses"] = [
            responses_answer("", [("c1", "get_weather", {"city": "Paris"})]),
            responses_answer("Sunny in Paris."),
        ]
        handler = OpenAIResponsesSampling(model, model="gpt-test")
        async with Client(
            sampling_server(), sampling_handler=handler, sampling_tools=True
        ) as client:
            done = await client.call_tool("forecast", {"city": "Paris"})
    assert done.text == "Sunny in Paris. (gpt-test, endTurn)", done
    assert provider.errors == []
    first, second = provider.bodies("responses")
    assert first["tool_choice"] == "required" and first["tools"][0]["name"] == "get_weather"
    assert first["instructions"] == "Be brief." and first["store"] is False
    assert first["input"] == [
        {"role": "user", "content": [{"type": "input_text", "text": "Weather in Paris?"}]}
    ]
    call, output = second["input"][1:]
    assert call == {
        "type": "function_call",
        "call_id": "c1",
        "name": "get_weather",
        "arguments": '{"city": "Paris"}',
    }
    assert output == {"type": "function_call_output", "call_id": "c1", "output": "sunny"}
