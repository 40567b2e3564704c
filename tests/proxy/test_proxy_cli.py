"""`mcpkit proxy TARGET`, run as a subprocess: over stdio in front of a file, a command and a
URL; over HTTP in front of a command; a dying upstream ends it; bad usage exits 2."""

from __future__ import annotations

import asyncio
import functools
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from _proxying import EVERYTHING, WAIT, Seen, check_features, full_client
from _running import mcpkit, running

from mcpkit import Client, StdioParameters
from mcpkit.errors import ConnectionClosed, McpError

# The session proxy of 2025-11-25 (one upstream session per client session): the client is
# pinned to that revision. tests/proxy/test_proxy_2026.py covers 2026-07-28 clients.
Client = functools.partial(Client, protocol="2025-11-25")

REPO = Path(__file__).resolve().parents[2]
ENV = {"PYTHONPATH": str(REPO / "src")}  # this checkout's mcpkit, not an installed one
DYING = str(Path(__file__).resolve().parent / "_dying_server.py")


def proxy_command(*args: str) -> StdioParameters:
    return StdioParameters(
        sys.executable, ["-m", "mcpkit", "proxy", *args], env=ENV, stderr="devnull"
    )


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mcpkit", "proxy", *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **ENV},
    )


async def test_proxy_of_a_file_over_stdio_passes_the_feature_checks() -> None:
    seen = Seen()
    async with asyncio.timeout(WAIT), full_client(proxy_command(str(EVERYTHING)), seen) as client:
        await check_features(client, seen)


async def test_a_dying_upstream_ends_the_stdio_proxy() -> None:
    async with asyncio.timeout(WAIT), Client(proxy_command(DYING)) as client:
        assert (await client.call_tool("echo", {"text": "hi"})).content[0].text == "hi"  # type: ignore[union-attr]
        with pytest.raises(McpError, match="has ended"):
            await client.call_tool("die")
        with pytest.raises((ConnectionClosed, McpError)):  # the proxy exited with it
            await client.call_tool("echo", {"text": "again"})


async def test_a_2026_client_outlives_a_dying_upstream() -> None:
    """A 2026-07-28 client has no session for the upstream's death to end: its call gets the
    error, and its next request is served by a new upstream process."""
    async with asyncio.timeout(WAIT), Client(proxy_command(DYING), protocol="2026-07-28") as client:
        assert (await client.call_tool("echo", {"text": "hi"})).content[0].text == "hi"  # type: ignore[union-attr]
        with pytest.raises(McpError, match="has ended"):
            await client.call_tool("die")
        assert (await client.call_tool("echo", {"text": "again"})).content[0].text == "again"  # type: ignore[union-attr]


async def test_proxy_over_http_in_front_of_a_command_and_a_url_in_front_of_that() -> None:
    # A command (client/target.py reads one whose text ends in ".py" as a file: an argument
    # after it keeps it a command; the example ignores it).
    command = f"{sys.executable} {EVERYTHING} --as-a-command"
    argv = mcpkit("proxy", command, "--transport", "http", "--port", "0")
    async with running(argv) as server:
        url = await server.started()
        async with asyncio.timeout(WAIT), Client(url) as client:
            assert client.server_info.name == "everything"
            result = await client.call_tool("add", {"a": 40, "b": 2})
            assert result.structured_content == {"result": 42}
        # A proxy of a URL, over stdio: two proxies in a row, a header on every request.
        upstream = proxy_command(url, "--header", "X-Trace: proxy-test")
        async with asyncio.timeout(WAIT), Client(upstream) as client:
            assert client.server_info.name == "everything"
            assert (await client.call_tool("add", {"a": 1, "b": 2})).structured_content == {
                "result": 3
            }
        assert await server.stop(signal.SIGTERM) == 0


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["no-such-thing-here"], "is not a file, module, program on PATH or URL"),
        (["ftp://example.com/mcp"], "ftp:// is not a transport"),
    ],
)
def test_a_target_naming_nothing_exits_3_as_for_every_verb(args: list[str], says: str) -> None:
    done = run_cli(*args)
    assert done.returncode == 3  # docs/cli.md, "Exit codes": no session
    assert says in done.stderr


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ([str(EVERYTHING), "--header", "X-A: 1"], "--header is for URL targets"),
        (
            ["http://127.0.0.1:9/mcp", "--header", "nocolon"],
            "--header: the header 'nocolon' is not 'Name: value'",
        ),
        ([str(EVERYTHING), "--port", "0"], "--port is an option of --transport http"),
        ([str(EVERYTHING), "--max-sessions", "0"], "give 1 or more"),
    ],
)
def test_bad_usage_exits_2_saying_what_to_fix(args: list[str], says: str) -> None:
    done = run_cli(*args)
    assert done.returncode == 2
    assert says in done.stderr
