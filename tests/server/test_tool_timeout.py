"""Per-tool `timeout=` and `Server(tool_timeout=)`: past it the tool's work is cancelled and the
call ends with a tool error (isError), in both eras, plain and as a task."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from mcpkit import Client, Server
from mcpkit.server import Depends
from mcpkit.server.catalog.calling.injection import _holding
from mcpkit.server.catalog.calling.tool_limits import ToolLimits

ERAS = ["2025-11-25", "2026-07-28"]
#: Long enough for a tool that returns at once to do so on a loaded machine.
AMPLE = 60.0
#: Seconds within which a worker thread surely starts a job, however busy the machine.
THREAD_START = 2.0


class Stuck:
    """An async tool body that never finishes on its own, and records its cancellation."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.cancelled = asyncio.Event()

    async def wait(self) -> str:
        self.started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled.set()
            raise
        return "never"


def make_server(stuck: Stuck, **options: Any) -> Server:
    server = Server("timeouts", **options)

    @server.tool(timeout=0.05)
    async def slow() -> str:
        return await stuck.wait()

    @server.tool(timeout=AMPLE)
    async def quick(x: int) -> int:
        return x * 2

    @server.tool
    async def unbounded() -> str:
        return await stuck.wait()

    @server.tool(task=True, timeout=0.05)
    async def slow_task() -> str:
        return await stuck.wait()

    return server


def limits_of_tool(server: Server, name: str) -> ToolLimits | None:
    spec = server.tools.get(name)
    assert spec is not None
    return spec.limits


@pytest.mark.parametrize("era", ERAS)
async def test_a_call_past_its_timeout_is_cancelled_and_ends_with_a_tool_error(era: str) -> None:
    stuck = Stuck()
    async with asyncio.timeout(10), Client(make_server(stuck), protocol=era) as client:
        result = await client.call_tool("slow")
        assert result.is_error is True
        assert result.text == "tool 'slow' timed out after 0.05 s"
        await stuck.cancelled.wait()  # the work itself was cancelled
        # a call within its timeout is answered as any other
        assert (await client.call_tool("quick", {"x": 21})).structured_content == {"result": 42}


@pytest.mark.parametrize("era", ERAS)
async def test_the_server_default_applies_where_a_tool_names_none(era: str) -> None:
    stuck = Stuck()
    server = make_server(stuck, tool_timeout=0.05)
    assert limits_of_tool(server, "unbounded") == ToolLimits(0.05)
    assert limits_of_tool(server, "quick") == ToolLimits(AMPLE)  # its own wins
    async with asyncio.timeout(10), Client(server, protocol=era) as client:
        result = await client.call_tool("unbounded")
        assert result.is_error is True
        assert result.text == "tool 'unbounded' timed out after 0.05 s"
        await stuck.cancelled.wait()


def test_without_a_timeout_a_tool_has_no_limits() -> None:
    server = make_server(Stuck())
    assert limits_of_tool(server, "unbounded") is None


@pytest.mark.parametrize("era", ERAS)
async def test_a_task_run_is_bounded_by_the_timeout_too(era: str) -> None:
    stuck = Stuck()
    async with asyncio.timeout(10), Client(make_server(stuck), protocol=era) as client:
        result = await client.call_tool("slow_task", task=True)
        assert result.is_error is True
        assert result.text == "tool 'slow_task' timed out after 0.05 s"
        await stuck.cancelled.wait()


async def test_a_2025_task_past_its_timeout_fails_with_the_result_kept() -> None:
    stuck = Stuck()
    async with asyncio.timeout(10), Client(make_server(stuck), protocol="2025-11-25") as client:
        async with await client.call_tool_as_task("slow_task") as handle:
            result = await handle.result()
            assert result.is_error is True
            task = await handle.refresh()
    assert task.status == "failed"
    assert task.status_message == "Tool execution failed: tool 'slow_task' timed out after 0.05 s"


@pytest.mark.parametrize("era", ERAS)
async def test_a_def_tool_is_answered_on_time_while_its_thread_runs_on(
    era: str, caplog: pytest.LogCaptureFixture
) -> None:
    release = threading.Event()
    started = threading.Event()
    finished = threading.Event()
    server = Server("threads")

    # Long enough for a worker thread to take the job up on a busy machine: a job no thread
    # has started when its call times out is skipped (`runtime.workers`), and then there
    # is no thread left running to see.
    @server.tool(timeout=THREAD_START)
    def blocking() -> str:
        started.set()
        release.wait(AMPLE)
        finished.set()
        return "late"

    with caplog.at_level(logging.WARNING, logger="mcpkit.server"):
        async with asyncio.timeout(10 + THREAD_START), Client(server, protocol=era) as client:
            result = await client.call_tool("blocking")
    assert result.is_error is True
    assert result.text == f"tool 'blocking' timed out after {THREAD_START:g} s"
    assert started.is_set(), "no worker thread took the job up within the timeout"
    assert not finished.is_set()  # answered while the function still runs
    assert "cannot be cancelled; its worker thread runs on" in caplog.text
    release.set()
    assert await asyncio.to_thread(finished.wait, 10)


@pytest.mark.parametrize("bad", [0, -1, float("inf"), float("nan"), "5", True])
def test_a_timeout_that_is_not_a_positive_number_is_refused(bad: object) -> None:
    server = Server("bad")
    with pytest.raises(ValueError, match=r"tool 'f': timeout must be a number of seconds"):
        server.add_tool(lambda: None, name="f", timeout=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"Server\(tool_timeout=\): timeout must be"):
        Server("bad", tool_timeout=bad)  # type: ignore[arg-type]


def test_a_misspelt_option_is_refused() -> None:
    server = Server("typo")
    with pytest.raises(TypeError, match="timout"):
        server.tool(timout=5)  # type: ignore[call-overload]


class Connection:
    """A plain generator dependency that records what happens to it; `gate` holds its
    opening until set (a slow connect), and `closed` is set once it is cleaned up."""

    def __init__(self, *, gate_open: bool = True) -> None:
        self.events: list[str] = []
        self.gate, self.closed = threading.Event(), threading.Event()
        if gate_open:
            self.gate.set()

    def __call__(self) -> Iterator[str]:
        self.events.append("open")
        self.gate.wait(AMPLE)
        try:
            yield "conn"
        except BaseException as exc:
            self.events.append(f"rollback {type(exc).__name__}")
            raise
        else:
            self.events.append("commit")
        finally:
            self.events.append("close")
            self.closed.set()


def server_with(connection: Connection, timeout: float) -> tuple[Server, threading.Event]:
    """A server whose tool `blocking` takes `connection` and blocks until the returned event
    is set."""
    release = threading.Event()
    server = Server("threads")

    @server.tool(timeout=timeout)
    def blocking(conn: str = Depends(connection)) -> str:
        connection.events.append(f"used {conn}")
        release.wait(AMPLE)
        return "late"

    return server, release


@pytest.mark.parametrize("era", ERAS)
async def test_a_def_tool_past_its_timeout_keeps_its_dependencies_until_its_thread_ends(
    era: str,
) -> None:
    # The call is answered on time, but the function goes on in its thread: the generator
    # dependencies it was given (a connection, say) must not be closed under it, nor told
    # it went well (a transaction committed for a call that timed out). The timeout counts
    # from the call's start, so on a busy machine it can end the call while the connection
    # is still being opened (the next test); a longer one is then tried, a bounded number
    # of times, until the tool itself was running when it was answered.
    for timeout in (0.05, 0.5, 5.0):
        connection = Connection()
        server, release = server_with(connection, timeout)
        async with asyncio.timeout(AMPLE), Client(server, protocol=era) as client:
            result = await client.call_tool("blocking")
            assert result.text == f"tool 'blocking' timed out after {timeout:g} s"
            at_answer = list(connection.events)
            release.set()
            assert await asyncio.to_thread(connection.closed.wait, AMPLE)
        if at_answer == ["open", "used conn"]:  # answered while the function holds it
            assert connection.events == [
                "open",
                "used conn",
                "rollback CancelledError",
                "close",
            ]
            return
        # (ended while the connection opened: it is closed as given up, never used)
        assert connection.events in (
            ["open", "rollback CancelledError", "close"],
            ["open", "used conn", "rollback CancelledError", "close"],
        )
    pytest.fail("the tool was never running when its call was answered, even at 5 s")


@pytest.mark.parametrize("era", ERAS)
async def test_a_dependency_still_opening_when_the_call_times_out_is_closed_once_open(
    era: str,
) -> None:
    # A plain dependency is entered in a worker thread, which the timeout cannot stop: once
    # it is open it must be closed with the cancellation (a rollback), not left to the
    # garbage collector (which closes it with GeneratorExit, at some later time), and the
    # tool must never run.
    connection = Connection(gate_open=False)
    server, release = server_with(connection, 0.05)
    release.set()
    async with asyncio.timeout(AMPLE), Client(server, protocol=era) as client:
        result = await client.call_tool("blocking")
        assert result.text == "tool 'blocking' timed out after 0.05 s"
        assert connection.events == ["open"]  # (its thread waits at the gate)
        connection.gate.set()
        assert await asyncio.to_thread(connection.closed.wait, AMPLE)
    assert connection.events == ["open", "rollback CancelledError", "close"]


async def test_a_dependency_entered_as_its_call_is_cancelled_is_exited_with_the_cancellation() -> (
    None
):
    # The race a busy machine drew: the thread finished entering the dependency in the very
    # turn the call's timeout cancelled it. Before, that entered dependency was exited by
    # nobody (the garbage collector closed its generator: "rollback GeneratorExit").
    exits: list[object] = []

    async def exit_(*exc_info: object) -> None:
        exits.append(exc_info[0])

    stack = contextlib.AsyncExitStack()
    stack.push_async_exit(exit_)
    entered: asyncio.Future[str] = asyncio.get_running_loop().create_future()
    call = asyncio.create_task(_holding(stack, entered, entering=True))
    await asyncio.sleep(0)  # the call waits for the thread
    entered.set_result("conn")  # the thread has entered it ...
    call.cancel()  # ... and the call is cancelled before it sees so
    with pytest.raises(asyncio.CancelledError):
        await call
    for _ in range(100):  # the cleanup runs in a task of its own: a few turns of the loop
        if exits:
            break
        await asyncio.sleep(0)
    assert exits == [asyncio.CancelledError]
