"""A tool, resource, template or prompt with `scopes=` that a per-request or per-session rule
hides is answered exactly as an unknown one, never with the 403 (or the in-band scope error)
that would tell the caller it exists: the rules are judged before the scopes, over HTTP through
`Client` in both eras (docs/compose.md, "Per session and per request")."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "auth"))  # the auth tests' helpers

from _resource_helpers import ADMIN, ALICE, scoped_server
from _serving import WAIT, serving

from mcpkit import Client, Context, McpError, Server
from mcpkit.server.catalog.visibility.rules import Component

ERAS = ["2025-11-25", "2026-07-28"]


def usable_only(ctx: Context, component: Component) -> bool:
    """Show a component only to a caller whose token has all of its scopes."""
    needed: frozenset[str] = component.spec.scopes
    return not needed or (ctx.auth is not None and needed <= ctx.auth.scopes)


def scoped() -> Server:
    """`scoped_server`, whose prompt `incident` completes its argument."""
    server, _ = scoped_server()

    @server.completion(prompt="incident", argument="service")
    def services(value: str, given: dict[str, str]) -> list[str]:
        return ["db", "web"]

    return server


def as_caller(url: str, token: str, protocol: str) -> Client:
    return Client(url, headers={"authorization": f"Bearer {token}"}, protocol=protocol)


async def refusal(attempt: Callable[[], Awaitable[Any]]) -> tuple[int, str]:
    with pytest.raises(McpError) as caught:
        await attempt()
    return caught.value.code, caught.value.message


async def assert_hidden_as_unknown(client: Client) -> None:
    """Each scoped item of `scoped_server` is refused as an unknown one of its kind is, word
    for word but for its name."""
    asks: list[tuple[str, str, Callable[[str], Awaitable[Any]]]] = [
        ("deploy", "nope", lambda name: client.call_tool(name, {})),
        ("incident", "nope", lambda name: client.get_prompt(name, {"service": "db"})),
        ("config://secret", "config://nope", client.read_resource),
        ("users://alice/keys", "nobody://alice", client.read_resource),
        ("incident", "nope", lambda name: client.complete({"prompt": name}, "service", "")),
    ]
    for hidden, unknown, ask in asks:
        code, message = await refusal(lambda u=unknown, a=ask: a(u))  # type: ignore[misc]
        assert await refusal(lambda h=hidden, a=ask: a(h)) == (  # type: ignore[misc]
            code,
            message.replace(unknown, hidden),
        )


@pytest.mark.parametrize("protocol", ERAS)
async def test_hidden_per_request_scoped_items_are_answered_as_unknown(protocol: str) -> None:
    server = scoped()
    server.add_visibility_rule(usable_only)
    async with asyncio.timeout(WAIT), serving(server.http_app()) as base:
        async with as_caller(f"{base}/mcp", ALICE, protocol) as alice:
            assert {tool.name for tool in await alice.list_tools()} == {"whoami"}
            await assert_hidden_as_unknown(alice)
        async with as_caller(f"{base}/mcp", ADMIN, protocol) as admin:  # shown: served
            assert (await admin.call_tool("deploy", {})).content[0].text == "deployed"  # type: ignore[union-attr]


def with_focus(server: Server) -> Server:
    @server.tool()
    async def focus(ctx: Context) -> str:
        """Hide the scoped items from this session."""
        await ctx.disable_components("deploy", "incident", "config://secret", "users://{name}/keys")
        return "focused"

    return server


async def test_hidden_per_session_scoped_items_are_answered_as_unknown() -> None:
    server = scoped()
    async with asyncio.timeout(WAIT), serving(with_focus(server).http_app()) as base:
        async with as_caller(f"{base}/mcp", ALICE, "2025-11-25") as alice:
            await alice.call_tool("focus", {})
            await assert_hidden_as_unknown(alice)
