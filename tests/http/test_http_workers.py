"""`mcpkit run --transport http --workers 2`: a supervisor and two worker processes on one
port. A worker killed with SIGKILL is replaced, the port keeps answering meanwhile, and with
a SQLite store (given, or the private one the workers share when given none) a 2025-11-25
client's session outlives every worker it ever reached; SIGTERM to the supervisor stops them
all."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from pathlib import Path

import pytest
from _redis_server import RedisServer, shared_store_url
from _running import mcpkit, running, stopped
from _steps_server import STEPS
from mcp import Client as OfficialClient
from mcp.shared.exceptions import MCPError as OfficialError

from mcpkit import Client, McpError
from mcpkit.protocol.codes import INTERNAL_ERROR
from mcpkit.server.asking.request_state import KEY_ENV
from mcpkit.transports.deployment.relay import STOPPED
from mcpkit.types import ElicitRequestParams, ElicitResult

SERVER = """
import os

from mcpkit import Server

server = Server("pids")


@server.tool()
def pid() -> int:
    return os.getpid()
"""
WAIT = 30.0
PIDS = re.compile(r"with 2 worker processes \(pids (\d+), (\d+)\)")


async def _replaced(log: list[str], pid: int) -> None:
    for _ in range(int(WAIT / 0.1)):  # bounded: WAIT seconds
        if any(f"(pid {pid})" in line and "starting another" in line for line in log):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"worker {pid} was not replaced:\n" + "\n".join(log))


@pytest.mark.parametrize("given", [True, False])
async def test_workers_share_the_port_and_a_killed_one_is_replaced(
    tmp_path: Path, given: bool
) -> None:
    (tmp_path / "pids.py").write_text(SERVER)
    argv = mcpkit("run", "pids.py", "--transport", "http", "--port", "0", "--workers", "2")
    if given:
        argv += ["--store", f"sqlite:///{tmp_path / 'state.db'}"]
    async with asyncio.timeout(WAIT * 4), running(argv, cwd=tmp_path) as sup:
        url = await sup.started()
        found = next(m for line in sup.log if (m := PIDS.search(line)))
        workers = [int(found.group(1)), int(found.group(2))]
        async with Client(url, protocol="2025-11-25") as client:
            assert (await client.call_tool("pid")).structured_content["result"] in workers  # type: ignore[index]
            sid = client.session_id
            for worker in workers:  # each in turn: the other serves meanwhile
                os.kill(worker, signal.SIGKILL)
                await _replaced(sup.log, worker)
                served = (await client.call_tool("pid")).structured_content["result"]  # type: ignore[index]
                assert served != worker
                assert client.session_id == sid  # restored from the file, wherever it landed
        assert await sup.stop(signal.SIGTERM) == 0
        assert any("stopped by SIGTERM" in line for line in sup.log), sup.text


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended


async def test_workers_stop_when_their_supervisor_is_killed(tmp_path: Path) -> None:
    (tmp_path / "pids.py").write_text(SERVER)
    argv = mcpkit(
        "run", "pids.py", "--transport", "http", "--port", "0", "--workers", "2", "--stateless"
    )
    async with asyncio.timeout(WAIT * 2), running(argv, cwd=tmp_path) as sup:
        url = await sup.started()
        found = next(m for line in sup.log if (m := PIDS.search(line)))
        workers = [int(found.group(1)), int(found.group(2))]
        async with Client(url) as client:  # they serve
            assert (await client.call_tool("pid")).structured_content["result"] in workers  # type: ignore[index]
        sup.proc.kill()  # the supervisor alone: no time to stop anyone
        for _ in range(int(WAIT / 0.1)):  # bounded: WAIT seconds
            if not any(_alive(pid) for pid in workers):
                break
            await asyncio.sleep(0.1)
        assert not any(_alive(pid) for pid in workers), "workers outlived their supervisor"


async def test_server_run_with_workers_runs_the_script_again_in_each(tmp_path: Path) -> None:
    script = SERVER + (
        '\nif __name__ == "__main__":\n'
        '    server.run("http", port=0, workers=2, store="sqlite:///state.db")\n'
    )
    (tmp_path / "pids_main.py").write_text(script)
    async with (
        asyncio.timeout(WAIT * 2),
        running([sys.executable, "pids_main.py"], cwd=tmp_path) as sup,
    ):
        url = await sup.started()
        found = next(m for line in sup.log if (m := PIDS.search(line)))
        async with Client(url) as client:
            served = (await client.call_tool("pid")).structured_content["result"]  # type: ignore[index]
            assert served in {int(found.group(1)), int(found.group(2))}
        assert await sup.stop(signal.SIGTERM) == 0


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
async def test_a_call_whose_worker_is_killed_gets_what_was_logged_then_an_error(
    tmp_path: Path, kind: str, request: pytest.FixtureRequest
) -> None:
    """Issue 23, "Durability": the worker running a call is SIGKILLed after its progress was
    logged. The client's resumption lands on another worker, which replays every logged
    message from the shared store, then, once the dead worker's lease (1 s here) lapses,
    answers the call with an error: the client is never left waiting."""
    (tmp_path / "steps.py").write_text(STEPS)
    store = shared_store_url(kind, tmp_path, request, db=5, lease=1)
    argv = mcpkit("run", "steps.py", "--transport", "http", "--port", "0", "--workers", "2")
    async with asyncio.timeout(WAIT * 3), running([*argv, "--store", store], cwd=tmp_path) as sup:
        url = await sup.started()
        seen: list[str] = []

        async def progress(done: float, total: float | None, message: str | None) -> None:
            seen.append(message or "")
            if done == 3:  # every step logged: the worker running the call dies now
                os.kill(int(message.rsplit(" ", 1)[1]), signal.SIGKILL)  # type: ignore[union-attr]

        async with Client(url, protocol="2025-11-25") as client:
            with pytest.raises(McpError) as failed:
                await client.call_tool("steps", progress=progress)
            assert failed.value.code == INTERNAL_ERROR
            assert failed.value.message == STOPPED
            runner = seen[0].rsplit(" ", 1)[1]
            assert seen == [f"step {n} by {runner}" for n in (1, 2, 3)]  # each once, in order
            assert [t.name for t in await client.list_tools()] == ["steps"]  # the session goes on


ASKS = """
import os

from mcpkit import Context, Server

server = Server("asks")
NAME = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}


@server.tool()
async def ask(n: int, ctx: Context) -> str:
    with open("runs.log", "a") as log:  # each run of the call: the first, then the retry's
        log.write(f"{n} {os.getpid()}\\n")
    who = await ctx.elicit("Who?", NAME)
    return f"{who.data['name'] if who.data else '?'} answered to {os.getpid()}"
"""


async def test_workers_open_each_others_request_state_with_no_key_configured(
    tmp_path: Path,
) -> None:
    """A 2026-07-28 tool that asks its client something ends its first round on one worker;
    the client's retry, on a new connection, may reach the other. The supervisor hands its
    workers one requestState key when none is configured, so the retry opens there.

    The worker that ran the first round is stopped while the client answers, and continued
    once the call is done, so that each retry reaches the other worker: left to the kernel,
    one worker may take every connection on a busy machine."""
    (tmp_path / "asks.py").write_text(ASKS)
    argv = mcpkit(  # stateless: no store, so no key agreed through one
        "run", "asks.py", "--transport", "http", "--port", "0", "--workers", "2", "--stateless"
    )

    def runs_of(n: int) -> list[str]:
        lines = (tmp_path / "runs.log").read_text().splitlines()
        return [pid for number, pid in (line.split() for line in lines) if int(number) == n]

    held = contextlib.AsyncExitStack()  # the worker stopped during a call's retry
    now = [0]  # the number of the call under way

    async def elicit(params: ElicitRequestParams) -> ElicitResult:
        [first] = runs_of(now[0])  # the first round is over
        await held.enter_async_context(stopped(int(first)))
        return ElicitResult(action="accept", content={"name": "Ada"})

    async with asyncio.timeout(WAIT * 2), running(argv, tmp_path, {KEY_ENV: ""}) as sup:
        url = await sup.started()
        async with Client(
            url,
            protocol="2026-07-28",
            elicitation_handler=elicit,
            headers={"Connection": "close"},  # each request on a connection of its own
        ) as client:
            for n in range(3):
                now[0] = n
                async with held:
                    text = (await client.call_tool("ask", {"n": n})).text
                first, retry = runs_of(n)
                assert first != retry
                assert text == f"Ada answered to {retry}"


async def test_the_official_client_gets_what_was_logged_then_the_error_too(
    tmp_path: Path,
) -> None:
    """The same kill, the official Python SDK's client (legacy mode) calling: it resumes the
    cut stream with Last-Event-ID on the other worker, gets each progress message once, and
    its call raises the error of a stopped process; its session goes on."""
    (tmp_path / "steps.py").write_text(STEPS)
    store = f"sqlite:///{tmp_path / 'state.db'}?lease=1"
    argv = mcpkit("run", "steps.py", "--transport", "http", "--port", "0", "--workers", "2")
    async with asyncio.timeout(WAIT * 3), running([*argv, "--store", store], cwd=tmp_path) as sup:
        url = await sup.started()
        seen: list[str | None] = []

        async def progress(done: float, total: float | None, message: str | None) -> None:
            seen.append(message)
            if done == 3:
                os.kill(int(str(message).rsplit(" ", 1)[1]), signal.SIGKILL)

        async with OfficialClient(url, mode="legacy") as client:
            with pytest.raises(OfficialError, match="stopped before answering it"):
                await client.call_tool("steps", {}, progress_callback=progress)
            runner = str(seen[0]).rsplit(" ", 1)[1]
            assert seen == [f"step {n} by {runner}" for n in (1, 2, 3)]
            assert [t.name for t in (await client.list_tools()).tools] == ["steps"]


NEWS = """
import os

from mcpkit import Server

server = Server("news")


@server.tool()
def pid() -> int:
    return os.getpid()


@server.tool()
def grow(n: int) -> str:
    server.add_tool(lambda: "hi", name=f"hello_{n}")  # announced to every worker
    return "grown"
"""


async def test_news_reach_the_client_again_after_the_worker_holding_its_get_stream_dies(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    """Each worker in turn is SIGKILLed, so one of them held the client's GET stream. That
    stream is replayed elsewhere, then refused (410) once its worker's lease lapsed; the
    client opens a new GET stream on a live worker, and list_changed reach it again."""
    (tmp_path / "news.py").write_text(NEWS)
    store = f"redis://127.0.0.1:{redis_server.port}/6?lease=1"
    argv = mcpkit("run", "news.py", "--transport", "http", "--port", "0", "--workers", "2")
    heard: asyncio.Queue[str] = asyncio.Queue()
    async with asyncio.timeout(WAIT * 4), running([*argv, "--store", store], cwd=tmp_path) as sup:
        url = await sup.started()
        found = next(m for line in sup.log if (m := PIDS.search(line)))
        workers = [int(found.group(1)), int(found.group(2))]
        async with Client(
            url,
            protocol="2025-11-25",
            on_notification=lambda method, params: heard.put_nowait(method),
        ) as client:
            grown = 0
            for worker in workers:
                os.kill(worker, signal.SIGKILL)
                await _replaced(sup.log, worker)
                for _ in range(int(WAIT / 0.5)):  # bounded: until the news come through again
                    grown += 1
                    await client.call_tool("grow", {"n": grown})
                    try:
                        method = await asyncio.wait_for(heard.get(), 0.5)
                    except TimeoutError:
                        continue
                    assert method == "notifications/tools/list_changed"
                    break
                else:
                    raise AssertionError(f"no news after worker {worker} died:\n{sup.text}")
