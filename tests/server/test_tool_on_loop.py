"""A tool's own `sync_in_thread=`: a plain `def` runs on the event loop (False) or in a worker
thread (True) whatever `Server(sync_in_thread=...)` says; refused for anything but True or
False, for an `async def`, and beside a `timeout=` it could not keep."""

from __future__ import annotations

import asyncio
import contextvars
import threading
from typing import Annotated, Any

import pytest

from mcpkit import Client, Context, Server, ToolError
from mcpkit.server import Depends

ERAS = ["2025-11-25", "2026-07-28"]
WAIT = 10.0

#: Set on the loop by the test; a tool on the loop sees what its caller's context holds.
LABEL: contextvars.ContextVar[str] = contextvars.ContextVar("LABEL", default="unset")


def tagged() -> str:
    return "from a dependency"


def make_server(**options: Any) -> Server:
    server = Server("on-loop", **options)

    @server.tool(sync_in_thread=False)
    def on_loop() -> int:
        return threading.get_ident()

    @server.tool(sync_in_thread=True)
    def in_thread() -> int:
        return threading.get_ident()

    @server.tool
    def as_server_says() -> int:
        return threading.get_ident()

    @server.tool(sync_in_thread=False)
    def with_context(ctx: Context, dep: Annotated[str, Depends(tagged)]) -> str:
        return f"{threading.get_ident()} {ctx.request_id is not None} {dep}"

    @server.tool(sync_in_thread=False)
    def fails() -> str:
        raise ToolError("broken on the loop")

    return server


async def idents(client: Client, *names: str) -> list[Any]:
    return [(await client.call_tool(name)).structured_content for name in names]


@pytest.mark.parametrize("era", ERAS)
async def test_a_def_tool_given_false_runs_on_the_loop_thread(era: str) -> None:
    loop_thread = threading.get_ident()  # (the in-memory pair serves on the test's loop)
    async with asyncio.timeout(WAIT), Client(make_server(), protocol=era) as client:
        on_loop, in_thread, as_server = await idents(
            client, "on_loop", "in_thread", "as_server_says"
        )
        assert on_loop == {"result": loop_thread}
        assert in_thread != {"result": loop_thread}
        assert as_server != {"result": loop_thread}  # the server's default: a worker thread
        both = await client.call_tool("with_context")
        assert both.text == f"{loop_thread} True from a dependency", both
        failed = await client.call_tool("fails")
        assert failed.is_error is True
        assert "broken on the loop" in failed.text


@pytest.mark.parametrize("era", ERAS)
async def test_a_tool_given_true_runs_in_a_thread_where_the_server_runs_defs_on_the_loop(
    era: str,
) -> None:
    loop_thread = threading.get_ident()
    server = make_server(sync_in_thread=False)
    async with asyncio.timeout(WAIT), Client(server, protocol=era) as client:
        on_loop, in_thread, as_server = await idents(
            client, "on_loop", "in_thread", "as_server_says"
        )
        assert on_loop == {"result": loop_thread}
        assert in_thread != {"result": loop_thread}
        assert as_server == {"result": loop_thread}


@pytest.mark.parametrize("era", ERAS)
@pytest.mark.parametrize("in_thread", [True, False])
async def test_context_variables_reach_the_tool_wherever_it_runs(era: str, in_thread: bool) -> None:
    server = Server("vars")

    @server.tool(sync_in_thread=in_thread)
    def label() -> str:
        return LABEL.get()

    token = LABEL.set("set by the caller's context")
    try:
        async with asyncio.timeout(WAIT), Client(server, protocol=era) as client:
            assert (await client.call_tool("label")).text == "set by the caller's context"
    finally:
        LABEL.reset(token)


@pytest.mark.parametrize("value", [0, 1, "no", "False"])
def test_a_value_other_than_true_or_false_is_refused(value: object) -> None:
    server = Server("bad")
    with pytest.raises(TypeError, match=r"tool 'f': sync_in_thread must be True or False, not"):

        @server.tool(sync_in_thread=value)  # type: ignore[call-overload]  # (what is refused)
        def f() -> str:
            return "x"

    assert server.tools.get("f") is None


@pytest.mark.parametrize("value", [True, False])
def test_an_async_tool_given_the_option_is_refused(value: bool) -> None:
    server = Server("bad")
    with pytest.raises(TypeError, match=r"tool 'f': sync_in_thread=.* `async def`.* remove"):

        @server.tool(sync_in_thread=value)
        async def f() -> str:
            return "x"

    assert server.tools.get("f") is None


def test_a_timeout_beside_false_is_refused_and_the_servers_timeout_is_not_given() -> None:
    server = Server("bad", tool_timeout=30)
    with pytest.raises(ValueError, match=r"tool 'f': timeout=5 cannot be kept with sync_in_thread"):

        @server.tool(sync_in_thread=False, timeout=5)
        def f() -> str:
            return "x"

    @server.tool(sync_in_thread=False)
    def g() -> str:
        return "x"

    @server.tool(sync_in_thread=True)
    def h() -> str:
        return "x"

    on_loop, in_thread = server.tools.get("g"), server.tools.get("h")
    assert on_loop is not None and on_loop.limits is None
    assert in_thread is not None and in_thread.limits is not None
    assert in_thread.limits.timeout == 30


def make_reads(**options: Any) -> Server:
    server = Server("reads", **options)

    @server.resource("ident://loop", sync_in_thread=False)
    def loop_ident() -> str:
        return str(threading.get_ident())

    @server.resource("ident://thread", sync_in_thread=True)
    def thread_ident() -> str:
        return str(threading.get_ident())

    @server.resource("ident://{name}", sync_in_thread=False)
    def template_ident(name: str) -> str:
        return f"{name} {threading.get_ident()}"

    @server.prompt(sync_in_thread=False)
    def on_loop_prompt() -> str:
        return str(threading.get_ident())

    @server.prompt(sync_in_thread=True)
    def in_thread_prompt() -> str:
        return str(threading.get_ident())

    return server


async def text_of(client: Client, uri: str) -> str:
    contents = (await client.read_resource(uri)).contents
    assert len(contents) == 1
    return contents[0].text  # type: ignore[union-attr]  # (text, as the functions return)


@pytest.mark.parametrize("era", ERAS)
@pytest.mark.parametrize("server_in_thread", [True, False])
async def test_resources_templates_and_prompts_take_the_option_too(
    era: str, server_in_thread: bool
) -> None:
    loop_thread = str(threading.get_ident())
    server = make_reads(sync_in_thread=server_in_thread)
    async with asyncio.timeout(WAIT), Client(server, protocol=era) as client:
        assert await text_of(client, "ident://loop") == loop_thread
        assert await text_of(client, "ident://thread") != loop_thread
        assert await text_of(client, "ident://x") == f"x {loop_thread}"
        on_loop = await client.get_prompt("on_loop_prompt")
        in_thread = await client.get_prompt("in_thread_prompt")
        assert on_loop.messages[0].content.text == loop_thread  # type: ignore[union-attr]
        assert in_thread.messages[0].content.text != loop_thread  # type: ignore[union-attr]


def test_resources_and_prompts_refuse_it_as_tools_do() -> None:
    server = Server("bad")
    with pytest.raises(TypeError, match=r"resource 'r://a': sync_in_thread=.* `async def`"):

        @server.resource("r://a", sync_in_thread=False)
        async def a() -> str:
            return "a"

    with pytest.raises(TypeError, match=r"prompt 'p': sync_in_thread must be True or False"):

        @server.prompt(sync_in_thread="no")  # type: ignore[call-overload]  # (what is refused)
        def p() -> str:
            return "p"


@pytest.mark.parametrize("era", ERAS)
async def test_a_tool_keeps_its_choice_when_mounted_renamed_or_transformed(era: str) -> None:
    loop_thread = threading.get_ident()
    child = make_server()
    parent = Server("parent")  # (threads by default)
    parent.mount(child, namespace="kid")
    child.transform_tool("on_loop", name="derived", keep_original=True)
    async with asyncio.timeout(WAIT), Client(parent, protocol=era) as client:
        mounted, derived, threaded = await idents(
            client, "kid_on_loop", "kid_derived", "kid_in_thread"
        )
        assert mounted == {"result": loop_thread}
        assert derived == {"result": loop_thread}
        assert threaded != {"result": loop_thread}
