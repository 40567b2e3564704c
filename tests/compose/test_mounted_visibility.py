"""A mounted server's own per-request visibility rules judge its components as its parent shows
them: not listed, and refused as unknown when called, read or got through the parent, each rule
seeing the component by the mounted server's own name, at any depth and for a rule added after
mounting; through `Client` in both eras (docs/compose.md, "Per session and per request")."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from mcpkit import Client, Context, McpError, Server
from mcpkit.server.catalog.visibility.rules import Component

ERAS = ["2025-11-25", "2026-07-28"]
WAIT = 10


class AdminsOnly:
    """A rule hiding what is tagged "admin" from every client but "admin-console"; it keeps
    each (server name, component key) it was asked about."""

    def __init__(self) -> None:
        self.asked: set[tuple[str, str]] = set()

    def __call__(self, ctx: Context, component: Component) -> bool:
        self.asked.add((ctx.server.name, component.key))
        caller = ctx.client_info.name if ctx.client_info else ""
        return "admin" not in component.tags or caller == "admin-console"


def child(rule: AdminsOnly, *, rule_now: bool = True) -> Server:
    server = Server("child")

    @server.tool()
    def hello() -> str:
        return "hello"

    @server.tool(tags={"admin"})
    def wipe() -> str:
        return "wiped"

    @server.prompt(tags={"admin"})
    def audit(scope: str = "all") -> str:
        return f"audit {scope}"

    @server.resource("notes://admin", tags={"admin"})
    def admin_notes() -> str:
        return "the admin notes"

    @server.resource("logs://{day}", tags={"admin"})
    def logs(day: str) -> str:
        return f"logs of {day}"

    @server.completion(prompt="audit", argument="scope")
    def scopes(value: str, given: dict[str, str]) -> list[str]:
        return ["all", "recent"]

    if rule_now:
        server.add_visibility_rule(rule)
    return server


def parent_of(kid: Server) -> Server:
    parent = Server("parent")

    @parent.tool()
    def own() -> str:
        return "own"

    parent.mount(kid, namespace="kid")
    return parent


async def refused(attempt: Callable[[], Awaitable[Any]]) -> int:
    with pytest.raises(McpError) as caught:
        await attempt()
    return caught.value.code


async def assert_admin_items_hidden(client: Client, prefix: str) -> None:
    assert {t.name for t in await client.list_tools()} == {"own", f"{prefix}hello"}
    assert await client.list_prompts() == []
    assert await client.list_resources() == []
    assert await client.list_resource_templates() == []
    assert await refused(lambda: client.call_tool(f"{prefix}wipe", {})) == -32602
    assert await refused(lambda: client.get_prompt(f"{prefix}audit")) == -32602
    unknown = await refused(lambda: client.read_resource("notes://nothing-here"))
    assert await refused(lambda: client.read_resource("notes://kid/admin")) == unknown
    assert await refused(lambda: client.read_resource("logs://kid/monday")) == unknown
    complete = client.complete({"prompt": f"{prefix}audit"}, "scope", "")
    assert await refused(lambda: complete) == -32602


@pytest.mark.parametrize("protocol", ERAS)
async def test_a_mounted_server_s_rules_hide_its_items_through_the_parent(protocol: str) -> None:
    rule = AdminsOnly()
    parent = parent_of(child(rule))
    async with asyncio.timeout(WAIT):
        async with Client(parent, name="chat", protocol=protocol) as chat:
            await assert_admin_items_hidden(chat, "kid_")
        async with Client(parent, name="admin-console", protocol=protocol) as admin:
            assert (await admin.call_tool("kid_wipe", {})).content[0].text == "wiped"  # type: ignore[union-attr]
            assert [p.name for p in await admin.list_prompts()] == ["kid_audit"]
            done = await admin.complete({"prompt": "kid_audit"}, "scope", "")
            assert done.completion.values == ["all", "recent"]
            read = await admin.read_resource("logs://kid/monday")
            assert read.contents[0].text == "logs of monday"  # type: ignore[union-attr]
    # Each component was judged by the mounted server's own name for it, by its Context.
    assert ("child", "wipe") in rule.asked
    assert ("child", "logs://{day}") in rule.asked
    assert not any(key.startswith("kid_") for _, key in rule.asked)


@pytest.mark.parametrize("protocol", ERAS)
async def test_rules_of_a_server_two_mounts_down_added_later_are_asked(protocol: str) -> None:
    rule = AdminsOnly()
    grandchild = child(rule, rule_now=False)
    middle = Server("middle")
    middle.mount(grandchild, namespace="deep")
    top = parent_of(middle)
    grandchild.add_visibility_rule(rule)  # after both mounts
    async with asyncio.timeout(WAIT), Client(top, name="chat", protocol=protocol) as chat:
        await assert_admin_items_hidden(chat, "kid_deep_")
    assert ("child", "wipe") in rule.asked
