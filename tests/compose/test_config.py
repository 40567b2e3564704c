"""`mcpkit.proxy.from_config`: the servers of an `mcpServers` config mounted under their names, a
Python stdio server and an HTTP server on 127.0.0.1 served together while broken ones are
skipped with a warning, listed and called through `Client` in both eras (docs/compose.md,
"Servers from an mcpServers config")."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import socket
import sys
from asyncio.base_subprocess import BaseSubprocessTransport
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from mcpkit import Client, Server
from mcpkit.proxy import ProxyServer, from_config
from mcpkit.proxy.config_proxy import ConfiguredProxy
from mcpkit.transports import connect
from mcpkit.types import TextContent

HERE = Path(__file__).resolve().parent
if str(HERE.parent / "http") not in sys.path:  # `_serving`, the HTTP tests' uvicorn helper
    sys.path.insert(0, str(HERE.parent / "http"))

from _serving import counting_posts, serving  # noqa: E402

ERAS = ["2025-11-25", "2026-07-28"]
WAIT = 30
UPSTREAM = str(HERE / "_config_upstream.py")


def http_upstream() -> Server:
    server = Server("http-upstream")

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    @server.resource("memo://today")
    def today() -> str:
        return "water the plants"

    return server


def with_own_tool(server: Server) -> Server:
    """`server` with a tool of its own: it serves tools whichever upstreams are skipped."""

    @server.tool()
    def own() -> str:
        return "own"

    return server


def closed_port() -> int:
    """A port of 127.0.0.1 nothing listens on (bound, then closed: refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@contextlib.asynccontextmanager
async def http_served() -> AsyncIterator[str]:
    async with serving(http_upstream().http_app()) as base:
        yield f"{base}/mcp"


def text(result: Any) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent), block
    return block.text


def working(url: str) -> dict[str, Any]:
    return {
        "local": {"command": sys.executable, "args": [UPSTREAM]},
        "remote": {"url": url},
    }


@pytest.mark.parametrize("protocol", ERAS)
async def test_two_upstreams_are_served_under_their_names(protocol: str) -> None:
    async with asyncio.timeout(WAIT), http_served() as url:
        server = from_config({"mcpServers": working(url)}, name="both")
        async with Client(server, protocol=protocol) as client:
            names = {tool.name for tool in await client.list_tools()}
            assert names == {"local_where", "remote_add"}
            assert text(await client.call_tool("remote_add", {"a": 2, "b": 3})) == "5"
            found = text(await client.call_tool("local_where", {"variable": "HOME"}))
            assert found.startswith(str(Path.cwd()))
            assert [p.name for p in await client.list_prompts()] == ["local_greet"]
            read = await client.read_resource("memo://remote/today")
            assert read.contents[0].text == "water the plants"  # type: ignore[union-attr]


#: A process that answers initialize with an error, and waits for its stdin to close.
HANDSHAKE = (
    "import json, sys; asked = json.loads(sys.stdin.readline()); "
    "error = {'code': -32600, 'message': 'no initialize here'}; "
    "print(json.dumps({'jsonrpc': '2.0', 'id': asked['id'], 'error': error}), flush=True); "
    "sys.stdin.read()"
)
BROKEN: dict[str, dict[str, Any]] = {
    "not-found": {"command": "mcpkit-no-such-command-anywhere"},
    "exits": {"command": sys.executable, "args": ["-c", "raise SystemExit(3)"]},
    "handshake": {"command": sys.executable, "args": ["-c", HANDSHAKE]},
    "no-listing": {"command": sys.executable, "args": [UPSTREAM, "--no-listing"]},
}


@pytest.mark.parametrize("protocol", ERAS)
async def test_broken_upstreams_are_skipped_and_the_others_serve(
    protocol: str, caplog: pytest.LogCaptureFixture
) -> None:
    refusing = {"url": f"http://127.0.0.1:{closed_port()}/mcp"}
    caplog.set_level(logging.WARNING, logger="mcpkit.proxy")
    async with asyncio.timeout(WAIT), http_served() as url:
        config = {"mcpServers": {**BROKEN, **working(url), "refusing": refusing}}
        server = from_config(config, name="mixed", connect_timeout=10)
        async with Client(server, protocol=protocol) as client:
            names = {tool.name for tool in await client.list_tools()}
            assert names == {"local_where", "remote_add"}
            assert text(await client.call_tool("remote_add", {"a": 1, "b": 1})) == "2"
    skipped = {
        str(record.args[1]): str(record.args[2])  # type: ignore[index]
        for record in caplog.records
        if "is skipped" in record.getMessage()
    }
    assert set(skipped) == {*BROKEN, "refusing"}, skipped
    assert "not found" in skipped["not-found"]
    assert "tools" in skipped["no-listing"]


async def test_a_hung_upstream_is_skipped_at_its_deadline(caplog: pytest.LogCaptureFixture) -> None:
    hangs = {"command": sys.executable, "args": ["-c", "import sys; sys.stdin.read()"]}
    server = with_own_tool(from_config({"mcpServers": {"hangs": hangs}}, connect_timeout=1))
    async with asyncio.timeout(WAIT), Client(server) as client:
        assert [tool.name for tool in await client.list_tools()] == ["own"]
    assert "did not start within 1 s (connect_timeout)" in caplog.text


async def test_a_skipped_upstream_is_tried_again_when_the_server_starts_again() -> None:
    port = closed_port()
    later = {"url": f"http://127.0.0.1:{port}/mcp"}
    server = with_own_tool(from_config({"mcpServers": {"later": later}}))
    async with asyncio.timeout(WAIT), Client(server) as first:
        assert [tool.name for tool in await first.list_tools()] == ["own"]
        async with serving(http_upstream().http_app(), port=port):
            assert [tool.name for tool in await first.list_tools()] == ["own"]
            async with Client(server) as second:  # the same start: still skipped
                assert [tool.name for tool in await second.list_tools()] == ["own"]
            await first.aclose()  # the last session ends: the server stops
            async with Client(server) as third:  # it starts again, and reaches the upstream
                names = {tool.name for tool in await third.list_tools()}
                assert names == {"own", "later_add"}


async def test_env_and_cwd_reach_the_process_and_nothing_else_of_ours(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONFIG_TEST_SOURCE", "from-our-environment")
    monkeypatch.setenv("CONFIG_TEST_SECRET", "kept-here")
    local = {
        "command": sys.executable,
        "args": [UPSTREAM],
        "env": {"GIVEN": "${CONFIG_TEST_SOURCE}", "DEFAULTED": "${CONFIG_TEST_UNSET:-fallback}"},
        "cwd": str(tmp_path),
    }
    server = from_config({"mcpServers": {"local": local}})
    async with asyncio.timeout(WAIT), Client(server) as client:
        for variable, value in [
            ("GIVEN", "from-our-environment"),
            ("DEFAULTED", "fallback"),
            ("CONFIG_TEST_SECRET", "None"),  # the safe environment: not ours entire
        ]:
            found = text(await client.call_tool("local_where", {"variable": variable}))
            assert found == f"{tmp_path} {variable}={value}"


async def test_a_vs_code_config_is_served(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    entry = {"type": "stdio", "command": sys.executable, "args": [UPSTREAM]}
    path.write_bytes(msgspec.json.encode({"servers": {"local": entry}, "inputs": []}))
    async with asyncio.timeout(WAIT), Client(from_config(path)) as client:
        assert [tool.name for tool in await client.list_tools()] == ["local_where"]
    text_config = msgspec.json.encode({"mcpServers": {"local": entry}}).decode()
    async with asyncio.timeout(WAIT), Client(from_config(text_config)) as client:
        assert [tool.name for tool in await client.list_tools()] == ["local_where"]


#: Start the server file argv[3] once this process's marker (argv[1]) is made and the other's
#: (argv[2]) is there: two of them start only if they are started together.
TOGETHER = """
import pathlib, runpy, sys, time
mine, other, server = sys.argv[1:4]
pathlib.Path(mine).touch()
deadline = time.monotonic() + 60
while not pathlib.Path(other).exists() and time.monotonic() < deadline:
    time.sleep(0.02)
sys.argv = [server]
runpy.run_path(server, run_name="__main__")
"""


async def test_upstreams_are_started_together(tmp_path: Path) -> None:
    first, second = str(tmp_path / "first"), str(tmp_path / "second")
    config = {
        "mcpServers": {
            "first": {"command": sys.executable, "args": ["-c", TOGETHER, first, second, UPSTREAM]},
            "second": {
                "command": sys.executable,
                "args": ["-c", TOGETHER, second, first, UPSTREAM],
            },
        }
    }
    server = from_config(config, connect_timeout=WAIT / 2)
    async with asyncio.timeout(WAIT), Client(server) as client:
        names = {tool.name for tool in await client.list_tools()}
    assert names == {"first_where", "second_where"}


async def test_a_lifespan_of_ours_runs_inside_the_upstreams_start() -> None:
    entered: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(server: Server) -> AsyncIterator[str]:
        entered.append(server.name)
        yield "state"

    local = {"command": sys.executable, "args": [UPSTREAM]}
    server = from_config({"mcpServers": {"local": local}}, name="ours", lifespan=lifespan)
    async with asyncio.timeout(WAIT), Client(server) as client:
        assert [tool.name for tool in await client.list_tools()] == ["local_where"]
    assert entered == ["ours"]


@pytest.mark.parametrize("protocol", ERAS)
async def test_an_sse_server_is_reached_over_the_old_transport(protocol: str) -> None:
    async with asyncio.timeout(WAIT), http_served() as url:
        old = {"type": "sse", "url": url.removesuffix("/mcp") + "/sse"}
        server = from_config({"mcpServers": {"old": old}})
        async with Client(server, protocol=protocol) as client:
            assert [tool.name for tool in await client.list_tools()] == ["old_add"]
            assert text(await client.call_tool("old_add", {"a": 20, "b": 22})) == "42"


@pytest.mark.parametrize("protocol", ERAS)
async def test_an_sse_entry_is_opened_over_the_old_transport_at_once(protocol: str) -> None:
    """`"type": "sse"` at a URL whose path does not end in /sse: the entry says which
    transport, so no Streamable HTTP POST is tried there first."""
    from mcpkit.transports.legacy_sse.endpoint import LegacySse

    counted, posts = counting_posts(
        http_upstream().http_app(legacy_sse=LegacySse(sse_path="/events"))
    )
    async with asyncio.timeout(WAIT), serving(counted) as base:
        server = from_config({"mcpServers": {"old": {"type": "sse", "url": f"{base}/events"}}})
        async with Client(server, protocol=protocol) as client:
            assert text(await client.call_tool("old_add", {"a": 20, "b": 22})) == "42"
    assert posts and "/events" not in posts, posts  # only the old transport's /messages


def test_upstream_transport_sse_is_for_a_url_only() -> None:
    with pytest.raises(ValueError, match="for an http"):
        ProxyServer([sys.executable, UPSTREAM], upstream_transport="sse")
    with pytest.raises(ValueError, match="'auto' or 'sse'"):
        ProxyServer("http://127.0.0.1:1/mcp", upstream_transport="http")  # type: ignore[arg-type]


@pytest.mark.parametrize("protocol", ERAS)
async def test_a_skipped_upstream_leaves_none_of_its_hidden_entries(protocol: str) -> None:
    # Its tools are listed (`where`, untagged, so hidden by include_tags), then its prompts
    # fail: the skip must drop the hidden tool too, or the server would still declare tools.
    half = [UPSTREAM, "--no-prompt-listing"]
    entry = {"command": sys.executable, "args": half, "include_tags": ["public"]}
    server = from_config({"mcpServers": {"half": entry}}, name="half", connect_timeout=10)
    async with asyncio.timeout(WAIT), Client(server, protocol=protocol) as client:
        (mount,) = server.mounts
        assert isinstance(mount.server, ConfiguredProxy)
        assert mount.server.skipped is not None and "prompts" in mount.server.skipped
        assert mount.server.tools.own_keys() == []
        assert client.server_capabilities.tools is None


@pytest.mark.parametrize("protocol", ERAS)
async def test_upstreams_are_reaped_when_the_server_ends_later_than_the_client_waits(
    protocol: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A busy machine, where the in-process server's end outlasts the client's wait for it:
    the client cancels it, and every stdio upstream is then killed and reaped before the
    close returns (left running, the loop's end would leave them to the collector)."""
    monkeypatch.setattr(connect, "_SERVER_END_WAIT", 0.0)
    before = {id(t) for t in _subprocesses()}
    config = {
        "mcpServers": {name: {"command": sys.executable, "args": [UPSTREAM]} for name in "ab"}
    }
    async with asyncio.timeout(WAIT), Client(from_config(config), protocol=protocol) as client:
        assert {tool.name for tool in await client.list_tools()} == {"a_where", "b_where"}
        assert text(await client.call_tool("b_where", {"variable": "HOME"}))
    running = [t for t in _subprocesses() if id(t) not in before and t.get_returncode() is None]
    assert running == []


def _subprocesses() -> list[BaseSubprocessTransport]:
    return [t for t in gc.get_objects() if isinstance(t, BaseSubprocessTransport)]
