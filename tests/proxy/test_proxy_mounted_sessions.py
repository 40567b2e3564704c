"""A mounted proxy gives each 2025-11-25 session of its parent an upstream session of its own,
as the standalone proxy gives each of its client sessions: what an upstream server keeps per
session (a counter, its client's roots) is each client's own, opened at the session's first
forwarded request and closed when the session ends; 2026-07-28 requests, which name no
session, share the proxy's pool."""

from __future__ import annotations

import asyncio
import itertools
import sys
from pathlib import Path
from typing import Any

import pytest
from _serving import serving

from mcpkit import Client, Context, Server
from mcpkit.errors import McpError
from mcpkit.proxy import ProxyServer
from mcpkit.server.session import ServerSessionHandle
from mcpkit.types import CreateMessageResult, Root, TextContent


class Counting:
    """An upstream server whose tool counts the calls of each of its sessions (state an MCP
    server may keep per session, as a log level or a subscription), and which says how many
    of its sessions are open."""

    def __init__(self) -> None:
        self.server = Server("counting")
        # Keyed by the session itself, which the key keeps alive: an id() is reused once its
        # object is freed, and a new session at an ended one's address took over its count.
        self.counts: dict[object, int] = {}
        self.opened = 0
        server = self.server

        @server.tool()
        def count(ctx: Context) -> int:
            """How many times this session called count."""
            key = ctx.session
            if key not in self.counts:
                self.opened += 1
            self.counts[key] = self.counts.get(key, 0) + 1
            return self.counts[key]


def _text(result: Any) -> str:
    block = result.content[0]
    assert isinstance(block, TextContent), result
    return block.text


def _number(result: Any) -> int:
    return int(_text(result))


async def _interleaved(a: Client, b: Client, tool: str) -> list[int]:
    """`tool` called by a, b, a, b, one at a time: what each call answered."""
    clients = itertools.islice(itertools.cycle((a, b)), 4)
    return [_number(await client.call_tool(tool)) for client in clients]


async def test_a_standalone_proxy_keeps_each_sessions_state_apart() -> None:
    upstream = Counting()
    proxy = ProxyServer(upstream.server)
    protocol = "2025-11-25"
    async with asyncio.timeout(20), Client(proxy, protocol=protocol) as a:
        async with Client(proxy, protocol=protocol) as b:
            assert await _interleaved(a, b, "count") == [1, 1, 2, 2]


async def test_a_mounted_proxy_keeps_each_sessions_state_apart() -> None:
    upstream = Counting()
    front = Server("front")
    front.mount(ProxyServer(upstream.server), namespace="up")
    protocol = "2025-11-25"
    async with asyncio.timeout(20), Client(front, protocol=protocol) as a:
        async with Client(front, protocol=protocol) as b:
            assert await _interleaved(a, b, "up_count") == [1, 1, 2, 2]


async def test_2026_requests_share_the_pools_upstream_session() -> None:
    """No session to keep apart: one kind of client's calls, one at a time, keep to the
    pool's first upstream session (docs/proxy.md, "A command upstream")."""
    upstream = Counting()
    front = Server("front")
    front.mount(ProxyServer(upstream.server), namespace="up")
    protocol = "2026-07-28"
    async with asyncio.timeout(20), Client(front, protocol=protocol) as a:
        async with Client(front, protocol=protocol) as b:
            assert await _interleaved(a, b, "up_count") == [1, 2, 3, 4]


class Ending(Server):
    """An upstream server that says when one of its sessions ends."""

    def __init__(self) -> None:
        super().__init__("ending")
        self.ended: asyncio.Queue[ServerSessionHandle] = asyncio.Queue()

        @self.tool()
        def session(ctx: Context) -> str:
            return ctx.session.id

    def session_ended(self, handle: ServerSessionHandle) -> None:
        self.ended.put_nowait(handle)
        super().session_ended(handle)


async def test_a_sessions_upstream_session_ends_with_it() -> None:
    upstream = Ending()
    front = Server("front")
    front.mount(ProxyServer(upstream), namespace="up")
    async with asyncio.timeout(20), Client(front, protocol="2025-11-25") as a:
        async with Client(front, protocol="2025-11-25") as b:
            first = _text(await a.call_tool("up_session"))
            assert _text(await a.call_tool("up_session")) == first
            assert _text(await b.call_tool("up_session")) != first
        assert (await upstream.ended.get()).id != first  # b's
        assert upstream.ended.empty()  # a's is still open
        assert _text(await a.call_tool("up_session")) == first
    assert (await upstream.ended.get()).id == first


async def test_max_upstreams_ends_the_idle_longest_or_refuses_naming_it() -> None:
    upstream = Counting()
    release = asyncio.Event()
    started = asyncio.Event()

    @upstream.server.tool()
    async def hold() -> str:
        started.set()
        await release.wait()
        return "held"

    front = Server("front")
    front.mount(ProxyServer(upstream.server, max_upstreams=1), namespace="up")
    async with asyncio.timeout(20), Client(front, protocol="2025-11-25") as a:
        async with Client(front, protocol="2025-11-25") as b:
            # Each takes the place of the other, idle: its state starts afresh.
            assert await _interleaved(a, b, "up_count") == [1, 1, 1, 1]
            held = asyncio.create_task(b.call_tool("up_hold"))
            await started.wait()
            with pytest.raises(McpError, match=r"all serving requests \(max_upstreams\)"):
                await a.call_tool("up_count")
            release.set()
            assert _text(await held) == "held"
            assert _number(await a.call_tool("up_count")) == 1


async def test_each_sessions_roots_and_their_changes_reach_its_upstream_session() -> None:
    """The upstream keeps each session's roots, asked once, and asks again when told they
    changed: outside any call, so its question goes to that session's client."""
    upstream = Server("roots")
    kept: dict[object, list[str]] = {}
    asked_again: asyncio.Queue[list[str]] = asyncio.Queue()

    async def on_change(handle: ServerSessionHandle) -> None:
        kept[handle] = [root.uri for root in await handle.list_roots()]
        asked_again.put_nowait(kept[handle])

    upstream.on_roots_changed = on_change

    @upstream.tool()
    async def where(ctx: Context) -> list[str]:
        if ctx.session not in kept:
            kept[ctx.session] = [root.uri for root in await ctx.list_roots()]
        return kept[ctx.session]

    front = Server("front")
    front.mount(ProxyServer(upstream), namespace="up")
    mine = [Root(uri="file:///a")]
    protocol = "2025-11-25"
    async with asyncio.timeout(20), Client(front, protocol=protocol, roots=lambda: mine) as a:
        theirs = [Root(uri="file:///b")]
        async with Client(front, protocol=protocol, roots=theirs) as b:
            assert (await a.call_tool("up_where")).structured_content == {"result": ["file:///a"]}
            assert (await b.call_tool("up_where")).structured_content == {"result": ["file:///b"]}
            mine.append(Root(uri="file:///c"))
            await a.send_roots_list_changed()
            assert await asked_again.get() == ["file:///a", "file:///c"]
            result = await a.call_tool("up_where")
            assert result.structured_content == {"result": ["file:///a", "file:///c"]}
            assert (await b.call_tool("up_where")).structured_content == {"result": ["file:///b"]}


@pytest.mark.parametrize("protocol", ["2025-11-25", "2026-07-28"])
async def test_sampling_roots_and_log_messages_pass_through_in_both_eras(protocol: str) -> None:
    upstream = Server("asks")

    @upstream.tool()
    async def ask(ctx: Context) -> str:
        answer = await ctx.sample("The answer?", max_tokens=10)
        roots = [root.uri for root in await ctx.list_roots()]
        await ctx.info("answered")  # (after the asks: a 2026 round that asks ends at them)
        return f"{getattr(answer.content, 'text', '?')} in {' '.join(roots)}"

    def sample(params: Any) -> CreateMessageResult:
        return CreateMessageResult(
            role="assistant", content=TextContent(text="forty-two"), model="test"
        )

    logged: list[Any] = []
    front = Server("front")
    front.mount(ProxyServer(upstream), namespace="up")
    client = Client(
        front,
        protocol=protocol,
        sampling_handler=sample,
        roots=[Root(uri="file:///here")],
        on_notification=lambda method, params: logged.append(params),
    )
    async with asyncio.timeout(20), client:
        await client.set_logging_level("info")
        assert _text(await client.call_tool("up_ask")) == "forty-two in file:///here"
        await client.set_logging_level("warning")  # the parent's level holds
        assert _text(await client.call_tool("up_ask")) == "forty-two in file:///here"
    assert [getattr(params, "data", None) for params in logged] == ["answered"]


async def test_over_http_a_sessions_upstream_session_ends_with_its_delete() -> None:
    upstream = Ending()
    front = Server("front")
    front.mount(ProxyServer(upstream), namespace="up")
    async with serving(front.http_app()) as base:
        async with asyncio.timeout(30):
            async with Client(base + "/mcp", protocol="2025-11-25") as a:
                first = _text(await a.call_tool("up_session"))
                async with Client(base + "/mcp", protocol="2026-07-28") as b:
                    pooled = _text(await b.call_tool("up_session"))
                assert pooled != first and _text(await a.call_tool("up_session")) == first
                assert upstream.ended.empty()
            assert (await upstream.ended.get()).id == first  # a's DELETE ended it


async def test_a_session_whose_upstream_died_is_told_and_opens_a_new_one() -> None:
    front = Server("front")
    dying = Path(__file__).with_name("_dying_server.py")
    front.mount(ProxyServer([sys.executable, str(dying)]), namespace="up")
    async with asyncio.timeout(30), Client(front, protocol="2025-11-25") as client:
        assert _text(await client.call_tool("up_echo", {"text": "a"})) == "a"
        with pytest.raises(McpError, match=r"has ended .*next request opens a new upstream"):
            await client.call_tool("up_die")
        assert _text(await client.call_tool("up_echo", {"text": "b"})) == "b"


async def test_a_sessions_task_forwards_on_its_upstream_session_and_ends_with_it() -> None:
    upstream = Ending()
    started, cancelled = asyncio.Event(), asyncio.Event()

    @upstream.tool(task=True)
    async def bake(ctx: Context) -> str:
        started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise
        return "baked"

    front = Server("front")
    front.mount(ProxyServer(upstream), namespace="up")
    async with asyncio.timeout(20), Client(front, protocol="2025-11-25") as other:
        async with Client(front, protocol="2025-11-25") as client:
            mine = _text(await client.call_tool("up_session"))
            await client.call_tool_as_task("up_bake")
            await started.wait()
        assert (await upstream.ended.get()).id == mine  # while the front serves on
        await cancelled.wait()
        assert _text(await other.call_tool("up_session")) != mine
