"""`mcpkit dev FILE.py` as a subprocess: it prints the inspector's URL, serves the file, and
after the file is edited restarts the server so the new tool is listed; Ctrl-C ends it."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
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


async def _tools(http: httpx.AsyncClient, url: str) -> list[str]:
    reply = await http.post(url, json={"method": "tools/list", "params": {}})
    return [tool["name"] for tool in reply.json()["result"]["tools"]]


async def test_dev_restarts_the_server_when_its_file_changes(tmp_path: Path) -> None:
    server = tmp_path / "server.py"
    server.write_text(SERVER)
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
        line = await _line_with(proc.stderr, r"mcpkit inspector: http://127\.0\.0\.1:\d+/\?token=")
        base, token = re.findall(r"(http://127\.0\.0\.1:\d+)/\?token=(\S+)", line)[0]
        async with httpx.AsyncClient(timeout=WAIT) as http:
            state = (await http.post(f"{base}/api/state?token={token}", json={})).json()
            assert state["result"]["initialTarget"] == str(server)
            connect = {"target": state["result"]["initialTarget"]}
            await http.post(f"{base}/api/connect?token={token}", json=connect)
            assert await _tools(http, f"{base}/api/request?token={token}") == ["first"]
            server.write_text(SERVER + SECOND_TOOL)
            stat = server.stat()  # a new mtime even on a coarse clock
            os.utime(server, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
            await _line_with(proc.stderr, r"server\.py changed; restarting")
            await _line_with(proc.stderr, r"mcpkit dev: reloaded")
            tools = await _tools(http, f"{base}/api/request?token={token}")
            assert tools == ["first", "second"]
        proc.send_signal(signal.SIGINT)
        async with asyncio.timeout(WAIT):
            assert await proc.wait() in (0, 130)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()


async def test_dev_refuses_what_is_not_a_python_file(tmp_path: Path) -> None:
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
