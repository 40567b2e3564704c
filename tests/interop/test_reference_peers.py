"""MCP software nobody here wrote, both ways: the npm reference server `everything` driven by
mcpkit's client and command line, and the official MCP Inspector's CLI driving an mcpkit
server over stdio and over Streamable HTTP."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from interop_harness import HERE, REPO, SUBPROCESS_TIMEOUT, peer_env, require_node

from mcpkit import Client

MODULES = HERE / "node_modules" / "@modelcontextprotocol"
EVERYTHING = MODULES / "server-everything" / "dist" / "index.js"
# The CLI reads its own package.json relative to the working directory: run it from build/.
INSPECTOR = MODULES / "inspector-cli" / "build"
EXAMPLE = REPO / "examples" / "everything.py"
# What `everything` offers only to clients that declared roots, sampling or elicitation.
GATED = {"get-roots-list", "trigger-sampling-request", "trigger-elicitation-request"}


def everything() -> list[str]:
    node = require_node()
    if not EVERYTHING.is_file():
        pytest.fail("tests/interop/node_modules lacks @modelcontextprotocol/server-everything")
    return [node, str(EVERYTHING), "stdio"]


def inspector(*args: str) -> Any:
    """The official Inspector's CLI with `args`; its JSON answer."""
    node = require_node()
    if not (INSPECTOR / "index.js").is_file():
        pytest.fail("tests/interop/node_modules lacks @modelcontextprotocol/inspector-cli")
    done = subprocess.run(
        [node, "index.js", *args],
        cwd=INSPECTOR,
        env=peer_env(),
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def mcpkit_json(*args: str) -> Any:
    """`mcpkit ARGS --json` to its end (bounded); what it printed, decoded."""
    done = subprocess.run(
        [sys.executable, "-m", "mcpkit", *args, "--json"],
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        env=peer_env(),
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


async def test_mcpkit_client_drives_the_reference_server() -> None:
    async with (
        asyncio.timeout(SUBPROCESS_TIMEOUT),
        Client(everything(), stderr="devnull") as client,
    ):
        assert client.server_info.name == "mcp-servers/everything"
        tools = {tool.name for tool in await client.list_tools()}
        assert {"echo", "get-sum"} <= tools
        assert (await client.call_tool("echo", {"message": "hi"})).text == "Echo: hi"
        (document, *_) = await client.list_resources()
        read = await client.read_resource(document.uri)
        assert read.contents and read.contents[0].uri == document.uri
        prompt = await client.get_prompt("simple-prompt")
        assert prompt.messages


def test_the_command_line_shows_and_calls_everything_it_offers() -> None:
    # `list` declares what a client can answer, so the tools `everything` gates on roots,
    # sampling and elicitation are listed, as `call` sees them (13 of 16 before).
    target = " ".join(everything())
    names = {tool["name"] for tool in mcpkit_json("list", target)["tools"]}
    assert GATED <= names
    called = mcpkit_json("call", target, "get-sum", "a=2", "b=3.5")
    assert "5.5" in called["content"][0]["text"]


def _check_inspector_against(target: list[str]) -> None:
    tools = inspector(*target, "--method", "tools/list")["tools"]
    assert {"add", "divide", "slow"} <= {tool["name"] for tool in tools}
    added = inspector(
        *target, "--method", "tools/call", "--tool-name", "add", "--tool-arg", "a=2", "b=3"
    )
    assert added["structuredContent"] == {"result": 5}
    resources = inspector(*target, "--method", "resources/list")["resources"]
    assert "config://app" in {resource["uri"] for resource in resources}
    prompts = inspector(*target, "--method", "prompts/list")["prompts"]
    assert {"review", "chat"} <= {prompt["name"] for prompt in prompts}


def test_the_official_inspector_cli_drives_an_mcpkit_server_over_stdio() -> None:
    _check_inspector_against([sys.executable, "-m", "mcpkit", "run", str(EXAMPLE)])


async def test_the_official_inspector_cli_drives_an_mcpkit_server_over_http(
    tmp_path: Path,
) -> None:
    sys.path.insert(0, str(REPO / "tests" / "http"))
    from _running import mcpkit, running

    argv = mcpkit("run", str(EXAMPLE), "--transport", "http", "--port", "0")
    async with running(argv) as server:
        url = await server.started()
        await asyncio.to_thread(_check_inspector_against, [url])
