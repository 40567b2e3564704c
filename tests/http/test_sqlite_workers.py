"""Several workers on one SQLite file carry what the Redis store carries (issue 38): a
client's answer to a tool's question reaches the worker whose tool waits for it, whichever
worker the answer was POSTed to, and list_changed reach the worker holding the client's GET
stream, and a change to a session's record (its log level) reaches the copy the other worker
holds."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest
from _running import AnswersCross, mcpkit, running, stopped

from mcpkit import Client
from mcpkit.types import ElicitRequestParams, ElicitResult, LoggingMessageNotificationParams

WAIT = 30.0  # seconds: a bound on hangs, never a measurement
HANG = 10.0  # seconds: a bound on one call or notification that would never come
pytestmark = pytest.mark.mcpkit_timeout(WAIT * 6)  # two workers started on a busy machine
ASKS = """
import os

from mcpkit import Context, Server

server = Server("asks")
NAME = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}


@server.tool()
async def ask(ctx: Context) -> str:
    who = await ctx.elicit("Who?", NAME)
    return f"{who.data['name'] if who.data else '?'} answered to {os.getpid()}"


@server.tool()
async def speak(n: int, ctx: Context) -> str:
    await ctx.info(f"{n}")
    await ctx.error(f"{n}")
    return str(os.getpid())


@server.tool()
def grow(n: int) -> str:
    server.add_tool(lambda: "hi", name=f"hello_{n}")  # announced to every worker
    return f"grown by {os.getpid()}"
"""
CALLS = 10


def _elicit(params: ElicitRequestParams) -> ElicitResult:
    return ElicitResult(action="accept", content={"name": "Ada"})


async def test_answers_reach_the_asking_worker_whichever_worker_they_are_posted_to(
    tmp_path: Path,
) -> None:
    """Each call is run by one worker and its answer POSTed to the other (each stopped in
    turn: left to the kernel, one worker may take every connection), both ways: every call
    is answered, by the worker that asked."""
    (tmp_path / "asks.py").write_text(ASKS)
    db = tmp_path / "state.db"
    argv = mcpkit("run", "asks.py", "--transport", "http", "--port", "0", "--workers", "2")
    async with (
        asyncio.timeout(WAIT * 6),
        running([*argv, "--store", f"sqlite:///{db}"], tmp_path) as sup,
    ):
        url = await sup.started()
        cross = AnswersCross(sup, db)

        async def elicit(params: ElicitRequestParams) -> ElicitResult:
            await cross.asked()
            return _elicit(params)

        async with Client(
            url,
            protocol="2025-11-25",
            elicitation_handler=elicit,
            headers={"Connection": "close"},
            auth=cross.auth,
        ) as client:
            for n in range(CALLS):
                runner = sup.workers()[n % 2]
                async with cross.on(runner), asyncio.timeout(HANG):  # a lost answer hangs
                    text = (await client.call_tool("ask")).text
                assert text == f"Ada answered to {runner}"
        assert await sup.stop(signal.SIGTERM) == 0


async def test_list_changed_reach_a_get_stream_held_by_either_worker(tmp_path: Path) -> None:
    """One client listens (its GET stream on one worker); another adds tools through calls
    each worker takes in turn (the other stopped meanwhile), so some are made on the worker
    that does not hold the stream: the listener hears of each."""
    (tmp_path / "asks.py").write_text(ASKS)
    db = tmp_path / "state.db"
    argv = mcpkit("run", "asks.py", "--transport", "http", "--port", "0", "--workers", "2")
    heard: asyncio.Queue[str] = asyncio.Queue()
    async with (
        asyncio.timeout(WAIT * 6),
        running([*argv, "--store", f"sqlite:///{db}"], tmp_path) as sup,
    ):
        url = await sup.started()
        async with (
            Client(
                url,
                protocol="2025-11-25",
                on_notification=lambda method, params: heard.put_nowait(method),
            ) as listener,
            Client(url, protocol="2025-11-25", headers={"Connection": "close"}) as caller,
        ):
            for n in range(CALLS):
                grower = sup.workers()[n % 2]
                async with stopped(sup.other(grower), db):
                    grown = (await caller.call_tool("grow", {"n": n})).text
                assert grown == f"grown by {grower}"
                async with asyncio.timeout(HANG):  # a change not carried would hang here
                    assert await heard.get() == "notifications/tools/list_changed"
            assert listener.session_id != caller.session_id
        assert await sup.stop(signal.SIGTERM) == 0


async def test_a_log_level_set_on_one_worker_reaches_the_others_copy_of_the_session(
    tmp_path: Path,
) -> None:
    """Both workers hold the session; logging/setLevel reaches one of them, which logs at
    the new level at once, and soon the other logs at the new level too (before, its copy
    kept the old level for good). Each call is sent to the worker named by stopping the
    other meanwhile: left to the kernel, one worker may take every connection."""
    (tmp_path / "asks.py").write_text(ASKS)
    db = tmp_path / "state.db"
    argv = mcpkit("run", "asks.py", "--transport", "http", "--port", "0", "--workers", "2")
    logs: asyncio.Queue[LoggingMessageNotificationParams] = asyncio.Queue()
    async with (
        asyncio.timeout(WAIT * 6),
        running([*argv, "--store", f"sqlite:///{db}"], tmp_path) as sup,
    ):
        url = await sup.started()
        here, there = sup.workers()
        async with Client(
            url,
            protocol="2025-11-25",
            headers={"Connection": "close"},
            on_log=lambda params: logs.put_nowait(params),
        ) as client:

            async def speak(n: int, on: int) -> set[str]:
                """The levels worker `on` logged call `n` at."""
                async with stopped(there if on == here else here, db):
                    pid = (await client.call_tool("speak", {"n": n})).text
                assert pid == str(on)
                levels: set[str] = set()
                async with asyncio.timeout(HANG):  # the error is logged last, at any level
                    while "error" not in levels:
                        log = await logs.get()
                        if log.data == str(n):
                            levels.add(log.level)
                return levels

            assert await speak(0, here) == {"info", "error"}
            assert await speak(1, there) == {"info", "error"}  # each holds the session now
            async with stopped(there, db):
                await client.set_logging_level("error")
            assert await speak(2, here) == {"error"}
            # The other worker logs at the old level until it reads the record again, on the
            # SESSION_CHANGED the change published (a copy that kept it for good never does).
            async with asyncio.timeout(WAIT):
                n = 3
                while await speak(n, there) != {"error"}:
                    n += 1
        assert await sup.stop(signal.SIGTERM) == 0
