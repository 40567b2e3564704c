"""ResponseCache (mcpkit.server.middleware.response_cache): a repeated call answered from the
store, in both eras; per caller or shared; never an error; only the tools chosen; keys
canonical; answers that end with their TTL; and one cache for processes sharing a store."""

from __future__ import annotations

import asyncio
import logging
import secrets
from pathlib import Path
from typing import Any, Literal

import pytest

from mcpkit import Client, Context, Server
from mcpkit.apps import HOST_EXTENSIONS
from mcpkit.errors import McpError, PeerError
from mcpkit.proxy import ProxyServer
from mcpkit.server import ResponseCache, ResultBudget
from mcpkit.server.catalog.visibility.rules import Component
from mcpkit.server.middleware.response_cache import CACHEABLE_METHODS
from mcpkit.server.state.caller import STATE_KEY_META
from mcpkit.stores.broker import MemoryBroker
from mcpkit.stores.deadline import StoreUnavailable
from mcpkit.stores.kv import Limit, MemoryKeyValueStore
from mcpkit.stores.tasks import MemoryTaskStore
from mcpkit.stores.url import Stores, open_store
from mcpkit.testing.stores import ManualClock
from mcpkit.types import ResourceLink

ERAS = ["2025-11-25", "2026-07-28"]
WAIT = 10.0  # seconds: a bound on hangs, not a measurement


def cached(cache: ResponseCache, *, store: Stores | str | None = None) -> tuple[Server, list[str]]:
    """A server behind `cache`, and the calls its handlers really ran."""
    ran: list[str] = []
    server = Server("cached", middleware=[cache], store=store)

    @server.tool()
    def add(a: int, b: int) -> int:
        ran.append(f"add {a} {b}")
        return a + b

    @server.tool()
    def fails(n: int) -> int:
        ran.append(f"fails {n}")
        raise ValueError("no")

    @server.tool()
    def now() -> int:
        ran.append("now")
        return len(ran)

    @server.tool(task=True)
    async def slow() -> str:
        ran.append("slow")
        return "done"

    @server.resource("data://one")
    def one() -> str:
        ran.append("one")
        return "1"

    @server.prompt()
    def hello(name: str) -> str:
        ran.append(f"hello {name}")
        return f"Hello {name}"

    return server, ran


def meta() -> dict[str, Any]:
    return {STATE_KEY_META: secrets.token_urlsafe(32)}


@pytest.mark.parametrize("era", ERAS)
async def test_a_repeated_call_is_answered_from_the_cache(era: str) -> None:
    server, ran = cached(ResponseCache())
    caller = meta()
    async with asyncio.timeout(WAIT), Client(server, protocol=era) as client:
        first = await client.call_tool("add", {"a": 1, "b": 2}, meta=caller)
        again = await client.call_tool("add", {"b": 2, "a": 1}, meta=caller)  # same, reordered
        assert first.structured_content == again.structured_content == {"result": 3}
        assert again.content == first.content
        assert ran == ["add 1 2"]
        await client.call_tool("add", {"a": 2, "b": 2}, meta=caller)  # other arguments
        assert ran == ["add 1 2", "add 2 2"]


@pytest.mark.parametrize("era", ERAS)
async def test_errors_are_never_cached(era: str) -> None:
    server, ran = cached(ResponseCache())
    caller = meta()
    async with asyncio.timeout(WAIT), Client(server, protocol=era) as client:
        for _ in range(2):
            assert (await client.call_tool("fails", {"n": 1}, meta=caller)).is_error
        for _ in range(2):  # arguments refused by the schema: an error result each time
            assert (await client.call_tool("add", {"a": "x"}, meta=caller)).is_error
        with pytest.raises(McpError):  # an unknown tool is a protocol error, each time
            await client.call_tool("missing", meta=caller)
        assert ran == ["fails 1", "fails 1"]


async def test_a_call_made_as_a_task_is_never_answered_from_the_cache() -> None:
    server, ran = cached(ResponseCache(scope="shared"))
    async with asyncio.timeout(WAIT), Client(server, protocol="2025-11-25") as client:
        assert text_of(await client.call_tool("slow")) == "done"  # kept
        assert text_of(await client.call_tool("slow")) == "done"  # from the cache
        for _ in range(2):  # a task's answer is its handle, never the kept result
            assert text_of(await client.call_tool("slow", task=True)) == "done"
        assert ran == ["slow", "slow", "slow"]


def text_of(result: Any) -> str:
    return str(result.content[0].text)


async def test_per_caller_answers_are_each_callers_own() -> None:
    server, ran = cached(ResponseCache())
    async with (
        asyncio.timeout(WAIT),
        Client(server, protocol="2025-11-25") as one,
        Client(server, protocol="2025-11-25") as two,
    ):
        for client in (one, two, one, two):
            await client.call_tool("now")
        assert ran == ["now", "now"]  # once per session


async def test_a_2026_call_with_no_caller_is_served_but_not_kept() -> None:
    server, ran = cached(ResponseCache())
    async with asyncio.timeout(WAIT), Client(server, protocol="2026-07-28") as client:
        await client.call_tool("now")
        await client.call_tool("now")
        assert ran == ["now", "now"]


@pytest.mark.parametrize("era", ERAS)
async def test_a_shared_answer_is_everyones(era: str) -> None:
    server, ran = cached(ResponseCache(scope="shared"))
    async with (
        asyncio.timeout(WAIT),
        Client(server, protocol=era) as one,
        Client(server, protocol=era) as two,
    ):
        assert (await one.call_tool("now")).structured_content == {"result": 1}
        assert (await two.call_tool("now")).structured_content == {"result": 1}
        assert ran == ["now"]


async def test_only_the_tools_chosen_are_cached() -> None:
    server, ran = cached(ResponseCache(scope="shared", tools=["add", "now"], exclude_tools=["now"]))
    async with asyncio.timeout(WAIT), Client(server) as client:
        for _ in range(2):
            await client.call_tool("add", {"a": 1, "b": 1})
            await client.call_tool("now")
        assert ran == ["add 1 1", "now", "now"]


async def test_resources_and_prompts_when_asked_for() -> None:
    server, ran = cached(ResponseCache(scope="shared", methods=["resources/read", "prompts/get"]))
    async with asyncio.timeout(WAIT), Client(server) as client:
        for _ in range(2):
            assert (await client.read_resource("data://one")).contents[0].text == "1"  # type: ignore[union-attr]
            prompt = await client.get_prompt("hello", {"name": "Ada"})
            assert prompt.messages[0].content.text == "Hello Ada"  # type: ignore[union-attr]
            await client.call_tool("now")  # tools/call not among the methods
        assert ran == ["one", "hello Ada", "now", "now"]


async def test_an_answer_ends_with_its_ttl_and_large_ones_are_not_kept() -> None:
    clock = ManualClock()
    store = Stores(
        url="memory://",
        tasks=MemoryTaskStore(),
        broker=MemoryBroker(),
        kv=MemoryKeyValueStore(clock=clock),
    )
    server, ran = cached(ResponseCache(scope="shared", ttl=30), store=store)
    async with asyncio.timeout(WAIT), Client(server) as client:
        await client.call_tool("now")
        clock.advance(29)
        await client.call_tool("now")
        clock.advance(2)
        await client.call_tool("now")
        assert ran == ["now", "now"]
    small, ran = cached(ResponseCache(scope="shared", max_entry_bytes=10))
    async with asyncio.timeout(WAIT), Client(small) as client:
        await client.call_tool("now")
        await client.call_tool("now")
        assert ran == ["now", "now"]


@pytest.mark.parametrize("scope", ["shared", "caller"])
async def test_an_answer_linking_its_kept_overflow_is_never_kept(
    scope: Literal["shared", "caller"],
) -> None:
    """The rest of a result past its budget is kept for its caller alone, for its own TTL
    (docs/server.md, "Result budgets"): the answer linking it, replayed to another caller
    or after that TTL, would link what they cannot read. A cut without a link is kept."""
    clock = ManualClock()
    kv = MemoryKeyValueStore(clock=clock)
    store = Stores(url="memory://", tasks=MemoryTaskStore(), broker=MemoryBroker(), kv=kv)
    ran: list[str] = []
    server = Server("cached", middleware=[ResponseCache(scope=scope, ttl=600)], store=store)
    full = "".join(f"line {n:03d}\n" for n in range(500))

    @server.tool(max_result=ResultBudget(bytes=1024, overflow="resource", ttl=60))
    def linked() -> str:
        ran.append("linked")
        return full

    @server.tool(max_result=1024)
    def cut() -> str:
        ran.append("cut")
        return full

    async def read_all(client: Client) -> str:
        result = await client.call_tool("linked")
        (link,) = [block for block in result.content if isinstance(block, ResourceLink)]
        (rest,) = (await client.read_resource(link.uri)).contents
        return text_of(result) + getattr(rest, "text", "")

    async with asyncio.timeout(WAIT), Client(server, protocol="2025-11-25") as alice:
        async with Client(server, protocol="2025-11-25") as bob:
            assert await read_all(alice) == full
            assert await read_all(bob) == full  # (shared: a kept answer would be alice's)
            clock.advance(61)  # alice's first overflow is gone; the cache's 600 s are not
            assert await read_all(alice) == full
            for _ in range(2):
                await alice.call_tool("cut")
    assert ran == ["linked", "linked", "linked", "cut"]


async def test_processes_sharing_a_store_share_the_cache(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    a, ran_a = cached(ResponseCache(scope="shared"), store=open_store(url))
    b, ran_b = cached(ResponseCache(scope="shared"), store=open_store(url))
    try:
        async with asyncio.timeout(WAIT), Client(a) as one, Client(b) as two:
            await one.call_tool("add", {"a": 1, "b": 2})
            assert (await two.call_tool("add", {"a": 1, "b": 2})).structured_content == {
                "result": 3
            }
        assert (ran_a, ran_b) == (["add 1 2"], [])
    finally:
        await a.store.aclose()
        await b.store.aclose()


def test_settings_are_checked() -> None:
    with pytest.raises(TypeError, match="did you mean 'ttl'"):
        ResponseCache(tll=5)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="a TTL must be"):
        ResponseCache(ttl=0)
    with pytest.raises(ValueError, match='scope must be "caller" or "shared"'):
        ResponseCache(scope="user")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not \\['tools/list'\\]"):
        ResponseCache(methods=["tools/list"])
    with pytest.raises(TypeError, match="a list of names"):
        ResponseCache(tools="add")


def staff_only(ctx: Any, component: Component) -> bool:
    info = ctx.client_info
    return "staff" not in component.tags or (info is not None and info.name == "staff")


@pytest.mark.parametrize("era", ERAS)
async def test_a_kept_answer_goes_only_to_a_caller_the_handler_would_serve(era: str) -> None:
    # The cache is a middleware, outside the handler that hides items and checks scopes: a
    # shared answer of a tool hidden from a caller must not reach that caller.
    server, ran = cached(ResponseCache(scope="shared", methods=list(CACHEABLE_METHODS)))

    @server.tool(tags=["staff"])
    def payroll() -> str:
        ran.append("payroll")
        return "salaries"

    @server.resource("data://staff", tags=["staff"])
    def secret() -> str:
        ran.append("secret")
        return "s"

    server.add_visibility_rule(staff_only)
    async with (
        asyncio.timeout(WAIT),
        Client(server, protocol=era, name="staff") as staff,
        Client(server, protocol=era, name="guest") as guest,
    ):
        assert text_of(await staff.call_tool("payroll")) == "salaries"
        assert (await staff.read_resource("data://staff")).contents[0].text == "s"  # type: ignore[union-attr]
        with pytest.raises(McpError, match="Unknown tool: payroll"):
            await guest.call_tool("payroll")
        with pytest.raises(McpError, match="Resource not found: data://staff"):
            await guest.read_resource("data://staff")
        assert text_of(await staff.call_tool("payroll")) == "salaries"  # still kept for staff
        assert ran == ["payroll", "secret"]


async def test_a_kept_answer_is_not_given_once_its_session_hid_the_tool() -> None:
    server, ran = cached(ResponseCache())

    @server.tool()
    async def focus(ctx: Context) -> str:
        await ctx.disable_components("now")
        return "focused"

    async with asyncio.timeout(WAIT), Client(server, protocol="2025-11-25") as client:
        await client.call_tool("now")
        await client.call_tool("focus")
        with pytest.raises(McpError, match="Unknown tool: now"):
            await client.call_tool("now")
        assert ran == ["now"]


async def test_a_proxys_answers_are_kept_too() -> None:
    # A proxy's tools are its upstream's, not in its registries: the judging is upstream.
    ran: list[str] = []
    upstream = Server("upstream")

    @upstream.tool()
    def now() -> int:
        ran.append("now")
        return len(ran)

    proxy = ProxyServer(upstream)
    proxy.add_middleware(ResponseCache(scope="shared"))
    async with asyncio.timeout(WAIT), Client(proxy, protocol="2025-11-25") as client:
        for _ in range(2):
            await client.call_tool("now")
    assert ran == ["now"]


class FailingKv(MemoryKeyValueStore):
    """A memory kv that, while `down`, raises as a store past its deadline does."""

    down = False

    async def get(self, key: str) -> bytes | None:
        self._check()
        return await super().get(key)

    async def set(self, key: str, value: bytes, ttl: float, *, limit: Limit | None = None) -> bool:
        self._check()
        return await super().set(key, value, ttl, limit=limit)

    def _check(self) -> None:
        if self.down:
            raise StoreUnavailable("the store at redis://cache.example does not answer")


@pytest.mark.parametrize("era", ERAS)
async def test_a_store_that_is_down_serves_calls_uncached(
    era: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Before: the cache's own read raised StoreUnavailable and the call failed, though the
    # tool needs no store at all.
    kv = FailingKv()
    store = Stores(url="memory://", tasks=MemoryTaskStore(), broker=MemoryBroker(), kv=kv)
    server, ran = cached(ResponseCache(scope="shared"), store=store)
    caplog.set_level(logging.INFO, logger="mcpkit.server")
    async with asyncio.timeout(WAIT), Client(server, protocol=era) as client:
        kv.down = True
        for _ in range(3):
            answer = await client.call_tool("add", {"a": 1, "b": 2})
            assert not answer.is_error and answer.structured_content == {"result": 3}
        assert ran == ["add 1 2"] * 3
        said = [r.getMessage() for r in caplog.records if "uncached" in r.getMessage()]
        assert len(said) == 1  # once per outage, not per call
        kv.down = False
        for _ in range(2):  # back: kept at the first call, answered from the store after
            await client.call_tool("add", {"a": 1, "b": 2})
        assert ran == ["add 1 2"] * 4
        assert any("answers again" in r.getMessage() for r in caplog.records)


async def test_a_tool_for_views_alone_is_not_answered_to_a_client_that_renders_none() -> None:
    # The handler and the cache judged with two copies of "find it, refuse it when hidden,
    # check its scopes", and the cache's lacked MCP Apps' rule: an answer a host kept for a
    # tool for views alone went to a client that renders none, which the handler refuses.
    server = Server("views", middleware=[ResponseCache(scope="shared")])

    @server.view("ui://views/panel")
    def panel() -> str:
        return "<!DOCTYPE html><html><body>panel</body></html>"

    @server.tool(view="ui://views/panel", visibility=["app"])
    def refresh() -> str:
        return "refreshed"

    async with asyncio.timeout(WAIT):
        async with Client(server, extensions=HOST_EXTENSIONS) as host:
            assert (await host.call_tool("refresh")).content[0].text == "refreshed"  # type: ignore[union-attr]
        async with Client(server) as plain:
            with pytest.raises(PeerError, match="Unknown tool: refresh"):
                await plain.call_tool("refresh")
