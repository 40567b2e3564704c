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
