"""A mounted server's middleware where its parent is used: the parent's lists show the mounted
server's tools, resources, templates and prompts as its list middleware leaves them (left
out, edited), at any depth, and calls routed to it pass its call middleware; through a real
client of the parent, in both eras."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest

from mcpkit import Client, Context, Server
from mcpkit.server.middleware import CallNext, ListNext, TypedMiddleware
from mcpkit.types import Prompt, Resource, ResourceTemplate, Tool

ERAS = ["2025-11-25", "2026-07-28"]
WAIT = 10.0


class HideInternal(TypedMiddleware):
    """Leaves out what is named `internal*` (or at an `internal` URI), and says in each
    tool's description that it is the child's."""

    async def on_list_tools(self, ctx: Context, call_next: ListNext) -> list[Tool]:
        return [
            msgspec.structs.replace(t, description=f"[child] {t.description}")
            for t in await call_next()
            if not t.name.startswith("internal")
        ]

    async def on_list_resources(self, ctx: Context, call_next: ListNext) -> list[Resource]:
        return [r for r in await call_next() if "internal" not in r.uri]

    async def on_list_resource_templates(
        self, ctx: Context, call_next: ListNext
    ) -> list[ResourceTemplate]:
        return [t for t in await call_next() if "internal" not in t.uri_template]

    async def on_list_prompts(self, ctx: Context, call_next: ListNext) -> list[Prompt]:
        return [p for p in await call_next() if not p.name.startswith("internal")]


def child_server(calls: list[str]) -> Server:
    async def audit(ctx: Context, params: Any, call_next: CallNext) -> Any:
        if ctx.method == "tools/call":
            calls.append(f"child saw {params.name}")
        return await call_next(params)

    child = Server("child", middleware=[HideInternal(), audit], page_size=1)

    @child.tool
    def search(q: str) -> str:
        """Search the catalogue."""
        return f"found {q}"

    @child.tool
    def internal_reindex() -> str:
        """Rebuild the index."""
        return "reindexed"

    @child.resource("notes://public")
    def public() -> str:
        return "hello"

    @child.resource("notes://internal")
    def secret() -> str:
        return "secret"

    @child.resource("notes://public/{day}")
    def day(day: str) -> str:
        return day

    @child.resource("notes://internal/{day}")
    def internal_day(day: str) -> str:
        return day

    @child.prompt
    def greet() -> str:
        return "hi"

    @child.prompt
    def internal_debug() -> str:
        return "debug"

    return child


def parent_server(calls: list[str]) -> Server:
    parent = Server("parent")

    @parent.tool
    def internal_own() -> str:
        """The parent's own: the child's middleware has no say over it."""
        return "own"

    parent.mount(child_server(calls), "kid")
    return parent


@pytest.mark.parametrize("era", ERAS)
async def test_the_parents_lists_show_the_child_as_its_middleware_leaves_it(era: str) -> None:
    async with asyncio.timeout(WAIT), Client(parent_server([]), protocol=era) as client:
        tools = {t.name: t.description for t in await client.list_tools()}
        assert tools == {
            "internal_own": "The parent's own: the child's middleware has no say over it.",
            "kid_search": "[child] Search the catalogue.",
        }
        assert [r.uri for r in await client.list_resources()] == ["notes://kid/public"]
        templates = await client.list_resource_templates()
        assert [t.uri_template for t in templates] == ["notes://kid/public/{day}"]
        assert [p.name for p in await client.list_prompts()] == ["kid_greet"]


@pytest.mark.parametrize("era", ERAS)
async def test_calls_routed_to_the_child_pass_its_call_middleware(era: str) -> None:
    calls: list[str] = []
    async with asyncio.timeout(WAIT), Client(parent_server(calls), protocol=era) as client:
        assert (await client.call_tool("kid_search", {"q": "dune"})).text == "found dune"
        assert (await client.call_tool("internal_own", {})).text == "own"
    assert calls == ["child saw search"]  # by the child's own name; not the parent's tool


@pytest.mark.parametrize("era", ERAS)
async def test_a_grandchilds_list_middleware_applies_through_two_mounts(era: str) -> None:
    top = Server("top")
    middle = Server("middle")
    middle.mount(child_server([]), "kid")
    top.mount(middle, "mid")
    async with asyncio.timeout(WAIT), Client(top, protocol=era) as client:
        tools = {t.name: t.description for t in await client.list_tools()}
        assert tools == {"mid_kid_search": "[child] Search the catalogue."}


@pytest.mark.parametrize("era", ERAS)
async def test_a_childs_plain_layer_sees_the_parents_list_requests(era: str) -> None:
    seen: list[str] = []

    async def record(ctx: Context, params: Any, call_next: CallNext) -> Any:
        seen.append(f"{ctx.server.name}: {ctx.method}")
        return await call_next(params)

    child = Server("child", middleware=[record])
    child.add_tool(lambda: "x", name="plain")
    parent = Server("parent")
    parent.mount(child, "kid")
    async with asyncio.timeout(WAIT), Client(parent, protocol=era) as client:
        assert [t.name for t in await client.list_tools()] == ["kid_plain"]
        assert (await client.call_tool("kid_plain", {})).text == "x"
    assert seen == ["child: tools/list", "child: tools/call"]
