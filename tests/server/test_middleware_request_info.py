"""`ctx.request_info`, what the transport knew of a request, reaches every kind of handler
that takes a Context (tool, resource, resource template, prompt) and every middleware layer,
over Streamable HTTP; None in memory."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from mcpkit import Client, Context, Server
from mcpkit.server.middleware import CallNext

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http"))
from _serving import serving


def describe(ctx: Context) -> str:
    info = ctx.request_info
    if info is None:
        return "none"
    assert info.client is not None
    return f"{info.transport} {info.header('x-caller')} {info.client[0]}"


def make_server(layer_saw: list[str]) -> Server:
    async def look(ctx: Context, params: Any, call_next: CallNext) -> Any:
        layer_saw.append(f"{ctx.method}: {describe(ctx)}")
        return await call_next(params)

    server = Server("info", middleware=[look])

    @server.tool()
    def tool(ctx: Context) -> str:
        return describe(ctx)

    @server.resource("info://static")
    def static(ctx: Context) -> str:
        return describe(ctx)

    @server.resource("info://{name}/templated")
    def templated(name: str, ctx: Context) -> str:
        return describe(ctx)

    @server.prompt()
    def prompt(topic: str, ctx: Context) -> str:
        return describe(ctx)

    return server


def text_of(item: Any) -> str:
    return str(item.text)


async def test_every_handler_and_layer_sees_the_http_request() -> None:
    saw: list[str] = []
    async with serving(make_server(saw).http_app()) as base:
        async with Client(f"{base}/mcp", headers={"x-caller": "ada"}) as client:
            seen = [
                text_of((await client.call_tool("tool")).content[0]),
                text_of((await client.read_resource("info://static")).contents[0]),
                text_of((await client.read_resource("info://x/templated")).contents[0]),
                text_of((await client.get_prompt("prompt", {"topic": "t"})).messages[0].content),
            ]
    assert seen == ["http ada 127.0.0.1"] * 4
    assert saw == [
        f"{method}: http ada 127.0.0.1"
        for method in ("tools/call", "resources/read", "resources/read", "prompts/get")
    ]


async def test_in_memory_there_is_nothing_to_know() -> None:
    saw: list[str] = []
    async with Client(make_server(saw)) as client:
        assert text_of((await client.read_resource("info://static")).contents[0]) == "none"
        prompt = await client.get_prompt("prompt", {"topic": "t"})
        assert text_of(prompt.messages[0].content) == "none"
    assert saw == ["resources/read: none", "prompts/get: none"]
