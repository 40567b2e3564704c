"""Resources, templates, subscriptions, prompts and completion end to end."""

from __future__ import annotations

import asyncio
import base64
import enum
import functools
from typing import Any

import msgspec
import pytest

from mcpkit import Client, Context, McpError, Server
from mcpkit.protocol import codes
from mcpkit.types import PromptMessage, ServerCapabilities, TextContent

# These tests are about the 2025-11-25 session (what the server sends the client, its errors
# and notifications as that revision has them): the client is pinned to it. docs/eras.md says
# what 2026-07-28 does instead; tests/server/test_modern_revision.py and
# tests/client/test_client_modern.py cover it.
Client = functools.partial(Client, protocol="2025-11-25")


class Language(enum.Enum):
    PYTHON = "python"
    PERL = "perl"
    GO = "go"


def make_server() -> Server:
    server = Server("res", page_size=2)

    @server.resource("config://app", mime_type="application/json", title="App config")
    def config() -> dict[str, Any]:
        """The app's configuration."""
        return {"debug": False}

    @server.resource("file://logo.png", mime_type="image/png")
    def logo() -> bytes:
        return b"\x89PNG\r\n"

    @server.resource("note://hello")
    async def hello(ctx: Context) -> str:
        return f"hello from {ctx.method}"

    @server.resource("users://{user_id}/profile")
    def profile(user_id: str) -> str:
        return f"profile of {user_id}"

    @server.resource("items://{item_id}")
    def item(item_id: int) -> dict[str, int]:
        if item_id > 100:
            return None  # type: ignore[return-value]
        return {"id": item_id}

    @server.prompt(title="Code review")
    def review(code: str, language: Language = Language.PYTHON) -> str:
        """Review some code."""
        return f"Please review this {language.value} code:\n{code}"

    @server.prompt()
    def dialogue(topic: str, turns: int = 2) -> list[PromptMessage]:
        return [
            PromptMessage(role="user", content=TextContent(text=f"{topic} {i}"))
            for i in range(turns)
        ]

    @server.completion(prompt="dialogue", argument="topic")
    def topics(value: str, given: dict[str, str]) -> list[str]:
        return [
            t
            for t in ["cats", "cars", "dogs"] + [f"c{i}" for i in range(200)]
            if t.startswith(value)
        ]

    @server.completion(template="users://{user_id}/profile", argument="user_id")
    async def users(value: str, given: dict[str, str]) -> list[str]:
        return [u for u in ["alice", "albert", "bob"] if u.startswith(value)]

    return server


async def test_list_and_read_resources() -> None:
    async with Client(make_server()) as client:
        resources = await client.list_resources()
        assert [r.uri for r in resources] == ["config://app", "file://logo.png", "note://hello"]
        assert resources[0].title == "App config"
        assert resources[0].description == "The app's configuration."
        assert resources[0].mime_type == "application/json"
        config = await client.read_resource("config://app")
        assert config.contents[0].text == '{"debug":false}'
        assert config.contents[0].mime_type == "application/json"
        logo = await client.read_resource("file://logo.png")
        assert base64.b64decode(logo.contents[0].blob) == b"\x89PNG\r\n"
        hello = await client.read_resource("note://hello")
        assert hello.contents[0].text == "hello from resources/read"


async def test_templates() -> None:
    async with Client(make_server()) as client:
        templates = await client.list_resource_templates()
        assert [t.uri_template for t in templates] == [
            "users://{user_id}/profile",
            "items://{item_id}",
        ]
        profile = await client.read_resource("users://42/profile")
        assert profile.contents[0].text == "profile of 42"
        assert profile.contents[0].uri == "users://42/profile"
        item = await client.read_resource("items://7")
        assert item.contents[0].text == '{"id":7}'
        with pytest.raises(McpError) as info:
            await client.read_resource("items://notanumber")
        assert info.value.code == codes.INVALID_PARAMS
        with pytest.raises(McpError) as info:
            await client.read_resource("items://500")
        assert info.value.code == codes.RESOURCE_NOT_FOUND


async def test_unknown_resource_is_32002() -> None:
    async with Client(make_server()) as client:
        with pytest.raises(McpError) as info:
            await client.read_resource("nope://x")
        assert info.value.code == codes.RESOURCE_NOT_FOUND
        assert info.value.data == {"uri": "nope://x"}


async def test_subscriptions_and_updates() -> None:
    server = make_server()
    updates: list[str] = []
    got = asyncio.Event()

    def on_notification(method: str, params: Any) -> None:
        if method == "notifications/resources/updated":
            updates.append(params.uri)
            got.set()

    async with Client(server, on_notification=on_notification) as client:
        assert client.server_capabilities.resources is not None
        assert client.server_capabilities.resources.subscribe is True
        await client.subscribe("config://app")
        await server.notify_resource_updated("config://app")
        await server.notify_resource_updated("note://hello")  # not subscribed
        await asyncio.wait_for(got.wait(), 5)
        await client.ping()
        assert updates == ["config://app"]
        await client.unsubscribe("config://app")
        await server.notify_resource_updated("config://app")
        await client.ping()
        assert updates == ["config://app"]
        with pytest.raises(McpError) as info:
            await client.subscribe("nope://x")
        assert info.value.code == codes.RESOURCE_NOT_FOUND


async def test_resource_list_changed() -> None:
    server = make_server()
    got = asyncio.Event()
    methods: list[str] = []

    def on_notification(method: str, params: Any) -> None:
        methods.append(method)
        got.set()

    async with Client(server, on_notification=on_notification) as client:
        server.add_resource(lambda: "late", "note://late")
        await asyncio.wait_for(got.wait(), 5)
        assert methods == ["notifications/resources/list_changed"]
        assert "note://late" in [r.uri for r in await client.list_resources()]


async def test_prompts() -> None:
    async with Client(make_server()) as client:
        prompts = {p.name: p for p in await client.list_prompts()}
        review = prompts["review"]
        assert review.title == "Code review" and review.description == "Review some code."
        assert review.arguments is not None
        args = {a.name: a.required for a in review.arguments}
        assert args == {"code": True, "language": False}
        result = await client.get_prompt("review", {"code": "x = 1", "language": "go"})
        assert result.messages[0].role == "user"
        assert result.messages[0].content.text == "Please review this go code:\nx = 1"
        many = await client.get_prompt("dialogue", {"topic": "cats", "turns": "3"})
        assert [m.content.text for m in many.messages] == ["cats 0", "cats 1", "cats 2"]
        with pytest.raises(McpError) as info:
            await client.get_prompt("review", {})
        assert info.value.code == codes.INVALID_PARAMS and "code" in info.value.message
        with pytest.raises(McpError) as info:
            await client.get_prompt("nope")
        assert info.value.code == codes.INVALID_PARAMS


async def test_completion() -> None:
    async with Client(make_server()) as client:
        assert client.server_capabilities.completions is not None
        auto = await client.complete({"prompt": "review"}, "language", "p")
        assert auto.completion.values == ["python", "perl"]
        custom = await client.complete({"prompt": "dialogue"}, "topic", "c")
        assert len(custom.completion.values) == 100
        assert custom.completion.total == 202 and custom.completion.has_more is True
        users = await client.complete({"template": "users://{user_id}/profile"}, "user_id", "al")
        assert users.completion.values == ["alice", "albert"]
        with pytest.raises(McpError):
            await client.complete({"prompt": "nope"}, "x", "")


async def test_undeclared_features_are_refused() -> None:
    server = Server("tools-only")

    @server.tool()
    def ping_tool() -> str:
        return "pong"

    async with Client(server) as client:
        assert client.server_capabilities.prompts is None
        from mcpkit.errors import LocalProtocolError

        with pytest.raises(LocalProtocolError):
            await client.list_prompts()
        # A request sent anyway is answered -32601 by the server.
        terms = client.session.terms
        assert terms is not None
        caps = msgspec.convert({"prompts": {}}, ServerCapabilities)
        client.session.terms = msgspec.structs.replace(terms, peer_capabilities=caps)
        with pytest.raises(McpError) as info:
            await client.list_prompts()
        assert info.value.code == codes.METHOD_NOT_FOUND


async def test_icons_titles_annotations_and_meta_on_everything() -> None:
    from mcpkit import text
    from mcpkit.types import Annotations, Icon

    icon = [Icon(src="https://example.com/i.png", mime_type="image/png", sizes=["48x48"])]
    server = Server(
        "dressed",
        version="2.0",
        title="Dressed server",
        icons=icon,
        website_url="https://example.com",
        description="All the metadata",
    )

    @server.tool(title="T", icons=icon, meta={"k": "tool"})
    def tool() -> object:
        return text(
            "hi", annotations=Annotations(audience=["user"], priority=0.5), meta={"k": "content"}
        )

    @server.resource(
        "a://b",
        title="R",
        icons=icon,
        meta={"k": "resource"},
        annotations=Annotations(priority=1.0),
        size=2,
    )
    def res() -> str:
        return "ab"

    @server.resource("a://{x}", title="RT", icons=icon, meta={"k": "template"})
    def tmpl(x: str) -> str:
        return x

    @server.prompt(title="P", icons=icon, meta={"k": "prompt"})
    def prompt() -> str:
        return "p"

    async with Client(server) as client:
        info = client.server_info
        assert (info.title, info.icons, info.website_url, info.description) == (
            "Dressed server",
            icon,
            "https://example.com",
            "All the metadata",
        )
        (t,) = await client.list_tools()
        assert (t.title, t.icons, t.meta) == ("T", icon, {"k": "tool"})
        (r,) = await client.list_resources()
        assert (r.title, r.icons, r.meta, r.size) == ("R", icon, {"k": "resource"}, 2)
        assert r.annotations is not None and r.annotations.priority == 1.0
        (rt,) = await client.list_resource_templates()
        assert (rt.title, rt.icons, rt.meta) == ("RT", icon, {"k": "template"})
        (p,) = await client.list_prompts()
        assert (p.title, p.icons, p.meta) == ("P", icon, {"k": "prompt"})
        block = (await client.call_tool("tool")).content[0]
        assert block.meta == {"k": "content"}
        assert block.annotations is not None and block.annotations.audience == ["user"]


async def test_sync_completers_run_off_the_event_loop() -> None:
    import threading

    server = Server("completers")
    loop_thread = threading.get_ident()
    seen: list[int] = []

    @server.prompt()
    def pick(fruit: str) -> str:
        return fruit

    @server.completion(prompt="pick", argument="fruit")
    def fruits(prefix: str, context: dict[str, str]) -> list[str]:
        seen.append(threading.get_ident())
        return [f for f in ("apple", "apricot", "banana") if f.startswith(prefix)]

    async with Client(server) as client:
        done = await client.complete({"prompt": "pick"}, "fruit", "ap")
        assert done.completion.values == ["apple", "apricot"]
    assert seen and seen[0] != loop_thread


async def test_one_page_at_a_time_for_resources_templates_and_prompts() -> None:
    server = Server("pages", page_size=1)
    for i in range(2):
        server.add_resource(lambda i=i: str(i), f"page://{i}")
        server.add_resource(lambda x: x, f"tmpl{i}://{{x}}")
        server.add_prompt(lambda i=i: str(i), name=f"p{i}")
    async with Client(server) as client:
        for fetch, attr in [
            (client.list_resources_page, "resources"),
            (client.list_resource_templates_page, "resource_templates"),
            (client.list_prompts_page, "prompts"),
        ]:
            first = await fetch()
            assert len(getattr(first, attr)) == 1 and first.next_cursor
            second = await fetch(first.next_cursor)
            assert len(getattr(second, attr)) == 1 and second.next_cursor is None
            assert getattr(first, attr) != getattr(second, attr)
