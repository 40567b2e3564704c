"""A mounted server's handlers at work: their Context (progress, logging, sampling, elicitation,
its own resources, request facts), its middleware inside the parent's, its tasks, its
list_changed and resource updates forwarded, its lifespan inside the parent's."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from mcpkit import Client, Context, McpError, Server
from mcpkit.protocol import codes
from mcpkit.server.middleware import CallNext
from mcpkit.types import (
    CreateMessageRequestParams,
    CreateMessageResult,
    ElicitResult,
    TextContent,
)

WAIT = 5.0


def make_child() -> Server:
    child = Server("child")

    @child.tool
    async def busy(ctx: Context) -> str:
        await ctx.progress(1, total=2, message="half")
        await ctx.info("working", logger="child")
        return f"{ctx.server.name} {ctx.method} {ctx.request_info}"

    @child.tool
    async def ask(ctx: Context) -> str:
        sampled = await ctx.sample("hi", max_tokens=5)
        answer = await ctx.elicit(
            "name?", {"type": "object", "properties": {"n": {"type": "string"}}}
        )
        assert isinstance(sampled.content, TextContent)
        return f"{sampled.content.text} {answer.action} {answer.data}"

    @child.tool
    async def reads(ctx: Context) -> str:
        contents = await ctx.read_resource("notes://today")
        return contents[0].text  # type: ignore[union-attr]

    @child.tool(task=True)
    async def long(n: int, ctx: Context) -> int:
        await ctx.info("in a task")
        return n * 2

    @child.resource("notes://today")
    def today() -> str:
        return "buy milk"

    @child.resource("notes://day/{day}")
    def day(day: str) -> str:
        return f"notes of {day}"

    @child.prompt
    def review(language: str) -> str:
        return f"review {language}"

    @child.completion(prompt="review", argument="language")
    def languages(value: str, given: dict[str, str]) -> list[str]:
        return [v for v in ("python", "perl", "rust") if v.startswith(value)]

    @child.completion(template="notes://day/{day}", argument="day")
    def days(value: str, given: dict[str, str]) -> list[str]:
        return [v for v in ("monday", "tuesday") if v.startswith(value)]

    return child


def mounted(child: Server | None = None, **options: Any) -> tuple[Server, Server]:
    parent = Server("parent", **options)
    child = child if child is not None else make_child()
    parent.mount(child, namespace="kid")
    return parent, child


async def test_progress_and_logging_reach_the_client_from_a_mounted_tool() -> None:
    parent, _ = mounted()
    logs: list[Any] = []
    progress: list[float] = []

    async def on_progress(done: float, total: float | None, message: str | None) -> None:
        progress.append(done)

    async with Client(parent, on_log=logs.append, protocol="2025-11-25") as client:
        result = await client.call_tool("kid_busy", {}, progress=on_progress)
        assert result.content[0].text == "child tools/call None"  # type: ignore[union-attr]
        await client.ping()
    assert progress == [1]
    assert [(log.level, log.data, log.logger) for log in logs] == [("info", "working", "child")]


async def test_sampling_and_elicitation_from_a_mounted_tool() -> None:
    parent, _ = mounted()

    async def sample(params: CreateMessageRequestParams) -> CreateMessageResult:
        return CreateMessageResult(role="assistant", content=TextContent(text="yo"), model="m")

    async def elicit(params: Any) -> ElicitResult:
        return ElicitResult(action="accept", content={"n": "ada"})

    async with Client(parent, sampling_handler=sample, elicitation_handler=elicit) as client:
        result = await client.call_tool("kid_ask", {})
        assert result.content[0].text == "yo accept {'n': 'ada'}"  # type: ignore[union-attr]


async def test_ctx_read_resource_reads_the_mounted_server_s_own_resources() -> None:
    parent, _ = mounted()
    async with Client(parent) as client:
        assert (await client.call_tool("kid_reads", {})).content[0].text == "buy milk"  # type: ignore[union-attr]


async def test_completions_of_mounted_prompts_and_templates() -> None:
    parent, _ = mounted()
    async with Client(parent) as client:
        assert client.server_capabilities.completions is not None
        prompt = await client.complete(
            {"type": "ref/prompt", "name": "kid_review"}, "language", "p"
        )
        assert prompt.completion.values == ["python", "perl"]
        ref = {"type": "ref/resource", "uri": "notes://kid/day/{day}"}
        assert (await client.complete(ref, "day", "t")).completion.values == ["tuesday"]
        with pytest.raises(McpError) as info:
            await client.complete({"type": "ref/prompt", "name": "review"}, "language", "p")
        assert info.value.code == codes.INVALID_PARAMS


async def test_the_mounted_server_s_middleware_runs_inside_the_parent_s() -> None:
    seen: list[tuple[str, str, str | None]] = []

    def layer(label: str) -> Any:
        async def record(ctx: Context, params: Any, call_next: CallNext) -> Any:
            seen.append((label, ctx.server.name, getattr(params, "name", None)))
            return await call_next(params)

        return record

    child = make_child()
    child.add_middleware(layer("child"))
    parent, _ = mounted(child, middleware=[layer("parent")])
    async with Client(parent) as client:
        await client.call_tool("kid_busy", {})
        await client.list_tools()
    assert seen == [
        ("parent", "parent", "kid_busy"),
        ("child", "child", "busy"),
        ("parent", "parent", None),
        ("child", "child", None),  # the parent lists the child's tools as its layers do
    ]


async def test_a_mounted_middleware_may_refuse() -> None:
    async def refuse(ctx: Context, params: Any, call_next: CallNext) -> Any:
        raise McpError(codes.INVALID_PARAMS, "not today")

    child = make_child()
    child.add_middleware(refuse)
    parent, _ = mounted(child)
    async with Client(parent) as client:
        with pytest.raises(McpError, match="not today"):
            await client.call_tool("kid_busy", {})


async def test_an_exception_of_a_mounted_handler_is_masked_by_either_server() -> None:
    child = Server("child", mask_error_details=True)

    @child.resource("boom://x")
    def boom() -> str:
        raise RuntimeError("secret detail")

    parent, _ = mounted(child)
    async with Client(parent) as client:
        with pytest.raises(McpError) as info:
            await client.read_resource("boom://kid/x")
        assert info.value.code == codes.INTERNAL_ERROR
        assert "secret" not in str(info.value)


async def test_a_mounted_task_tool_runs_as_a_task_of_the_parent() -> None:
    parent, child = mounted()
    logs: list[Any] = []
    async with Client(parent, on_log=logs.append, protocol="2025-11-25") as client:
        assert client.server_capabilities.tasks is not None
        task = await client.call_tool_as_task("kid_long", {"n": 21})
        result = await task.result(timeout=WAIT)
        assert result.structured_content == {"result": 42}
        assert (await client.get_task(task.id)).status == "completed"
    assert child.task_runner is parent.task_runner


async def test_list_changes_in_the_mounted_server_are_the_parent_s() -> None:
    parent, child = mounted()
    grandchild = Server("grandchild")
    child_of_child = Server("c2")
    grandchild.mount(child_of_child, namespace="deep")
    parent.mount(grandchild, namespace="g")
    seen: list[str] = []
    changed = asyncio.Event()

    def on_notification(method: str, params: Any) -> None:
        seen.append(method)
        changed.set()

    async with Client(parent, on_notification=on_notification, protocol="2025-11-25") as client:
        for change, method in [
            (lambda: child.add_tool(lambda: 1, name="t"), "tools"),
            (lambda: child.add_prompt(lambda: "p", name="p"), "prompts"),
            (lambda: child.add_resource(lambda: "r", "notes://r"), "resources"),
            (lambda: child_of_child.add_tool(lambda: 2, name="deepest"), "tools"),
        ]:
            changed.clear()
            seen.clear()
            change()
            await asyncio.wait_for(changed.wait(), WAIT)
            assert seen == [f"notifications/{method}/list_changed"]
        assert "g_deep_deepest" in [t.name for t in await client.list_tools()]


async def test_resource_updates_carry_the_uri_the_parent_shows() -> None:
    parent, child = mounted()
    updates: list[str] = []
    got = asyncio.Event()

    def on_notification(method: str, params: Any) -> None:
        if method == "notifications/resources/updated":
            updates.append(params.uri)
            got.set()

    async with Client(parent, on_notification=on_notification, protocol="2025-11-25") as client:
        await client.subscribe("notes://kid/today")
        await client.subscribe("notes://kid/day/monday")  # a template's match
        await child.notify_resource_updated("notes://today")
        await child.notify_resource_updated("notes://day/monday")
        await child.notify_resource_updated("notes://day/tuesday")  # not subscribed
        await asyncio.wait_for(got.wait(), WAIT)
        await client.ping()
        assert updates == ["notes://kid/today", "notes://kid/day/monday"]
        with pytest.raises(McpError) as info:
            await client.subscribe("notes://kid/nope")
        assert info.value.code == codes.RESOURCE_NOT_FOUND


def _recording_lifespan(name: str, events: list[str]) -> Any:
    @contextlib.asynccontextmanager
    async def lifespan(server: Server) -> AsyncIterator[str]:
        events.append(f"{name} up")
        try:
            yield f"{name} state"
        finally:
            events.append(f"{name} down")

    return lifespan


async def test_lifespans_nest_parent_first_and_leave_in_reverse() -> None:
    events: list[str] = []
    a = Server("a", lifespan=_recording_lifespan("a", events))
    b = Server("b", lifespan=_recording_lifespan("b", events))
    c = Server("c", lifespan=_recording_lifespan("c", events))
    d = Server("d", lifespan=_recording_lifespan("d", events))

    @c.tool
    def state(ctx: Context) -> str:
        return str(ctx.lifespan_state)

    b.mount(c, namespace="c")
    a.mount(b, namespace="b")
    a.mount(d, namespace="d")
    async with Client(a) as client:
        assert events == ["a up", "b up", "c up", "d up"]
        assert (await client.call_tool("b_c_state", {})).content[0].text == "c state"  # type: ignore[union-attr]
    assert events == ["a up", "b up", "c up", "d up", "d down", "c down", "b down", "a down"]
    assert c.lifespan_state is None and not c.is_running


async def test_a_failing_mounted_lifespan_leaves_the_parent_s_again() -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def broken(server: Server) -> AsyncIterator[None]:
        raise RuntimeError("no database")
        yield

    parent = Server("parent", lifespan=_recording_lifespan("parent", events))
    parent.mount(Server("child", lifespan=broken), namespace="kid")
    with pytest.raises(RuntimeError, match="no database"):
        async with parent.running():
            pass
    assert events == ["parent up", "parent down"]
    assert not parent.is_running


async def test_mounting_while_the_parent_serves_is_refused() -> None:
    parent = Server("parent")
    async with parent.running():
        with pytest.raises(RuntimeError, match="already serving: mount 'child' before it starts"):
            parent.mount(Server("child"), namespace="kid")
    parent.mount(Server("child"), namespace="kid")  # once stopped, it may


async def test_ctx_read_resource_of_a_mounted_resource_runs_it_with_its_own_context() -> None:
    events: list[str] = []
    leaf = Server("leaf", lifespan=_recording_lifespan("leaf", events))

    @leaf.resource("state://now")
    def now(ctx: Context) -> str:
        return f"{ctx.server.name}: {ctx.lifespan_state}"

    @leaf.resource("state://of/{key}")
    async def of(key: str, ctx: Context) -> str:
        return f"{key} of {ctx.server.name}"

    middle, top = Server("middle"), Server("top")
    middle.mount(leaf, namespace="leaf")
    top.mount(middle, namespace="mid")

    @middle.tool
    async def from_middle(ctx: Context) -> str:
        return (await ctx.read_resource("state://leaf/now"))[0].text  # type: ignore[union-attr]

    @top.tool
    async def from_top(ctx: Context) -> list[str]:
        read = [
            await ctx.read_resource(uri)
            for uri in ("state://mid/leaf/now", "state://mid/leaf/of/k")
        ]
        return [contents[0].text for contents in read]  # type: ignore[union-attr]

    async with Client(top) as client:
        top_read = await client.call_tool("from_top", {})
        assert top_read.structured_content == {"result": ["leaf: leaf state", "k of leaf"]}
        middle_read = await client.call_tool("mid_from_middle", {})
        assert middle_read.content[0].text == "leaf: leaf state"  # type: ignore[union-attr]


async def test_a_mounted_server_s_size_limit_leaves_its_read_uris_rewritable() -> None:
    from mcpkit.server.middleware.size_limit import ResponseSizeLimit

    child = make_child()
    child.add_middleware(ResponseSizeLimit(10_000))  # it hands on results as encoded JSON
    parent, _ = mounted(child)
    async with Client(parent) as client:
        read = await client.read_resource("notes://kid/day/monday")
        assert read.contents[0].uri == "notes://kid/day/monday"
        assert read.contents[0].text == "notes of monday"  # type: ignore[union-attr]
        assert (await client.call_tool("kid_reads", {})).content[0].text == "buy milk"  # type: ignore[union-attr]
