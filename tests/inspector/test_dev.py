"""`mcpkit dev FILE.py` as a subprocess: it prints the inspector's URL, serves the file, and
after the file is edited restarts the server so the new tool is listed (after a save that does
not import, the next save tries again); Ctrl-C ends it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(REPO / "src")}
WAIT = 30.0

SERVER = """
from mcpkit import Server

server = Server("dev-demo")


@server.tool()
def first() -> str:
    return "one"
"""

SECOND_TOOL = """

@server.tool()
def second() -> str:
    return "two"
"""


async def _line_with(stream: asyncio.StreamReader, pattern: str) -> str:
    async with asyncio.timeout(WAIT):
        while True:
            line = (await stream.readline()).decode()
            assert line, f"mcpkit dev ended before printing {pattern!r}"
            if re.search(pattern, line):
                return line


async def _inspector_address(stderr: asyncio.StreamReader) -> tuple[str, str]:
    """The inspector's base URL and the one-time code of the link `mcpkit dev` prints."""
    line = await _line_with(stderr, r"mcpkit inspector: http://127\.0\.0\.1:\d+/\?code=")
    base, code = re.findall(r"(http://127\.0\.0\.1:\d+)/\?code=(\S+)", line)[0]
    return base, code


@contextlib.asynccontextmanager
async def _logged_in(
    stderr: asyncio.StreamReader,
) -> AsyncIterator[tuple[str, httpx.AsyncClient]]:
    """The inspector's base URL, and a client logged in with the link it printed."""
    base, code = await _inspector_address(stderr)
    async with httpx.AsyncClient(timeout=WAIT) as http:
        page = await http.get(f"{base}/?code={code}")
        assert page.status_code == 200 and http.cookies
        yield base, http


async def _tools(http: httpx.AsyncClient, url: str) -> list[str]:
    reply = await http.post(url, json={"method": "tools/list", "params": {}})
    return [tool["name"] for tool in reply.json()["result"]["tools"]]


async def test_dev_restarts_the_server_when_its_file_changes(tmp_path: Path) -> None:
    server = tmp_path / "server.py"
    server.write_text(SERVER)
    async with dev(server) as stderr:
        async with _logged_in(stderr) as (base, http):
            state = (await http.post(f"{base}/api/state", json={})).json()
            assert state["result"]["initialTarget"] == str(server)
            connect = {"target": state["result"]["initialTarget"]}
            await http.post(f"{base}/api/connect", json=connect)
            assert await _tools(http, f"{base}/api/request") == ["first"]
            _save(server, SERVER + SECOND_TOOL)
            await _line_with(stderr, r"server\.py changed; restarting")
            await _line_with(stderr, r"mcpkit dev: reloaded")
            tools = await _tools(http, f"{base}/api/request")
            assert tools == ["first", "second"]


def _save(path: Path, source: str) -> None:
    """Write `source` with a modification time one second on (a coarse clock sees it)."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(source)
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, max(stat.st_mtime_ns, before) + 1_000_000_000))


async def test_dev_tries_again_on_the_save_after_a_syntax_error(tmp_path: Path) -> None:
    server = tmp_path / "server.py"
    server.write_text(SERVER)
    async with dev(server) as stderr:
        async with _logged_in(stderr) as (base, http):
            await http.post(f"{base}/api/connect", json={"target": str(server)})
            assert await _tools(http, f"{base}/api/request") == ["first"]
            _save(server, SERVER + "\n@server.tool(\ndef broken(:\n")  # saved mid-edit
            await _line_with(stderr, r"server\.py changed; restarting")
            await _line_with(stderr, r"the server did not start again")
            frame = await _line_with(stderr, r'File ".*server\.py", line \d+')
            assert str(server) in frame
            await _line_with(stderr, r"SyntaxError")
            await _line_with(stderr, r"the next save tries again")
            state = (await http.post(f"{base}/api/state", json={})).json()
            assert state["result"]["server"] is None
            _save(server, SERVER + SECOND_TOOL)  # fixed: the page is connected again
            await _line_with(stderr, r"server\.py changed; restarting")
            await _line_with(stderr, r"mcpkit dev: reloaded")
            state = (await http.post(f"{base}/api/state", json={})).json()
            assert state["result"]["server"]["serverInfo"]["name"] == "dev-demo"
            tools = await _tools(http, f"{base}/api/request")
            assert tools == ["first", "second"]


@contextlib.asynccontextmanager
async def dev(server: Path) -> AsyncIterator[asyncio.StreamReader]:
    """`mcpkit dev SERVER` running; its stderr. Ended with Ctrl-C when the block ends (it
    must exit 0 or 130), killed if anything failed first."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mcpkit",
        "dev",
        str(server),
        "--no-browser",
        "--port",
        "0",
        stdin=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env=ENV,
    )
    assert proc.stderr is not None
    try:
        yield proc.stderr
        proc.send_signal(signal.SIGINT)
        async with asyncio.timeout(WAIT):
            assert await proc.wait() in (0, 130)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_dev_refuses_what_is_not_a_python_file(tmp_path: Path) -> None:
    (tmp_path / "nope.txt").write_text("not Python")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mcpkit",
        "dev",
        str(tmp_path / "nope.txt"),
        "--no-browser",
        stdin=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env=ENV,
    )
    async with asyncio.timeout(WAIT):
        _, err = await proc.communicate()
    assert proc.returncode == 2
    assert b"is not a Python file" in err


async def test_dev_says_a_file_that_does_not_exist_does_not_exist(tmp_path: Path) -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "mcpkit",
        "dev",
        "nosuch.py",
        "--no-browser",
        stdin=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env=ENV,
        cwd=tmp_path,
    )
    async with asyncio.timeout(WAIT):
        _, err = await proc.communicate()
    assert proc.returncode == 3
    assert err.decode() == (
        f"error: nosuch.py does not exist (relative to {tmp_path}); give a server file, as in "
        "`mcpkit dev server.py`\n"
    )


async def test_a_file_broken_from_the_start_is_told_at_once_and_a_save_reloads_it(
    tmp_path: Path,
) -> None:
    """No page connects: the terminal tells the failure as soon as dev starts, its last line
    says to save (dev reloads on a save; nobody runs anything again), and a save that fixes
    it serves the server."""
    server = tmp_path / "server.py"
    server.write_text(SERVER + '\nraise ValueError("not configured yet")\n')
    async with dev(server) as stderr:
        await _line_with(stderr, r"mcpkit dev: the server did not start:")
        await _line_with(stderr, r"ValueError: not configured yet")
        told = await _line_with(stderr, r"^error: importing ")
        assert told.rstrip().endswith("fix that error in your code and save the file to reload it")
        await _line_with(stderr, r"mcpkit dev: the next save tries again")
        _save(server, SERVER)
        await _line_with(stderr, r"server\.py changed; restarting")
        await _line_with(stderr, r"mcpkit dev: reloaded")


async def test_a_file_that_starts_is_served_before_any_page_connects(tmp_path: Path) -> None:
    server = tmp_path / "server.py"
    server.write_text(SERVER)
    async with dev(server) as stderr:
        async with _logged_in(stderr) as (base, http):
            await _line_with(stderr, rf"mcpkit dev: serving {re.escape(str(server))}$")
            state = (await http.post(f"{base}/api/state", json={})).json()
            assert state["result"]["server"]["serverInfo"]["name"] == "dev-demo"


def test_the_watch_list_is_the_file_and_its_folders_python_files(tmp_path: Path) -> None:
    from mcpkit.inspector.watch import changed_files, files_to_watch, snapshot

    (tmp_path / "server.py").write_text("")
    (tmp_path / "helpers.py").write_text("")
    (tmp_path / "notes.txt").write_text("")
    (tmp_path / "venv").mkdir()
    (tmp_path / "venv" / "big.py").write_text("")
    watched = files_to_watch(tmp_path / "server.py")
    assert [path.name for path in watched] == ["helpers.py", "server.py"]
    before = snapshot(watched)
    (tmp_path / "helpers.py").unlink()  # a file removed counts as a change too
    assert changed_files(before, snapshot(watched)) == [tmp_path.resolve() / "helpers.py"]
    assert changed_files(before, before) == []
