"""Prompts and resources offered as tools (`server.add_prompts_as_tools()`,
`server.add_resources_as_tools()`, docs/compose.md) through `Client`, in both eras: listed,
rendered and read as prompts/get and resources/read would answer, a mounted server's too."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from mcpkit import Client, McpError, Server

ERAS = ["2025-11-25", "2026-07-28"]


def tools_only_server() -> Server:
    server = Server("docs")

    @server.prompt
    def review(language: str) -> str:
        """Review code."""
        return f"Review this {language} code."

    @server.resource("notes://today", mime_type="text/plain")
    def today() -> str:
        return "ship it"

    @server.resource("notes://day/{day}")
    def day(day: str) -> str:
        return f"notes of {day}"

    child = Server("child")

    @child.prompt
    def greet(name: str) -> str:
        """Greet someone."""
        return f"Hello {name}"

    @child.resource("data://answer")
    def answer() -> str:
        return "42"

    server.mount(child, "kid")
    server.add_prompts_as_tools()
    server.add_resources_as_tools()
    return server


def data(result: Any) -> Any:
    assert not result.is_error, result
    return json.loads(result.content[0].text)


@pytest.mark.parametrize("era", ERAS)
async def test_prompts_are_listed_and_rendered_through_tools(era: str) -> None:
    async with asyncio.timeout(10), Client(tools_only_server(), protocol=era) as client:
        listed = {t.name for t in await client.list_tools()}
        assert {"list_prompts", "get_prompt", "list_resources", "read_resource"} <= listed
        prompts = data(await client.call_tool("list_prompts", {}))["prompts"]
        assert [p["name"] for p in prompts] == ["review", "kid_greet"]
        assert prompts[0]["arguments"] == [{"name": "language", "required": True}]
        rendered = data(
            await client.call_tool(
                "get_prompt", {"name": "review", "arguments": {"language": "Go"}}
            )
        )
        assert rendered["messages"][0]["content"]["text"] == "Review this Go code."
        # a mounted server's prompt, rendered by that server, as prompts/get routes it
        mounted = data(
            await client.call_tool("get_prompt", {"name": "kid_greet", "arguments": {"name": "Al"}})
        )
        assert mounted["messages"][0]["content"]["text"] == "Hello Al"
        direct = await client.get_prompt("kid_greet", {"name": "Al"})
        assert direct.messages[0].content.text == "Hello Al"  # type: ignore[union-attr]


@pytest.mark.parametrize("era", ERAS)
async def test_resources_are_listed_and_read_through_tools(era: str) -> None:
    async with asyncio.timeout(10), Client(tools_only_server(), protocol=era) as client:
        listed = data(await client.call_tool("list_resources", {}))
        assert [r["uri"] for r in listed["resources"]] == ["notes://today", "data://kid/answer"]
        assert [t["uriTemplate"] for t in listed["resourceTemplates"]] == ["notes://day/{day}"]
        read = data(await client.call_tool("read_resource", {"uri": "notes://today"}))
        assert read["contents"] == [
            {"uri": "notes://today", "mimeType": "text/plain", "text": "ship it"}
        ]
        templated = data(await client.call_tool("read_resource", {"uri": "notes://day/monday"}))
        assert templated["contents"][0]["text"] == "notes of monday"
        mounted = data(await client.call_tool("read_resource", {"uri": "data://kid/answer"}))
        assert mounted["contents"] == [{"uri": "data://kid/answer", "text": "42"}]


@pytest.mark.parametrize("era", ERAS)
async def test_what_does_not_exist_is_a_tool_error_not_a_protocol_error(era: str) -> None:
    async with asyncio.timeout(10), Client(tools_only_server(), protocol=era) as client:
        unknown = await client.call_tool("get_prompt", {"name": "nope"})
        assert unknown.is_error and "Unknown prompt: nope" in unknown.content[0].text  # type: ignore[union-attr]
        missing = await client.call_tool("get_prompt", {"name": "review"})
        assert missing.is_error
        absent = await client.call_tool("read_resource", {"uri": "notes://nowhere"})
        assert absent.is_error and "notes://nowhere" in absent.content[0].text  # type: ignore[union-attr]
        bad = await client.call_tool("get_prompt", {"name": "review", "arguments": [1]})
        assert bad.is_error and "Invalid arguments" in bad.content[0].text  # type: ignore[union-attr]


def test_the_tools_names_can_be_chosen_and_collisions_are_refused() -> None:
    server = Server("s")
    server.add_prompts_as_tools(list_name="prompts", get_name="prompt")
    server.add_resources_as_tools(list_name="resources", read_name="read")
    assert [t.name for t in server.tools.items()] == ["prompts", "prompt", "resources", "read"]
    with pytest.raises(ValueError, match="'prompt' is already registered"):
        server.add_prompts_as_tools(list_name="other", get_name="prompt")
    assert "other" not in server.tools  # nothing half added


@pytest.mark.parametrize("era", ERAS)
async def test_the_listing_tools_follow_every_page_and_requests_pass_the_middleware(
    era: str,
) -> None:
    seen: list[str] = []

    async def record(ctx: Any, params: Any, call_next: Any) -> Any:
        seen.append(ctx.method)
        return await call_next(params)

    server = Server("paged", page_size=1, middleware=[record])
    for name in ("one", "two", "three"):
        server.add_prompt(lambda: "hi", name=name)
        server.add_resource(lambda: "x", f"data://{name}")
    server.add_prompts_as_tools()
    server.add_resources_as_tools()
    async with asyncio.timeout(10), Client(server, protocol=era) as client:
        prompts = data(await client.call_tool("list_prompts", {}))["prompts"]
        assert [p["name"] for p in prompts] == ["one", "two", "three"]
        resources = data(await client.call_tool("list_resources", {}))["resources"]
        assert [r["uri"] for r in resources] == ["data://one", "data://two", "data://three"]
        await client.call_tool("get_prompt", {"name": "two"})
    assert seen.count("prompts/list") == 3 and "prompts/get" in seen


@pytest.mark.parametrize("era", ERAS)
async def test_an_unknown_resource_reads_with_the_code_resources_read_answers(era: str) -> None:
    # 2026-07-28 answers an unknown resource with -32602 (server/resources, Error Handling),
    # earlier revisions with -32002: the tool that stands for resources/read says the same.
    async with asyncio.timeout(10), Client(tools_only_server(), protocol=era) as client:
        with pytest.raises(McpError) as direct:
            await client.read_resource("notes://nowhere")
        assert direct.value.code == (-32602 if era == "2026-07-28" else -32002)
        absent = await client.call_tool("read_resource", {"uri": "notes://nowhere"})
        assert absent.is_error
        assert absent.text == f"{direct.value.message} (code {direct.value.code})"
