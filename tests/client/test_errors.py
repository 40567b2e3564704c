"""The error tree: what each class means, that each is raised, and where users meet them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import mcpkit
from mcpkit import Context, LocalProtocolError, McpError, McpkitError, PeerError, Server, errors

SRC = Path(__file__).resolve().parents[2] / "src" / "mcpkit"
RAISED_BY_USERS = {
    "AuthError",
    "InsufficientScope",
    "InvalidToken",
    "McpkitError",
    "McpError",
    "ToolError",
    "UrlElicitationRequired",
}


def test_every_error_class_is_raised_somewhere_or_meant_for_users() -> None:
    sources = "\n".join(p.read_text() for p in SRC.rglob("*.py") if p.name != "errors.py")
    never = [
        name
        for name in errors.__all__
        if name not in RAISED_BY_USERS and not re.search(rf"\b{name}\(", sources)
    ]
    assert never == []


def test_every_error_class_is_importable_from_mcpkit() -> None:
    for name in errors.__all__:
        assert getattr(mcpkit, name) is getattr(errors, name)


def test_local_misuse_is_not_a_wire_error() -> None:
    # McpError is exactly "a JSON-RPC error object"; misuse caught before sending has no code.
    assert issubclass(LocalProtocolError, McpkitError)
    assert not issubclass(LocalProtocolError, McpError)
    assert issubclass(PeerError, McpError)


async def test_a_method_the_server_did_not_declare_raises_local_protocol_error() -> None:
    server = Server("tools-only")

    @server.tool()
    def noop() -> str:
        return "ok"

    async with mcpkit.Client(server, protocol="2025-11-25") as client:
        with pytest.raises(LocalProtocolError, match="prompts"):
            await client.list_prompts()
        assert (await client.call_tool("noop")).text == "ok"  # the session goes on


async def test_a_tool_asking_for_an_undeclared_capability_gets_an_error_result() -> None:
    server = Server("asks")

    @server.tool()
    async def ask(ctx: Context) -> str:
        await ctx.sample("hello?", max_tokens=5)
        return "unreachable"

    async with mcpkit.Client(server, protocol="2025-11-25") as client:  # declares no sampling
        result = await client.call_tool("ask")
    assert result.is_error and "sampling" in result.text
