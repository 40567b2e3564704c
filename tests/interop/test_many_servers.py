"""A client of many servers over software nobody here wrote: the npm reference servers (run as a
`.js` file with node, and by npx as a host's config names them) beside examples/everything.py
served over Streamable HTTP, which speaks 2026-07-28 while they speak 2025-11-25, and a server
that fails to start (docs/client.md, "Many servers from one config")."""

from __future__ import annotations

import asyncio
import logging
import sys
from typing import Any

import pytest
from interop_harness import HERE, REPO, SUBPROCESS_TIMEOUT, require_node

from mcpkit import Client

MODULES = HERE / "node_modules" / "@modelcontextprotocol"
EVERYTHING = MODULES / "server-everything" / "dist" / "index.js"
EXAMPLE = REPO / "examples" / "everything.py"


def config(url: str) -> dict[str, Any]:
    node = require_node()
    if not EVERYTHING.is_file():
        pytest.fail("tests/interop/node_modules lacks @modelcontextprotocol/server-everything")
    return {
        "mcpServers": {
            "ref": {"command": node, "args": [str(EVERYTHING), "stdio"]},
            # --no: npx runs the package installed in tests/interop, never downloads one
            "app": {
                "command": "npx",
                "args": ["--no", "--", "mcp-server-basic-vanillajs", "--stdio"],
                "cwd": str(HERE),
            },
            "py": {"type": "http", "url": url},
            "broken": {"command": sys.executable, "args": ["-c", "raise SystemExit(3)"]},
        }
    }


async def test_one_client_speaks_to_the_reference_servers_and_ours_at_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sys.path.insert(0, str(REPO / "tests" / "http"))
    from _running import mcpkit, running

    caplog.set_level(logging.WARNING, "mcpkit.client")
    argv = mcpkit("run", str(EXAMPLE), "--transport", "http", "--port", "0")
    async with asyncio.timeout(SUBPROCESS_TIMEOUT * 2), running(argv) as served:
        url = await served.started()
        async with Client(config(url), stderr="devnull") as client:
            assert list(client.servers) == ["ref", "app", "py"]
            assert "exited" in client.servers.failed["broken"]
            assert "'broken' of the config is left out" in caplog.text
            # both eras at once, each server in its own
            assert client.servers["py"].protocol_version == "2026-07-28"
            assert client.servers["ref"].protocol_version == "2025-11-25"

            tools = {tool.name for tool in await client.list_tools()}
            assert {"ref_echo", "ref_get-sum", "py_add", "py_divide"} <= tools
            assert any(name.startswith("app_") for name in tools)
            echoed = await client.call_tool("ref_echo", {"message": "hi"})
            assert echoed.text == "Echo: hi"
            added = await client.call_tool("py_add", {"a": 2, "b": 3})
            assert added.structured_content == {"result": 5}

            uris = [resource.uri for resource in await client.list_resources()]
            assert "config://py/app" in uris
            ours = await client.read_resource("config://py/app")
            assert ours.contents[0].uri == "config://py/app"
            theirs = next(uri for uri in uris if uri.startswith("demo://ref/"))
            assert (await client.read_resource(theirs)).contents[0].uri == theirs

            prompts = {prompt.name for prompt in await client.list_prompts()}
            assert {"ref_simple-prompt", "py_review"} <= prompts
            assert (await client.get_prompt("ref_simple-prompt")).messages
            await client.ping()
