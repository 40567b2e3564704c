"""`ctx.meta`: the request's `_meta`, read from its params when something first asks (most
handlers never do), the same whether the tool is the server's own or a mounted server's (whose
Context is the parent's, derived), and as a middleware set it when one did."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest

from mcpkit import Context, Server
from mcpkit.protocol.jsonrpc import meta_of
from mcpkit.testing import connected
from mcpkit.types import CallToolRequestParams, CallToolResult, TextContent

WAIT = 10.0


def text_of(result: CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


def mine(meta: dict[str, Any] | None) -> dict[str, Any] | None:
    """The keys of `meta` this test sends or sets (a 2026-07-28 request's carry its terms)."""
    return {k: v for k, v in (meta or {}).items() if "/" not in k} or None


def servers(stamp: bool) -> tuple[Server, list[Any]]:
    """A server with a tool of its own and one of a mounted server, both recording
    `ctx.meta`; with `stamp`, a middleware that sets `ctx.meta` before them."""
    seen: list[Any] = []

    async def stamped(ctx: Context, params: Any, call_next: Any) -> Any:
        ctx.meta = {**(ctx.meta or {}), "stamped": True}
        return await call_next(params)

    parent = Server("parent", middleware=[stamped] if stamp else [])
    child = Server("child")

    @parent.tool()
    def own(ctx: Context) -> str:
        seen.append(mine(ctx.meta))
        return "own"

    @child.tool()
    def inner(ctx: Context) -> str:
        seen.append(mine(ctx.meta))
        return "inner"

    parent.mount(child, namespace="child")
    return parent, seen


@pytest.mark.parametrize("revision", ["2025-11-25", "2026-07-28"])
async def test_a_handler_reads_the_requests_meta_its_own_and_a_mounted_servers(
    revision: str,
) -> None:
    parent, seen = servers(stamp=False)
    async with asyncio.timeout(WAIT), connected(parent, protocol_version=revision) as client:
        assert text_of(await client.call_tool("own", {}, meta={"trace": "a"})) == "own"
        assert text_of(await client.call_tool("child_inner", {}, meta={"trace": "b"})) == "inner"
        assert text_of(await client.call_tool("own", {})) == "own"
    assert seen == [{"trace": "a"}, {"trace": "b"}, None]


@pytest.mark.parametrize("revision", ["2025-11-25", "2026-07-28"])
async def test_a_meta_a_middleware_set_is_what_the_handler_and_a_mounted_one_read(
    revision: str,
) -> None:
    parent, seen = servers(stamp=True)
    async with asyncio.timeout(WAIT), connected(parent, protocol_version=revision) as client:
        await client.call_tool("own", {}, meta={"trace": "a"})
        await client.call_tool("child_inner", {}, meta={"trace": "b"})
    assert seen == [{"trace": "a", "stamped": True}, {"trace": "b", "stamped": True}]


class _Subclassed(CallToolRequestParams):
    """A params class the protocol never decodes into: told as a struct with `_meta` too."""


def test_meta_of_tells_each_class_of_params_once_whatever_it_is() -> None:
    meta = {"progressToken": 7}
    sub = msgspec.convert({"name": "echo", "_meta": meta}, _Subclassed)
    for _ in range(2):  # (the second time, from what the first found of the class)
        assert meta_of(sub) == meta
        assert meta_of(_Subclassed(name="echo")) is None
        assert meta_of({"_meta": meta}) == meta
        assert meta_of(["_meta"]) is None
        assert meta_of(CallToolRequestParams(name="e", meta={"a": [1]})) == {"a": [1]}
