"""Deployment defaults that work (issue 38): `--workers` above 1 with no store shares a
private SQLite store, made 0700/0600 and removed at exit; an explicit `memory://` with
workers is refused in one line naming `--store` (and so is `Server.run(workers=2)` given
one); and a store that cannot be used at start (a Redis on a closed port, a SQLite path that
is a folder) is one `error:` line and a non-zero exit, before anything says it serves."""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import socket
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from _redis_server import RedisServer
from _running import REPO, AnswersCross, Running, mcpkit, running

from mcpkit import Client
from mcpkit.stores.url import StoreUnavailable, as_stores, open_store
from mcpkit.types import ElicitRequestParams, ElicitResult

SERVER = """
from mcpkit import Server

server = Server("plain")


@server.tool()
def hello() -> str:
    return "hi"
"""
ASKS = """
import os

from mcpkit import Context, Server

server = Server("asks")
NAME = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}


@server.tool()
async def ask(ctx: Context) -> str:
    who = await ctx.elicit("Who?", NAME)
    return f"{who.data['name'] if who.data else '?'} answered to {os.getpid()}"
"""
WAIT = 30.0  # seconds: a bound on hangs, never a measurement
HANG = 10.0  # seconds: a bound on one call that would never be answered
PRIVATE = re.compile(r"2 workers share a private SQLite store in (/\S+), removed when they stop")
DEPLOY = REPO / "docs" / "deploy.md"


def quoted_error(starting: str) -> str:
    """The one `error:` line docs/deploy.md shows that starts with `starting`."""
    lines = re.findall(r"```text\n(error: .*?)\n```", DEPLOY.read_text())
    (line,) = [line for line in lines if line.startswith(starting)]
    return line


@contextlib.contextmanager
def closed_port() -> Iterator[int]:
    """A port of 127.0.0.1 bound and not listening while the block runs: a connection to it
    is refused, and no other process can take it meanwhile."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


async def _exit_of(argv: list[str], cwd: Path) -> tuple[int, list[str]]:
    """Run `argv` to its end; its exit status and the lines of its stderr."""
    async with running(argv, cwd) as server:
        code = await server.exited()
        return code, server.log


def _assert_one_error_line(code: int, log: list[str], *needles: str) -> None:
    assert code != 0
    assert len(log) == 1 and log[0].startswith("error: "), "\n".join(log)
    assert not any("serving" in line for line in log)
    for needle in needles:
        assert needle in log[0], log[0]


async def _asks_across_workers(sup: Running, db: Path) -> None:
    """A 2025-11-25 client, each request on a connection of its own, calls a tool that asks
    it something, 6 times (issue 38's 4 in 6 failed), each call run by one worker and its
    answer taken by the other (each stopped in turn), both ways: every call is answered by
    the worker that asked (the 404s and lost answers of a store the workers do not share
    would fail or hang here)."""
    cross = AnswersCross(sup, db)

    async def elicit(params: ElicitRequestParams) -> ElicitResult:
        await cross.asked()
        return ElicitResult(action="accept", content={"name": "Ada"})

    async with Client(
        sup.url,
        protocol="2025-11-25",
        elicitation_handler=elicit,
        headers={"Connection": "close"},
        auth=cross.auth,
    ) as client:
        for n in range(6):
            runner = sup.workers()[n % 2]
            async with cross.on(runner), asyncio.timeout(HANG):
                text = (await client.call_tool("ask")).text
            assert text == f"Ada answered to {runner}"


def _private_folder(log: list[str]) -> Path:
    """The private store's folder, as the one INFO line names it; checked to be this user's
    alone while it exists."""
    (line,) = [line for line in log if PRIVATE.search(line)]
    assert line.startswith("INFO ") and "--store redis://HOST:PORT/DB" in line, line
    folder = Path(PRIVATE.search(line).group(1))  # type: ignore[union-attr]
    (shown,) = re.findall(r"```text\n(INFO .*?)\n```", DEPLOY.read_text())
    shown = re.sub(r"in /\S+,", f"in {folder},", shown.replace("4 workers", "2 workers"))
    assert line == shown  # as the page shows it
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "state.db").stat().st_mode) == 0o600
    return folder


@pytest.mark.mcpkit_timeout(WAIT * 6)
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
async def test_workers_with_no_store_share_a_private_sqlite_store_removed_at_exit(
    tmp_path: Path, stop: signal.Signals
) -> None:
    (tmp_path / "asks.py").write_text(ASKS)
    argv = mcpkit("run", "asks.py", "--transport", "http", "--port", "0", "--workers", "2")
    async with asyncio.timeout(WAIT * 6), running(argv, tmp_path) as sup:
        await sup.started()
        folder = _private_folder(sup.log)
        await _asks_across_workers(sup, folder / "state.db")
        assert await sup.stop(stop) == 0  # SIGTERM, or the Ctrl+C of a terminal
    assert not folder.exists(), sup.text
    assert not any(line.startswith(("WARNING", "error")) for line in sup.log), sup.text


async def test_workers_on_an_explicit_memory_store_are_refused_naming_store(
    tmp_path: Path,
) -> None:
    (tmp_path / "plain.py").write_text(SERVER)
    argv = mcpkit("run", "plain.py", "--transport", "http", "--port", "0", "--workers", "4")
    async with asyncio.timeout(WAIT):
        code, log = await _exit_of([*argv, "--store", "memory://"], tmp_path)
    _assert_one_error_line(code, log, "--store redis://", "memory://")
    assert log[0] == quoted_error("error: --workers 4 needs")  # as the page shows it


async def test_server_run_with_workers_on_memory_given_is_refused_in_one_line(
    tmp_path: Path,
) -> None:
    script = SERVER.replace('Server("plain")', 'Server("plain", store="memory://")')
    script += '\nif __name__ == "__main__":\n    server.run("http", port=0, workers=2)\n'
    (tmp_path / "plain_main.py").write_text(script)
    async with asyncio.timeout(WAIT):
        async with running([sys.executable, "plain_main.py"], tmp_path) as server:
            code = await server.exited()
    assert code == 1
    assert len(server.log) == 1, server.text  # no traceback: the one line
    assert server.log[0].startswith("workers=2 needs a store the workers share")
    assert "store='redis://" in server.log[0]


@pytest.mark.mcpkit_timeout(WAIT * 6)
async def test_server_run_with_workers_and_no_store_shares_a_private_one(tmp_path: Path) -> None:
    script = ASKS + '\nif __name__ == "__main__":\n    server.run("http", port=0, workers=2)\n'
    (tmp_path / "asks_main.py").write_text(script)
    async with (
        asyncio.timeout(WAIT * 6),
        running([sys.executable, "asks_main.py"], tmp_path) as sup,
    ):
        await sup.started()
        folder = _private_folder(sup.log)
        await _asks_across_workers(sup, folder / "state.db")
        assert await sup.stop(signal.SIGTERM) == 0
    assert not folder.exists(), sup.text


def test_only_a_server_given_no_store_has_the_default_one() -> None:
    assert as_stores(None).default
    assert not as_stores("memory://").default


async def test_stateless_workers_need_no_shared_store(tmp_path: Path) -> None:
    (tmp_path / "plain.py").write_text(SERVER)
    argv = mcpkit(
        "run", "plain.py", "--transport", "http", "--port", "0", "--workers", "2", "--stateless"
    )
    async with asyncio.timeout(WAIT * 2), running(argv, tmp_path) as sup:
        await sup.started()
        assert any("2 stateless workers on memory://" in line for line in sup.log), sup.text
        assert await sup.stop(signal.SIGTERM) == 0


@pytest.mark.parametrize("workers", ["1", "2"])
async def test_a_redis_store_on_a_closed_port_is_one_error_line(
    tmp_path: Path, workers: str
) -> None:
    (tmp_path / "plain.py").write_text(SERVER)
    with closed_port() as port:
        store = f"redis://127.0.0.1:{port}/0"
        argv = mcpkit("run", "plain.py", "--transport", "http", "--port", "0", "--workers", workers)
        async with asyncio.timeout(WAIT):
            code, log = await _exit_of([*argv, "--store", store], tmp_path)
    _assert_one_error_line(code, log, f"cannot reach the store {store}")
    shown = quoted_error("error: cannot reach the store")
    assert log[0] == shown.replace("6379", str(port))  # as the page shows it, on any loop


async def test_a_sqlite_path_that_cannot_be_a_database_is_one_error_line(tmp_path: Path) -> None:
    (tmp_path / "plain.py").write_text(SERVER)
    folder = tmp_path / "a-folder"
    folder.mkdir()
    argv = mcpkit("run", "plain.py", "--transport", "http", "--port", "0")
    async with asyncio.timeout(WAIT):
        code, log = await _exit_of([*argv, "--store", f"sqlite:///{folder}"], tmp_path)
    _assert_one_error_line(code, log, f"cannot open the SQLite store at {folder}")
    shown = quoted_error("error: --store: cannot open")
    assert log[0] == shown.replace("/var/lib/mcp", str(folder))  # as the page shows it


async def test_a_running_redis_store_is_checked_and_served(
    tmp_path: Path, redis_server: RedisServer
) -> None:
    (tmp_path / "plain.py").write_text(SERVER)
    argv = mcpkit("run", "plain.py", "--transport", "http", "--port", "0", "--workers", "2")
    argv += ["--store", redis_server.url]
    async with asyncio.timeout(WAIT * 2), running(argv, tmp_path) as sup:
        await sup.started()
        assert not any(line.startswith("error") for line in sup.log), sup.text
        assert await sup.stop(signal.SIGTERM) == 0


async def test_store_check_names_a_closed_port_and_passes_a_live_server(
    redis_server: RedisServer,
) -> None:
    with closed_port() as port:
        down = open_store(f"redis://:secret@127.0.0.1:{port}/0")
        try:
            with pytest.raises(StoreUnavailable) as refused:
                await down.check(timeout=WAIT)
        finally:
            await down.aclose()
    assert f"redis://:***@127.0.0.1:{port}/0" in str(refused.value)
    assert "secret" not in str(refused.value)
    up = open_store(redis_server.url)
    try:
        await up.check(timeout=WAIT)
    finally:
        await up.aclose()
    await open_store("memory://").check()
