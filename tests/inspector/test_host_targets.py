"""`mcpkit dev HOST:NAME` and `mcpkit inspect --web HOST:NAME` over a fake machine (HOME in
tmp_path, as tests/cli/test_discover.py does): the inspector connects to the server a host
configured, `mcpkit dev` restarts it when the .py file its command runs changes, and a
HOST:NAME naming no server, or nothing to watch, is refused before anything is served."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path

from test_dev import ENV, SECOND_TOOL, SERVER, WAIT, _line_with, _logged_in, _save, _tools

from mcpkit.cli.commands.dev import _file_run_by  # pyright: ignore[reportPrivateUsage]
from mcpkit.client.target import Target


def fake_machine(root: Path, entry: dict[str, object]) -> tuple[dict[str, str], Path]:
    """A home whose Cursor has the server `demo` (`entry`), and a project folder; the
    environment that makes them this machine's."""
    home, project = root / "home", root / "project"
    (home / ".cursor").mkdir(parents=True)
    project.mkdir()
    (home / ".cursor" / "mcp.json").write_text(json.dumps({"mcpServers": {"demo": entry}}))
    env = {**ENV, "HOME": str(home), "APPDATA": str(home / "AppData" / "Roaming")}
    env.pop("XDG_CONFIG_HOME", None)
    return env, project


def served_file(root: Path) -> tuple[Path, dict[str, object]]:
    """A server file, and a Cursor entry running it as hosts do (`mcpkit run`, its folder)."""
    folder = root / "servers"
    folder.mkdir()
    server = folder / "server.py"
    server.write_text(SERVER)
    run = {"command": sys.executable, "args": ["-m", "mcpkit", "run", "server.py"]}
    return server, {**run, "cwd": str(folder)}


async def _start(env: dict[str, str], cwd: Path, *words: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "mcpkit", *words, "--no-browser", "--port", "0"),
        stdin=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        env=env,
        cwd=cwd,
    )


async def _stop(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.send_signal(signal.SIGINT)
        try:
            async with asyncio.timeout(WAIT):
                await proc.wait()
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def test_dev_runs_a_configured_server_and_restarts_it_on_save(tmp_path: Path) -> None:
    server, entry = served_file(tmp_path)
    env, project = fake_machine(tmp_path, entry)
    proc = await _start(env, project, "dev", "cursor:demo")
    assert proc.stderr is not None
    try:
        async with _logged_in(proc.stderr) as (base, http):
            state = (await http.post(f"{base}/api/state", json={})).json()
            assert state["result"]["initialTarget"] == "cursor:demo"
            await http.post(f"{base}/api/connect", json={"target": "cursor:demo"})
            assert await _tools(http, f"{base}/api/request") == ["first"]
            _save(server, SERVER + SECOND_TOOL)
            await _line_with(proc.stderr, r"server\.py changed; restarting")
            await _line_with(proc.stderr, r"mcpkit dev: reloaded")
            assert await _tools(http, f"{base}/api/request") == ["first", "second"]
    finally:
        await _stop(proc)


async def test_inspect_web_connects_to_a_configured_server(tmp_path: Path) -> None:
    _, entry = served_file(tmp_path)
    env, project = fake_machine(tmp_path, entry)
    proc = await _start(env, project, "inspect", "cursor:demo", "--web")
    assert proc.stderr is not None
    try:
        async with _logged_in(proc.stderr) as (base, http):
            connected = await http.post(f"{base}/api/connect", json={"target": "cursor:demo"})
            assert connected.json()["result"]["serverInfo"]["name"] == "dev-demo"
            assert await _tools(http, f"{base}/api/request") == ["first"]
    finally:
        await _stop(proc)


async def _refusal(env: dict[str, str], cwd: Path, *words: str) -> tuple[int | None, str]:
    proc = await _start(env, cwd, *words)
    async with asyncio.timeout(WAIT):
        _, err = await proc.communicate()
    return proc.returncode, err.decode()


async def test_a_host_name_naming_no_server_is_refused_before_serving(tmp_path: Path) -> None:
    _, entry = served_file(tmp_path)
    env, project = fake_machine(tmp_path, entry)
    for words in (("dev", "cursor:nope"), ("inspect", "cursor:nope", "--web")):
        code, err = await _refusal(env, project, *words)
        assert code == 3, err  # "no session", as every verb given such a TARGET
        assert "Cursor has no server named 'nope' (it has: demo" in err


async def test_dev_refuses_a_configured_server_with_no_python_file_to_watch(
    tmp_path: Path,
) -> None:
    remote: dict[str, object] = {"type": "http", "url": "http://127.0.0.1:1/mcp"}
    env, project = fake_machine(tmp_path, remote)
    code, err = await _refusal(env, project, "dev", "cursor:demo")
    assert code == 2
    assert "does not run a .py file here" in err
    assert "mcpkit inspect --web cursor:demo" in err


def test_the_file_a_configured_command_runs_is_found_in_its_folder(tmp_path: Path) -> None:
    (tmp_path / "server.py").write_text("")

    def run(*argv: str) -> Path | None:
        return _file_run_by(Target("cursor:x", "command", argv, cwd=str(tmp_path)))

    assert run("uv", "run", "--with", "mcpkit", "mcpkit", "run", "server.py:app") == (
        tmp_path / "server.py"
    )
    assert run("python", str(tmp_path / "server.py")) == tmp_path / "server.py"
    assert run("python", "-m", "mcpkit", "run", "other.py") is None  # not there
    assert run("npx", "-y", "@modelcontextprotocol/server-everything") is None
    assert _file_run_by(Target("cursor:x", "url", "http://127.0.0.1:1/mcp")) is None
