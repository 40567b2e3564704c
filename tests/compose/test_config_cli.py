"""`mcpkit run mcp.json`: the servers of an `mcpServers` config served together over stdio,
each under its name, a broken one skipped; a file it cannot serve refused before anything
starts (docs/cli.md)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from mcpkit import Client
from mcpkit.types import TextContent

HTTP_TESTS = str(Path(__file__).resolve().parents[1] / "http")
if HTTP_TESTS not in sys.path:  # `_running`: `mcpkit run --transport http` as a subprocess
    sys.path.insert(0, HTTP_TESTS)

from _running import mcpkit, running  # noqa: E402

ERAS = ["2025-11-25", "2026-07-28"]
WAIT = 30
UPSTREAM = str(Path(__file__).resolve().parent / "_config_upstream.py")


@pytest.mark.parametrize("protocol", ERAS)
async def test_mcpkit_run_serves_a_config(protocol: str, tmp_path: Path) -> None:
    config = tmp_path / "mcp.json"
    servers = {
        "local": {"command": sys.executable, "args": [UPSTREAM], "env": {"GIVEN": "yes"}},
        "broken": {"command": "mcpkit-no-such-command-anywhere"},
    }
    config.write_bytes(msgspec.json.encode({"mcpServers": servers}))
    command = [sys.executable, "-m", "mcpkit", "run", str(config)]
    async with asyncio.timeout(WAIT), Client(command, protocol=protocol) as client:
        assert [tool.name for tool in await client.list_tools()] == ["local_where"]
        result = await client.call_tool("local_where", {"variable": "GIVEN"})
        block = result.content[0]
        assert isinstance(block, TextContent) and block.text.endswith(" GIVEN=yes")


async def test_mcpkit_run_serves_a_config_over_http(tmp_path: Path) -> None:
    config = tmp_path / "desk.json"
    local = {"type": "stdio", "command": sys.executable, "args": [UPSTREAM]}
    config.write_bytes(msgspec.json.encode({"servers": {"local": local}}))
    async with running(mcpkit("run", str(config), "--transport", "http", "--port", "0")) as served:
        url = await served.started()
        async with asyncio.timeout(WAIT), Client(url) as client:
            assert client.server_info is not None and client.server_info.name == "desk"
            assert [tool.name for tool in await client.list_tools()] == ["local_where"]
        assert await served.stop() == 0
    assert "Traceback" not in served.text


def test_mcpkit_run_refuses_a_config_it_cannot_serve(tmp_path: Path) -> None:
    config = tmp_path / "mcp.json"
    config.write_bytes(msgspec.json.encode({"mcpServers": {"a": {"command": "x", "oops": 1}}}))
    done = subprocess.run(
        [sys.executable, "-m", "mcpkit", "run", str(config)],
        capture_output=True,
        text=True,
        timeout=WAIT,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode != 0
    # one `error: ` line, as every failure of the command line (tests/cli/test_error_lines.py)
    assert done.stderr.splitlines() == [done.stderr.strip()], done.stderr
    assert done.stderr.startswith(f"error: {config}: server 'a' of the config has the key 'oops'")
