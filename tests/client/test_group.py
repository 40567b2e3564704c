"""`Client({"mcpServers": ...})`: one connection per server of the config, spoken to as one
(names prefixed by server), `client.servers` for each server's own client, and a server that
fails to start reported and left out while the others keep working (docs/client.md, "Many
servers from one config"). Two in-process HTTP servers on 127.0.0.1, in both eras."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from mcpkit import Client, Context, Server
from mcpkit.errors import ConnectionFailed, LocalProtocolError, McpError
from mcpkit.protocol import codes
from mcpkit.server.middleware import CallNext
from mcpkit.transports.server_config import ConfigError

HERE = Path(__file__).resolve().parent
if str(HERE.parent / "http") not in sys.path:  # `_serving`, the HTTP tests' uvicorn helper
    sys.path.insert(0, str(HERE.parent / "http"))

from _serving import counting_posts, serving  # noqa: E402

ERAS = ["2025-11-25", "2026-07-28"]
WAIT = 30


def notes_server() -> Server:
    server = Server("notes")

    @server.tool()
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    @server.resource("memo://today")
    def today() -> str:
        return "water the plants"

    @server.resource("memo://{day}")
    def memo(day: str) -> str:
        return f"nothing on {day}"

    @server.completion(template="memo://{day}", argument="day")
    def days(value: str, context: dict[str, str]) -> list[str]:
        return [day for day in ("monday", "tuesday") if day.startswith(value)]

    @server.prompt()
    def greet(name: str) -> str:
        return f"Hello {name}"

    return server


def shout_server() -> Server:
    server = Server("shout")

    @server.tool()
    def add(text: str) -> str:  # the same name as notes' tool: the prefix tells them apart
        return text.upper()

    return server


def closed_port() -> int:
    """A port of 127.0.0.1 nothing listens on (bound, then closed: refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@contextlib.asynccontextmanager
async def two_servers() -> AsyncIterator[dict[str, Any]]:
    async with (
        serving(notes_server().http_app()) as notes,
        serving(shout_server().http_app()) as shout,
    ):
        yield {
            "mcpServers": {
                "notes": {"url": f"{notes}/mcp"},
                "shout": {"type": "http", "url": f"{shout}/mcp"},
                "gone": {"url": f"http://127.0.0.1:{closed_port()}/mcp"},
            }
        }


@pytest.mark.parametrize("protocol", ERAS)
async def test_the_servers_of_a_config_are_one_call_surface(
    protocol: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, "mcpkit.client")
    async with asyncio.timeout(WAIT), two_servers() as config:
        async with Client(config, protocol=protocol) as client:
            assert sorted(client.servers) == ["notes", "shout"]
            assert list(client.servers.failed) == ["gone"]
            assert "gone" in caplog.text and "left out" in caplog.text
            assert client.protocol_version == protocol

            tools = [tool.name for tool in await client.list_tools()]
            assert tools == ["notes_add", "shout_add"]
            added = await client.call_tool("notes_add", {"a": 2, "b": 3})
            assert added.structured_content == {"result": 5}
            assert (await client.call_tool("shout_add", {"text": "hi"})).text == "HI"

            (resource,) = await client.list_resources()
            assert resource.uri == "memo://notes/today"
            read = await client.read_resource("memo://notes/today")
            assert read.contents[0].uri == "memo://notes/today"
            assert read.contents[0].text == "water the plants"  # type: ignore[union-attr]
            (template,) = await client.list_resource_templates()
            assert template.uri_template == "memo://notes/{day}"
            friday = await client.read_resource("memo://notes/friday")
            assert friday.contents[0].text == "nothing on friday"  # type: ignore[union-attr]
            done = await client.complete({"template": "memo://notes/{day}"}, "day", "t")
            assert done.completion.values == ["tuesday"]

            (prompt,) = await client.list_prompts()
            assert prompt.name == "notes_greet"
            got = await client.get_prompt("notes_greet", {"name": "Ada"})
            assert "Hello Ada" in str(got.messages[0].content)
            await client.ping()
            await client.set_logging_level("info")
            await client.subscribe("memo://notes/today")
            await client.unsubscribe("memo://notes/today")

            # each server's own client, under the names the server gives
            notes = client.servers["notes"]
            assert isinstance(notes, Client)
            assert [tool.name for tool in await notes.list_tools()] == ["add"]


async def test_a_call_names_a_server_of_the_config() -> None:
    async with asyncio.timeout(WAIT), two_servers() as config, Client(config) as client:
        with pytest.raises(McpError, match="no server of the config has the tool 'add'") as err:
            await client.call_tool("add", {"a": 1, "b": 2})
        assert err.value.code == codes.INVALID_PARAMS
        with pytest.raises(McpError, match="'gone' of the config is left out") as err:
            await client.call_tool("gone_add", {})
        with pytest.raises(McpError) as err:
            await client.read_resource("memo://today")
        assert err.value.code == codes.RESOURCE_NOT_FOUND
        with pytest.raises(McpError, match="one server of the config") as err:
            await client.request("tasks/list")
        assert err.value.code == codes.METHOD_NOT_FOUND
        with pytest.raises(LocalProtocolError, match=r"client\.servers"):
            await client.call_tool_as_task("notes_add", {"a": 1, "b": 2})
        with pytest.raises(LocalProtocolError, match="one server of the config"):
            client.connection  # noqa: B018
        with pytest.raises(KeyError, match="left out"):
            client.servers["gone"]


async def test_a_config_none_of_whose_servers_starts_fails_to_connect() -> None:
    config = {
        "mcpServers": {
            "gone": {"url": f"http://127.0.0.1:{closed_port()}/mcp"},
            "missing": {"command": "mcpkit-no-such-program"},
        }
    }
    client = Client(config, stderr="devnull")
    async with asyncio.timeout(WAIT):
        with pytest.raises(ConnectionFailed, match="no server of the config started") as err:
            await client.connect()
    assert "missing: " in str(err.value) and "gone: " in str(err.value)
    assert client.servers.failed.keys() == {"gone", "missing"}


def test_a_config_is_checked_before_anything_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="'disabled', which mcpkit does not support"):
        Client({"mcpServers": {"a": {"command": "x", "disabled": True}}})
    with pytest.raises(ConfigError, match="cannot be told apart"):
        Client({"mcpServers": {"a": {"command": "x"}, "a_b": {"command": "y"}}})
    with pytest.raises(ConfigError, match="1 to 64 characters"):
        Client({"mcpServers": {"my server": {"command": "x"}}})
    with pytest.raises(ConfigError, match=r"\$\{TOKEN\} names TOKEN, which is not set"):
        monkeypatch.delenv("TOKEN", raising=False)
        Client({"mcpServers": {"a": {"url": "http://h/mcp", "headers": {"x": "${TOKEN}"}}}})
    with pytest.raises(TypeError, match="each server's own"):
        Client({"mcpServers": {"a": {"url": "http://h/mcp"}}}, headers={"x": "y"})
    monkeypatch.setenv("TOKEN", "abc")
    client = Client(
        {
            "servers": {
                "a": {"type": "http", "url": "http://h/mcp", "headers": {"x": "${env:TOKEN}"}}
            }
        }
    )
    assert list(client.servers.clients) == ["a"]
    with pytest.raises(LocalProtocolError, match="not made from an mcpServers config"):
        Client(["python", "server.py"]).servers  # noqa: B018


async def test_a_server_lost_later_is_left_out_and_the_others_still_answer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, "mcpkit.client")
    async with (
        asyncio.timeout(WAIT),
        serving(notes_server().http_app()) as notes,
        contextlib.AsyncExitStack() as shout_running,
    ):
        shout = await shout_running.enter_async_context(serving(shout_server().http_app()))
        servers = {"notes": {"url": f"{notes}/mcp"}, "shout": {"url": f"{shout}/mcp"}}
        async with Client({"mcpServers": servers}, protocol="2025-11-25") as client:
            assert len(await client.list_tools()) == 2
            await shout_running.aclose()  # the shout server goes away
            assert [tool.name for tool in await client.list_tools()] == ["notes_add"]
            assert list(client.servers) == ["notes"] and "shout" in client.servers.failed
            assert "'shout' of the config is left out" in caplog.text


async def test_a_server_that_answers_a_list_with_an_error_is_left_out_of_that_list(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def refuse_lists(ctx: Context, params: Any, call_next: CallNext) -> Any:
        if ctx.method == "tools/list":
            raise McpError(codes.INTERNAL_ERROR, "the catalog is down")
        return await call_next(params)

    refusing = shout_server()
    refusing.add_middleware(refuse_lists)
    caplog.set_level(logging.WARNING, "mcpkit.client")
    async with (
        asyncio.timeout(WAIT),
        serving(notes_server().http_app()) as notes,
        serving(refusing.http_app()) as shout,
    ):
        servers = {"notes": {"url": f"{notes}/mcp"}, "shout": {"url": f"{shout}/mcp"}}
        async with Client({"mcpServers": servers}) as client:
            assert [tool.name for tool in await client.list_tools()] == ["notes_add"]
            assert "the catalog is down" in caplog.text
            assert list(client.servers) == ["notes", "shout"]  # still there for the rest
            assert (await client.call_tool("shout_add", {"text": "a"})).text == "A"


async def test_an_sse_entry_is_spoken_to_over_http_sse_as_it_says() -> None:
    """`"type": "sse"` at a URL whose path does not end in /sse: the old transport is opened
    at once, no Streamable HTTP POST is tried there first."""
    from mcpkit.transports.legacy_sse.endpoint import LegacySse

    counted, posts = counting_posts(
        notes_server().http_app(legacy_sse=LegacySse(sse_path="/events"))
    )
    async with asyncio.timeout(WAIT), serving(counted) as base:
        config = {"mcpServers": {"old": {"type": "sse", "url": f"{base}/events"}}}
        async with Client(config) as client:
            result = await client.call_tool("old_add", {"a": 2, "b": 3})
    assert result.structured_content == {"result": 5}
    assert "/events" not in posts and posts, posts  # only the old transport's /messages
