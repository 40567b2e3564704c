"""Typed middleware (mcpkit.server.TypedMiddleware): one hook per operation, end to end
through the real client in both eras, and only the hooks a subclass overrides installed."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import msgspec
import pytest

from mcpkit import Client, Context, Server
from mcpkit.errors import McpError
from mcpkit.server import ServerSessionHandle, TypedMiddleware
from mcpkit.server.middleware import (
    CallNext,
    CallToolNext,
    GetPromptNext,
    InitializeNext,
    ListNext,
    ReadResourceNext,
)
from mcpkit.server.middleware.chains import chain_for
from mcpkit.types import (
    GetPromptResult,
    InitializeRequestParams,
    InitializeResult,
    Prompt,
    ReadResourceResult,
    Resource,
    ResourceTemplate,
    TextResourceContents,
    Tool,
)

ERAS = ["2025-11-25", "2026-07-28"]


def make_server(*middleware: Any) -> Server:
    server = Server("typed", middleware=middleware)

    @server.tool()
    def add(a: int, b: int) -> int:
        return a + b

    @server.tool()
    def secret() -> str:
        return "hidden"

    @server.resource("data://one")
    def one() -> str:
        return "one"

    @server.resource("data://two")
    def two() -> str:
        return "two"

    @server.resource("data://item/{key}")
    def item(key: str) -> str:
        return f"item {key}"

    @server.prompt()
    def greet(name: str) -> str:
        return f"Hello {name}"

    @server.prompt()
    def internal() -> str:
        return "internal"

    return server


class Everything(TypedMiddleware):
    """One override of every request hook, each changing what passes."""

    def __init__(self) -> None:
        self.methods: list[str] = []

    async def on_request(self, ctx: Context, method: str, params: Any, call_next: CallNext) -> Any:
        self.methods.append(method)
        return await call_next(params)

    async def on_call_tool(
        self, ctx: Context, name: str, arguments: dict[str, Any], call_next: CallToolNext
    ) -> Any:
        if name == "plus":  # a name of the hook's own, served by another tool
            name = "add"
        return await call_next(name, {**arguments, "b": 100})

    async def on_list_tools(self, ctx: Context, call_next: ListNext) -> list[Tool]:
        tools: list[Tool] = await call_next()
        return [
            msgspec.structs.replace(tool, name="plus") if tool.name == "add" else tool
            for tool in tools
            if tool.name != "secret"
        ]

    async def on_list_resources(self, ctx: Context, call_next: ListNext) -> list[Resource]:
        resources: list[Resource] = await call_next()
        return [resource for resource in resources if resource.uri != "data://two"]

    async def on_list_resource_templates(
        self, ctx: Context, call_next: ListNext
    ) -> list[ResourceTemplate]:
        return []

    async def on_list_prompts(self, ctx: Context, call_next: ListNext) -> list[Prompt]:
        prompts: list[Prompt] = await call_next()
        return [prompt for prompt in prompts if prompt.name != "internal"]

    async def on_read_resource(
        self, ctx: Context, uri: str, call_next: ReadResourceNext
    ) -> ReadResourceResult:
        return await call_next(uri.replace("data://alias", "data://item"))

    async def on_get_prompt(
        self,
        ctx: Context,
        name: str,
        arguments: dict[str, str] | None,
        call_next: GetPromptNext,
    ) -> GetPromptResult:
        return await call_next(name, {"name": (arguments or {}).get("name", "").upper()})


@pytest.mark.parametrize("era", ERAS)
async def test_each_hook_sees_and_changes_its_operation(era: str) -> None:
    hooks = Everything()
    async with Client(make_server(hooks), protocol=era) as client:
        assert [tool.name for tool in await client.list_tools()] == ["plus"]
        result = await client.call_tool("plus", {"a": 1, "b": 2})
        assert result.structured_content == {"result": 101}
        assert [r.uri for r in await client.list_resources()] == ["data://one"]
        assert await client.list_resource_templates() == []
        read = await client.read_resource("data://alias/7")
        assert isinstance(read.contents[0], TextResourceContents)
        assert read.contents[0].text == "item 7"
        assert [p.name for p in await client.list_prompts()] == ["greet"]
        prompt = await client.get_prompt("greet", {"name": "ada"})
        assert "Hello ADA" in msgspec.json.encode(prompt).decode()
    assert hooks.methods == [
        "tools/list",
        "tools/call",
        "resources/list",
        "resources/templates/list",
        "resources/read",
        "prompts/list",
        "prompts/get",
    ]


class ToolsOnly(TypedMiddleware):
    def __init__(self) -> None:
        self.calls: list[str] = []

    async def on_call_tool(
        self, ctx: Context, name: str, arguments: dict[str, Any], call_next: CallToolNext
    ) -> Any:
        self.calls.append(name)
        return await call_next(name, arguments)


def test_only_the_overridden_hooks_are_installed() -> None:
    tools_only = ToolsOnly()
    assert chain_for((tools_only,), "tools/list") == ()
    assert chain_for((tools_only,), "resources/read") == ()
    assert len(chain_for((tools_only,), "tools/call")) == 1

    async def plain(ctx: Context, params: Any, call_next: CallNext) -> Any:
        return await call_next(params)

    assert chain_for((plain,), "tools/list") == (plain,)  # the chain itself, as it was
    assert chain_for((plain, tools_only, plain), "prompts/get") == (plain, plain)
    assert len(chain_for((Everything(),), "completion/complete")) == 1  # on_request only


@dataclasses.dataclass(frozen=True)
class Counting:
    """A layer equal to another of the same label (a frozen dataclass), each with its own log."""

    label: str
    seen: list[str] = dataclasses.field(default_factory=list[str], compare=False)

    async def __call__(self, ctx: Context, params: Any, call_next: CallNext) -> Any:
        self.seen.append(ctx.method)
        return await call_next(params)


async def test_each_server_runs_its_own_layers_even_equal_ones() -> None:
    # The chains worked out per method are remembered: by the very layers, not by equality.
    first, second = Counting("audit"), Counting("audit")
    for layer in (first, second):
        server = Server("counted", middleware=[layer])

        @server.tool()
        def one() -> int:
            return 1

        async with asyncio.timeout(10), Client(server) as client:
            await client.call_tool("one")
    assert first.seen == ["tools/call"] and second.seen == ["tools/call"]


def test_a_misspelt_hook_is_refused_where_the_class_is_written() -> None:
    # Only overridden hooks are installed: a hook under another name would never run.
    with pytest.raises(TypeError, match=r"on_call_tools is no hook.*mean on_call_tool\?"):

        class Misspelt(TypedMiddleware):
            async def on_call_tools(
                self, ctx: Context, name: str, arguments: dict[str, Any], call_next: Any
            ) -> Any:
                return await call_next(name, arguments)


@pytest.mark.parametrize("era", ERAS)
async def test_a_tool_only_middleware_runs_on_tool_calls_alone(era: str) -> None:
    tools_only = ToolsOnly()
    async with Client(make_server(tools_only), protocol=era) as client:
        await client.list_tools()
        await client.read_resource("data://one")
        assert (await client.call_tool("add", {"a": 1, "b": 2})).structured_content == {"result": 3}
    assert tools_only.calls == ["add"]


@pytest.mark.parametrize("era", ERAS)
async def test_arguments_that_are_not_an_object_pass_by_the_hook(era: str) -> None:
    tools_only = ToolsOnly()
    async with Client(make_server(tools_only), protocol=era) as client:
        result = await client.call_tool("add", None)
        assert result.is_error  # the tool's own input error: a and b are missing
    assert tools_only.calls == ["add"]  # (no arguments at all: the hook sees {})


class Watcher(TypedMiddleware):
    def __init__(self) -> None:
        self.clients: list[str] = []
        self.notified: list[str] = []
        self.heard = asyncio.Event()

    async def on_initialize(
        self, ctx: Context, params: InitializeRequestParams, call_next: InitializeNext
    ) -> InitializeResult:
        self.clients.append(params.client_info.name)
        self.heard.set()
        return await call_next()

    async def on_notification(self, session: ServerSessionHandle, method: str, params: Any) -> None:
        self.notified.append(method)
        self.heard.set()


async def test_a_2025_session_shows_its_handshake_and_notifications() -> None:
    watcher = Watcher()
    async with Client(make_server(watcher), protocol="2025-11-25", roots=[]) as client:
        async with asyncio.timeout(5):
            await watcher.heard.wait()
        assert watcher.clients == [client.client_info.name]
        watcher.heard.clear()
        await client.send_roots_list_changed()
        async with asyncio.timeout(5):
            await watcher.heard.wait()
    assert watcher.notified == ["notifications/roots/list_changed"]


async def test_a_2026_client_has_no_handshake_to_show() -> None:
    watcher = Watcher()
    async with Client(make_server(watcher), protocol="2026-07-28") as client:
        await client.call_tool("add", {"a": 1, "b": 2})
    assert watcher.clients == []


async def test_a_failing_observer_is_logged_and_the_session_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    failed = asyncio.Event()

    class Broken(TypedMiddleware):
        async def on_notification(
            self, session: ServerSessionHandle, method: str, params: Any
        ) -> None:
            failed.set()
            raise RuntimeError("observer broke")

    async with Client(make_server(Broken()), protocol="2025-11-25", roots=[]) as client:
        await client.send_roots_list_changed()
        async with asyncio.timeout(5):
            await failed.wait()
        assert (await client.call_tool("add", {"a": 1, "b": 2})).structured_content == {"result": 3}
    assert "observer broke" in caplog.text


async def test_a_list_hook_may_answer_without_call_next() -> None:
    class Fixed(TypedMiddleware):
        async def on_list_prompts(self, ctx: Context, call_next: ListNext) -> list[Prompt]:
            return [Prompt(name="only")]

    async with Client(make_server(Fixed()), protocol="2025-11-25") as client:
        assert [p.name for p in await client.list_prompts()] == ["only"]


async def test_an_mcp_error_from_a_hook_answers_the_request() -> None:
    class Deny(TypedMiddleware):
        async def on_read_resource(
            self, ctx: Context, uri: str, call_next: ReadResourceNext
        ) -> ReadResourceResult:
            raise McpError(-32002, f"no {uri} today")

    async with Client(make_server(Deny()), protocol="2026-07-28") as client:
        with pytest.raises(McpError, match="no data://one today"):
            await client.read_resource("data://one")
