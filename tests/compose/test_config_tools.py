"""An `mcpServers` config's per-server "tools": the upstream's tools shown derived from it
(renamed, exactly as given, as `mount(transforms=...)` names them; described; arguments
renamed or hidden with the value the upstream gets), listed and
called through `Client` in both eras; a malformed entry refused at once, naming its place
(docs/compose.md, "Servers from an mcpServers config")."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from test_config import ERAS, WAIT, http_served, serving, text  # pyright: ignore[reportMissingImports]

from mcpkit import Client, McpError, Server
from mcpkit.proxy import ConfigError, from_config

TOOLS: dict[str, Any] = {
    "add": {
        "name": "plus_ten",
        "description": "Add ten to a number.",
        # FastMCP's configs write a hidden argument's value as its default: taken as such.
        "arguments": {"a": {"name": "number"}, "b": {"hide": True, "default": 10}},
    }
}


@pytest.mark.parametrize("protocol", ERAS)
async def test_a_servers_tools_are_shown_as_the_config_derives_them(protocol: str) -> None:
    async with asyncio.timeout(WAIT), http_served() as url:
        server = from_config({"mcpServers": {"remote": {"url": url, "tools": TOOLS}}})
        async with Client(server, protocol=protocol) as client:
            tools = {tool.name: tool for tool in await client.list_tools()}
            assert set(tools) == {"plus_ten"}, set(tools)
            shown = tools["plus_ten"]
            assert shown.description == "Add ten to a number."
            assert set(shown.input_schema["properties"]) == {"number"}
            result = await client.call_tool("plus_ten", {"number": 5})
            assert text(result) == "15"
            refused = await client.call_tool("plus_ten", {"number": 5, "b": 1})
            assert refused.is_error  # a hidden argument is not the caller's to set


@pytest.mark.parametrize(
    ("tools", "named"),
    [
        ([], "tools is a JSON list"),
        ({"add": {"nmae": "x"}}, "tools.add has the key 'nmae'"),
        ({"add": {"arguments": {"b": {"hide": True, "name": "c"}}}}, "only value"),
        ({"add": {"arguments": {"b": {"value": 1}}}}, "hide: true"),
        ({"add": {"arguments": {"b": {"required": "yes"}}}}, "required is not true or false"),
        ({"add": {"tags": "math"}}, "tags is not a list of tags"),
        (["ok", ""], "include_tags is not a list of tags"),
    ],
)
def test_a_malformed_tools_entry_is_refused_naming_its_place(tools: object, named: str) -> None:
    config = {"mcpServers": {"remote": {"url": "http://127.0.0.1:9/mcp", "tools": tools}}}
    if named.startswith("include_tags"):
        config = {
            "mcpServers": {"remote": {"url": "http://127.0.0.1:9/mcp", "include_tags": tools}}
        }
    with pytest.raises(ConfigError, match="server 'remote' of the config") as caught:
        from_config(config)
    assert named in str(caught.value)


def tagged_upstream() -> Server:
    server = Server("tagged")
    for name, tags in (("read", ["safe"]), ("write", ["safe", "admin"]), ("plain", [])):

        def tool(name: str = name) -> str:
            return name

        server.add_tool(tool, name=name, tags=tags)
    return server


@pytest.mark.parametrize("protocol", ERAS)
async def test_include_and_exclude_tags_pick_what_a_server_shows(protocol: str) -> None:
    async with asyncio.timeout(WAIT), serving(tagged_upstream().http_app()) as base:
        url = f"{base}/mcp"
        config = {
            "mcpServers": {
                "picked": {"url": url, "include_tags": ["safe"], "exclude_tags": ["admin"]},
                "whole": {"url": url},
            }
        }
        async with Client(from_config(config), protocol=protocol) as client:
            names = sorted(tool.name for tool in await client.list_tools())
            assert names == ["picked_read", "whole_plain", "whole_read", "whole_write"]
            assert text(await client.call_tool("picked_read", {})) == "read"
            with pytest.raises(McpError, match="Unknown tool"):  # hidden: as an unknown one
                await client.call_tool("picked_write", {})
