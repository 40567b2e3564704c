"""Claude over a client's tools: the Messages API's tool definitions and tool results sent by
the anthropic SDK to a local Messages-shaped server, a scripted multi-step loop over a real
mcpkit server, the step limit, and the sampling handler answering a server's `ctx.sample`."""

from __future__ import annotations

import asyncio

import pytest
from _answers import anthropic_answer
from _providers import provider_server
from _tools_server import PNG, sampling_server, tools_server
from anthropic import AsyncAnthropic

from mcpkit import Client
from mcpkit.llm import (
    AnthropicConversation,
    AnthropicSampling,
    StepLimitReached,
    Toolset,
    run_tool_loop,
)

WAIT = 20


def sdk(url: str) -> AsyncAnthropic:
    return AsyncAnthropic(base_url=url, api_key="test", max_retries=0)


async def test_a_scripted_loop_runs_every_kind_of_tool_result() -> None:
    async with (
        asyncio.timeout(WAIT),
        provider_server() as provider,
        sdk(provider.url) as model,
        Client(tools_server()) as client,
    ):
        toolset = await Toolset.load(client)
        provider.script["anthropic"] = [
            anthropic_answer(
                "Let me look.",
                [
                    ("t1", "add", {"a": 2, "b": 3}),
                    ("t2", "chart", {}),
                    ("t3", "fail", {"reason": "no disk"}),
                    ("t4", "notes_read", {}),
                ],
            ),
            anthropic_answer("", [("t5", "nonexistent", {})]),
            anthropic_answer("The total is 5."),
        ]
        chat = AnthropicConversation(toolset, "Add 2 and 3.", model="claude-test", client=model)
        assert await run_tool_loop(chat, max_steps=5) == "The total is 5."
    assert provider.errors == []
    first, second, third = provider.bodies("anthropic")
    assert {tool["name"] for tool in first["tools"]} == {"add", "chart", "fail", "notes_read"}
    results = {block["tool_use_id"]: block for block in second["messages"][-1]["content"]}
    assert results["t1"]["content"] == [{"type": "text", "text": '{"total":5}'}]
    assert "is_error" not in results["t1"]
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}
    assert results["t2"]["content"] == [image]
    assert results["t3"]["is_error"] is True
    assert "it failed: no disk" in results["t3"]["content"][0]["text"]
    note, link = (block["text"] for block in results["t4"]["content"])
    assert note == "[resource note://1]\nbuy milk"
    assert link == "[resource link second (text/plain)] note://2"
    (unknown,) = third["messages"][-1]["content"]
    assert (
        unknown["is_error"] is True
        and "no tool named 'nonexistent'" in unknown["content"][0]["text"]
    )
    # the assistant turns go back as the model sent them
    assert second["messages"][1]["content"][0] == {"type": "text", "text": "Let me look."}


async def test_the_step_limit_ends_a_loop_that_never_answers() -> None:
    async with (
        asyncio.timeout(WAIT),
        provider_server() as provider,
        sdk(provider.url) as model,
        Client(tools_server()) as client,
    ):
        toolset = await Toolset.load(client, only=["add"])
        provider.script["anthropic"] = [
            anthropic_answer("", [(f"t{i}", "add", {"a": i, "b": 1})]) for i in range(3)
        ]
        chat = AnthropicConversation(toolset, "Count.", model="claude-test", client=model)
        with pytest.raises(StepLimitReached, match="after 2 steps") as raised:
            await run_tool_loop(chat, max_steps=2)
    assert raised.value.conversation is chat
    assert len(provider.bodies("anthropic")) == 2 and len(chat.messages) == 5
    assert provider.errors == []


@pytest.mark.parametrize("protocol", ["2025-11-25", "2026-07-28"])
async def test_the_sampling_handler_answers_with_tool_use(protocol: str) -> None:
    """In both eras: a 2025-11-25 session's server request, and a 2026-07-28 tool's input
    request answered and the call retried."""
    async with asyncio.timeout(WAIT), provider_server() as provider, sdk(provider.url) as model:
        provider.script["anthropic"] = [
            anthropic_answer("", [("tu1", "get_weather", {"city": "Paris"})]),
            anthropic_answer("Sunny in Paris."),
        ]
        handler = AnthropicSampling(model, model="claude-test")
        options = {"sampling_handler": handler, "sampling_tools": True, "protocol": protocol}
        async with Client(sampling_server(), **options) as client:
            done = await client.call_tool("forecast", {"city": "Paris"})
    assert done.text == "Sunny in Paris. (claude-test, endTurn)", done
    assert provider.errors == []
    first, second = provider.bodies("anthropic")
    assert first["tools"][0]["name"] == "get_weather" and first["tool_choice"] == {"type": "any"}
    assert first["system"] == "Be brief." and first["max_tokens"] == 1024
    assert second["messages"][1]["content"] == [
        {"type": "tool_use", "id": "tu1", "name": "get_weather", "input": {"city": "Paris"}}
    ]
    assert second["messages"][2]["content"] == [
        {
            "type": "tool_result",
            "tool_use_id": "tu1",
            "content": [{"type": "text", "text": "sunny"}],
        }
    ]
