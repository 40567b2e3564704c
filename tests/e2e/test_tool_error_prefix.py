"""`Server(tool_error_prefix=)`: a `ToolError`'s text gets a prefix a model can read when an
agent framework hands it the text without `isError`, in both eras; off by default."""

from __future__ import annotations

import asyncio

import pytest

from mcpkit import Client, Server, ToolError
from mcpkit.types import TextContent

ERAS = ["2025-11-25", "2026-07-28"]


def make_server(prefix: bool | str) -> Server:
    server = Server("prefixed", tool_error_prefix=prefix)

    @server.tool()
    def lookup(key: str) -> str:
        """Look a key up."""
        raise ToolError(f"no entry {key!r}; list the keys first")

    return server


async def _error_text(server: Server, protocol: str) -> str:
    async with asyncio.timeout(10), Client(server, protocol=protocol) as client:
        result = await client.call_tool("lookup", {"key": "k1"})
    assert result.is_error is True
    block = result.content[0]
    assert isinstance(block, TextContent)
    return block.text


@pytest.mark.parametrize("protocol", ERAS)
async def test_true_writes_the_official_sdks_words(protocol: str) -> None:
    text = await _error_text(make_server(True), protocol)
    assert text == "Error executing tool lookup: no entry 'k1'; list the keys first"


@pytest.mark.parametrize("protocol", ERAS)
async def test_a_format_string_names_the_tool(protocol: str) -> None:
    text = await _error_text(make_server("[tool {name} failed] "), protocol)
    assert text == "[tool lookup failed] no entry 'k1'; list the keys first"


@pytest.mark.parametrize("protocol", ERAS)
async def test_off_by_default_the_text_alone(protocol: str) -> None:
    text = await _error_text(make_server(False), protocol)
    assert text == "no entry 'k1'; list the keys first"


@pytest.mark.parametrize("prefix", ["Error in {tool}: ", "{0}: ", "oops {"])
def test_a_format_that_would_fail_is_refused_when_the_server_is_built(prefix: str) -> None:
    with pytest.raises(ValueError, match=r"invalid tool_error_prefix .*\{name\}"):
        Server("s", tool_error_prefix=prefix)


async def test_a_mounted_servers_tools_follow_its_own_setting() -> None:
    front = Server("front")
    front.mount(make_server(True), namespace="kv")
    async with asyncio.timeout(10), Client(front) as client:
        result = await client.call_tool("kv_lookup", {"key": "k1"})
    assert result.is_error is True
    block = result.content[0]
    assert isinstance(block, TextContent)
    assert block.text == "Error executing tool lookup: no entry 'k1'; list the keys first"
