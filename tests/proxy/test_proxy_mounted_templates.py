"""A mounted `ProxyServer`'s resource templates and completions, end to end in both eras (client
-> front server -> mounted proxy -> upstream Server): the upstream's templates are shown under
the namespace as a mounted Server's are, a read of a match goes upstream by the upstream's own
URI, and completions of its prompts and templates are the upstream's."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from _serving import serving

from mcpkit import Client, Context, Server
from mcpkit.proxy import ProxyServer

ERAS = ["2025-11-25", "2026-07-28"]
COLOURS = ["red", "green", "grey", "gold"]


class Upstream:
    """The proxied server: templates (one whose variable spans segments), a prompt with a
    completer, a completer for a template variable; it records the URIs it is read by."""

    def __init__(self) -> None:
        self.server = Server("upstream")
        self.read: list[str] = []
        server = self.server

        @server.resource("paint://tins/{colour}", description="A tin of paint.")
        def tin(colour: str) -> str:
            return f"a tin of {colour}"

        @server.resource("files://{path*}")
        def file(path: str, ctx: Context) -> str:
            return f"file {path}"

        @server.resource("paint://stock")
        def stock() -> str:
            return "red: 3"

        @server.prompt()
        def advice(colour: str) -> str:
            return f"Use {colour}."

        @server.completion(prompt="advice", argument="colour")
        def colours(value: str, given: dict[str, str]) -> list[str]:
            return [c for c in COLOURS if c.startswith(value)]

        @server.completion(template="paint://tins/{colour}", argument="colour")
        def tins(value: str, given: dict[str, str]) -> list[str]:
            return [c for c in COLOURS if c.startswith(value)] * 60  # more than 100 values

        async def record(ctx: Context, params: Any, call_next: Any) -> Any:
            if ctx.method == "resources/read":
                self.read.append(params.uri)
            return await call_next(params)

        server.add_middleware(record)


def front_with(upstream: Server | str) -> Server:
    front = Server("front")

    @front.resource("paint://front/{room}")
    def room(room: str) -> str:
        return f"the {room}"

    front.mount(ProxyServer(upstream), namespace="up")
    return front


@pytest.mark.parametrize("protocol", ERAS)
async def test_the_upstreams_templates_are_shown_under_the_namespace(protocol: str) -> None:
    front = front_with(Upstream().server)
    async with asyncio.timeout(20), Client(front, protocol=protocol) as client:
        shown = {t.uri_template: t for t in await client.list_resource_templates()}
    assert set(shown) == {"paint://front/{room}", "paint://up/tins/{colour}", "files://up/{path*}"}
    assert shown["paint://up/tins/{colour}"].description == "A tin of paint."


@pytest.mark.parametrize("protocol", ERAS)
async def test_a_read_of_a_templates_match_goes_up_by_the_upstreams_uri(protocol: str) -> None:
    upstream = Upstream()
    front = front_with(upstream.server)
    async with asyncio.timeout(20), Client(front, protocol=protocol) as client:
        tin = await client.read_resource("paint://up/tins/red")
        # `{path*}` spans segments and keeps its escapes: the URI goes up exactly as it is.
        deep = await client.read_resource("files://up/a/b%20c.txt")
        fixed = await client.read_resource("paint://up/stock")
    assert upstream.read == ["paint://tins/red", "files://a/b%20c.txt", "paint://stock"]
    assert (tin.contents[0].uri, tin.contents[0].text) == (  # type: ignore[union-attr]
        "paint://up/tins/red",
        "a tin of red",
    )
    assert deep.contents[0].uri == "files://up/a/b%20c.txt"
    assert deep.contents[0].text == "file a/b c.txt"  # type: ignore[union-attr]
    assert fixed.contents[0].text == "red: 3"  # type: ignore[union-attr]


async def test_the_fronts_own_ctx_read_resource_reads_a_proxied_match_upstream() -> None:
    upstream = Upstream()
    front = front_with(upstream.server)

    @front.tool()
    async def peek(uri: str, ctx: Context) -> str:
        contents = await ctx.read_resource(uri)
        return f"{contents[0].uri}: {contents[0].text}"  # type: ignore[union-attr]

    async with asyncio.timeout(20), Client(front) as client:
        result = await client.call_tool("peek", {"uri": "files://up/x/y.txt"})
    assert result.content[0].text == "files://up/x/y.txt: file x/y.txt"  # type: ignore[union-attr]
    assert upstream.read == ["files://x/y.txt"]


@pytest.mark.parametrize("protocol", ERAS)
async def test_an_unknown_match_is_the_upstreams_not_found(protocol: str) -> None:
    upstream = Upstream()
    upstream.server.add_resource(lambda colour: None, "paint://empty/{colour}")
    front = front_with(upstream.server)
    async with asyncio.timeout(20), Client(front, protocol=protocol) as client:
        with pytest.raises(Exception, match="paint://empty/blue") as caught:
            await client.read_resource("paint://up/empty/blue")
    assert getattr(caught.value, "code", None) in (-32002, -32602)  # the era's "not found"


@pytest.mark.parametrize("protocol", ERAS)
async def test_completions_of_the_upstreams_prompts_and_templates(protocol: str) -> None:
    front = front_with(Upstream().server)
    async with asyncio.timeout(20), Client(front, protocol=protocol) as client:
        prompt = await client.complete({"prompt": "up_advice"}, "colour", "gr")
        template = await client.complete({"template": "paint://up/tins/{colour}"}, "colour", "g")
    assert prompt.completion.values == ["green", "grey"]
    assert len(template.completion.values) == 100  # the upstream's cut, total and hasMore
    assert template.completion.total == 180 and template.completion.has_more is True


async def test_templates_reads_and_completions_over_http() -> None:
    upstream = Upstream()
    async with serving(upstream.server.http_app()) as upstream_base:
        front = front_with(upstream_base + "/mcp")
        async with serving(front.http_app()) as front_base:
            for protocol in ERAS:
                async with asyncio.timeout(30), Client(front_base + "/mcp", protocol=protocol) as c:
                    templates = {t.uri_template for t in await c.list_resource_templates()}
                    assert "files://up/{path*}" in templates
                    read = await c.read_resource("files://up/d/e.txt")
                    assert read.contents[0].text == "file d/e.txt"  # type: ignore[union-attr]
                    done = await c.complete({"prompt": "up_advice"}, "colour", "go")
                    assert done.completion.values == ["gold"]
    assert upstream.read == ["files://d/e.txt", "files://d/e.txt"]
