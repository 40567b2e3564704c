"""What the proxy tests share: examples/everything.py loaded fresh (its state is per
module), the command that runs it over stdio, and one pass over the features a plain
server's end-to-end tests check, for a client connected through a proxy."""

from __future__ import annotations

import asyncio
import importlib.util
import itertools
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from mcpkit import Client, Server
from mcpkit.types import CreateMessageResult, ElicitResult, Root, TextContent

__all__ = [
    "EVERYTHING",
    "WAIT",
    "everything_command",
    "fresh_everything",
    "full_client",
    "check_features",
]

WAIT = 20.0
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EVERYTHING = EXAMPLES / "everything.py"
_count = itertools.count()


def fresh_everything() -> Server:
    """examples/everything.py's server from a module of its own (it keeps notes and tools)."""
    name = f"everything_proxy_{next(_count)}"
    spec = importlib.util.spec_from_file_location(name, EVERYTHING)
    assert spec is not None and spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    server: Server = module.server
    return server


def everything_command() -> list[str]:
    return [sys.executable, str(EVERYTHING)]


class Seen:
    """What the client was told and asked."""

    def __init__(self) -> None:
        self.logs: list[Any] = []
        self.notifications: list[tuple[str, Any]] = []
        self.asked: list[str] = []
        self.changed = asyncio.Event()
        self.updated = asyncio.Event()

    def on_notification(self, method: str, params: Any) -> None:
        self.notifications.append((method, params))
        if method == "notifications/tools/list_changed":
            self.changed.set()
        elif method == "notifications/resources/updated":
            self.updated.set()


def full_client(target: Any, seen: Seen, **options: Any) -> Client:
    """A client that declares sampling, both elicitation modes and roots."""

    def sample(params: Any) -> CreateMessageResult:
        seen.asked.append("sampling")
        return CreateMessageResult(
            role="assistant", content=TextContent(text="forty-two"), model="test"
        )

    def elicit(params: Any) -> ElicitResult:
        seen.asked.append("form")
        return ElicitResult(action="accept", content={"name": "Ada", "age": 36})

    def elicit_url(params: Any) -> ElicitResult:
        seen.asked.append("url:" + params.url)
        return ElicitResult(action="accept")

    return Client(
        target,
        sampling_handler=sample,
        elicitation_handler=elicit,
        url_elicitation_handler=elicit_url,
        roots=[Root(uri="file:///work", name="work")],
        on_log=seen.logs.append,
        on_notification=seen.on_notification,
        **options,
    )


async def check_features(client: Client, seen: Seen) -> None:
    """The representative end-to-end features, as a plain server passes them."""
    assert client.server_info.name == "everything"
    assert client.instructions is not None and "add" in client.instructions
    caps = client.server_capabilities
    assert caps.tools is not None and caps.resources is not None and caps.resources.subscribe
    await _tools(client, seen)
    await _resources(client, seen)
    await _prompts(client)
    await _asking_the_client(client, seen)
    await _cancellation(client)


async def _tools(client: Client, seen: Seen) -> None:
    tools = {tool.name: tool for tool in await client.list_tools()}
    assert {"add", "stats", "slow", "ask_model"} <= set(tools)
    assert tools["add"].meta == {"example.com/category": "math"}
    progress: list[tuple[float, float | None]] = []
    result = await client.call_tool(
        "add", {"a": 2, "b": 3}, progress=lambda p, t, m: progress.append((p, t))
    )
    assert result.structured_content == {"result": 5}
    assert progress == [(1, 1)]
    assert [log.data for log in seen.logs] == ["adding 2 and 3"]
    refused = await client.call_tool("stats", {"values": []})
    assert refused.is_error  # the upstream's own schema refusal, passed as it is
    await client.set_logging_level("error")  # forwarded: the upstream stops sending info
    await client.call_tool("add", {"a": 1, "b": 1})
    assert len(seen.logs) == 1
    assert _text(await client.call_tool("add_greeting_tool")) == "added greet"
    async with asyncio.timeout(WAIT):
        await seen.changed.wait()
    assert "greet" in {tool.name for tool in await client.list_tools()}


async def _resources(client: Client, seen: Seen) -> None:
    assert [r.uri for r in await client.list_resources()] == ["config://app"]
    templates = await client.list_resource_templates()
    assert [t.uri_template for t in templates] == ["notes://{name}"]
    read = await client.read_resource("notes://welcome")
    assert read.contents[0].text == "Hello!"  # type: ignore[union-attr]
    completed = await client.complete({"template": "notes://{name}"}, "name", "w")
    assert completed.completion.values == ["welcome"]
    await client.subscribe("notes://todo")
    await client.call_tool("write_note", {"name": "todo", "body": "Ship it."})
    async with asyncio.timeout(WAIT):
        await seen.updated.wait()
    updated = [p for m, p in seen.notifications if m == "notifications/resources/updated"]
    assert updated[0].uri == "notes://todo"


async def _prompts(client: Client) -> None:
    assert {p.name for p in await client.list_prompts()} == {"review", "chat"}
    prompt = await client.get_prompt("chat", {"topic": "proxies"})
    assert [m.role for m in prompt.messages] == ["user", "assistant"]


async def _asking_the_client(client: Client, seen: Seen) -> None:
    """The upstream server's own requests reach the real client and are answered."""
    sampled = await client.call_tool("ask_model", {"question": "6 x 7?"})
    assert _text(sampled) == "forty-two"
    signed = await client.call_tool("sign_up")
    assert _text(signed).startswith("Ada, 36")
    connected = await client.call_tool("connect_account")
    assert _text(connected) == "connect: accept"
    roots = await client.call_tool("roots")
    assert roots.structured_content == {"result": ["file:///work"]}
    assert seen.asked == ["sampling", "form", "url:https://example.com/connect"]


async def _cancellation(client: Client) -> None:
    """A call the client gives up on is cancelled, and the session goes on."""
    try:
        async with asyncio.timeout(0.2):
            await client.call_tool("slow", {"seconds": 30})
    except TimeoutError:
        pass
    result = await client.call_tool("add", {"a": 1, "b": 2})
    assert result.structured_content == {"result": 3}


def _text(result: Any) -> str:
    assert not result.is_error, result
    text: str = result.content[0].text
    return text
