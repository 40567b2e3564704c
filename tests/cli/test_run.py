"""`mcpkit run FILE.py[:object]` serves a file's Server over stdio."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from _processes import interruptible

from mcpkit import Client, StdioParameters

REPO = Path(__file__).resolve().parents[2]
MCPKIT = [sys.executable, "-m", "mcpkit"]
ENV = {"PYTHONPATH": str(REPO / "src")}  # this checkout's mcpkit, not an installed one


def mcpkit_run(*args: str, cwd: Path | None = None) -> StdioParameters:
    return StdioParameters(
        sys.executable,
        ["-m", "mcpkit", "run", *args],
        env=ENV,
        cwd=None if cwd is None else str(cwd),
    )


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MCPKIT, *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **ENV},
    )


async def test_run_serves_the_example_over_stdio() -> None:
    async with Client(mcpkit_run(str(REPO / "examples" / "tools.py"))) as client:
        assert client.server_info.name == "tools-example"
        result = await client.call_tool("add", {"a": 40, "b": 2})
        assert result.structured_content == {"result": 42}


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "srv.py"
    path.write_text("from mcpkit import Server\n" + body)
    return path


async def test_run_finds_a_named_object_and_prints_go_to_stderr(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        (
            "first = Server('first')\n"
            "second = Server('second')\n"
            "@second.tool()\n"
            "def hello() -> str:\n"
            "    print('this goes to stderr, not into the protocol stream')\n"
            "    return 'hi'\n"
        ),
    )
    async with Client(mcpkit_run(f"{path}:second")) as client:
        assert client.server_info.name == "second"
        assert (await client.call_tool("hello")).content[0].text == "hi"


@pytest.mark.parametrize(
    ("body", "target_suffix", "messages"),
    [
        ("x = 1\n", "", ["defines no mcpkit Server", "server = Server("]),
        ("a = Server('a')\nb = Server('b')\n", "", ["several Servers (a, b)", "srv.py:a"]),
        ("a = Server('a')\n", ":nope", ["no object named 'nope'", "its Servers: a"]),
        ("a = 5\n", ":a", ["'a' in", "is an int (5), not an mcpkit Server", "defines no"]),
        (
            "server = 'oops'\n",
            "",
            ["`server` in", "is a str ('oops'), not an mcpkit Server", "server = Server("],
        ),
        ("class server: pass\n", "", ["is the class srv.server (an instance is needed)"]),
        ("def mcp(): pass\n", "", ["`mcp` in", "is a function (mcp)"]),
        (
            "import fractions\napp = fractions.Fraction(1, 3)\n",
            "",
            ["is a Fraction (from fractions)"],
        ),
        (
            "class MCPServer: pass\nserver = MCPServer()\n",
            "",
            ["`server` in", "is an MCPServer (from srv), not an mcpkit Server"],
        ),
        (
            "server = Server('bare')\nserver.run()\n",
            "",
            ["calls server.run() while it is imported", 'if __name__ == "__main__":'],
        ),
        (
            "raise RuntimeError('no API key')\n",
            "",
            ["RuntimeError: no API key", "raised RuntimeError (traceback above)", "fix that error"],
        ),
    ],
)
def test_run_explains_what_is_wrong(
    tmp_path: Path, body: str, target_suffix: str, messages: list[str]
) -> None:
    path = write(tmp_path, body)
    done = run_cli("run", f"{path}{target_suffix}")
    assert done.returncode != 0
    for message in messages:
        assert message in done.stderr
    assert done.stdout == ""


def test_an_import_error_shows_its_traceback_once_from_the_users_frames(tmp_path: Path) -> None:
    (tmp_path / "helper.py").write_text("def boom():\n    raise ValueError('bad config')\n")
    path = write(tmp_path, "import helper\nhelper.boom()\n")
    done = run_cli("run", str(path))
    err = done.stderr
    assert done.returncode == 1 and err.count("Traceback (most recent call last)") == 1
    assert "importlib" not in err and "mcpkit/cli" not in err  # the import machinery's frames
    frames = [line for line in err.splitlines() if line.startswith('  File "')]
    assert [f.split('"')[1] for f in frames] == [str(path), str(tmp_path / "helper.py")]
    assert err.rstrip().splitlines()[-1].startswith("error: importing ")


def test_run_a_missing_file_a_folder_and_version(tmp_path: Path) -> None:
    done = run_cli("run", "/no/such/file.py")
    assert done.returncode != 0 and "/no/such/file.py does not exist" in done.stderr
    done = run_cli("run", f"{tmp_path}")
    assert done.returncode != 0 and "is a folder, not a file" in done.stderr
    version = run_cli("--version")
    assert version.returncode == 0 and version.stdout.startswith("mcpkit ")


async def test_run_an_importable_module(tmp_path: Path) -> None:
    package = tmp_path / "mypkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "srv.py").write_text("from mcpkit import Server\napp = Server('from-module')\n")
    async with Client(mcpkit_run("mypkg.srv", cwd=tmp_path)) as client:
        assert client.server_info.name == "from-module"


def test_run_an_unknown_module() -> None:
    done = run_cli("run", "no_such_module_7f3a.server")
    assert done.returncode != 0 and "no such file or module" in done.stderr
    assert "'no_such_module_7f3a'" in done.stderr


@pytest.mark.parametrize("verb", ["run", "proxy"])
def test_run_on_a_terminal_says_once_on_stderr_that_it_serves_stdio(
    tmp_path: Path, verb: str
) -> None:
    path = write(tmp_path, "server = Server('tty')\n")
    master, slave = os.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mcpkit", verb, str(path)],
            stdin=slave,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(REPO / "src")},
            preexec_fn=interruptible,
        )
        os.close(slave)
        assert proc.stderr is not None
        line = proc.stderr.readline().decode()  # bounded: the process writes it at start
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        os.close(master)
    assert line.startswith(f"mcpkit {verb}: serving ")
    assert "over stdio, waiting for an MCP client on stdin" in line
    assert "waiting for an MCP client" not in err.decode() and out == b""


def test_a_syntax_error_shows_only_its_place_and_caret(tmp_path: Path) -> None:
    path = write(tmp_path, "def broken(:\n    pass\n")
    err = run_cli("run", str(path)).stderr
    assert "importlib" not in err and "mcpkit/cli" not in err, err
    # the first line is the place, in the format the inspector reads
    assert err.splitlines()[0].startswith(f'  File "{path}", line '), err
    assert "SyntaxError" in err and "error: importing " in err


def test_a_verb_shows_the_import_error_of_the_server_it_starts_once(tmp_path: Path) -> None:
    path = write(tmp_path, "import helper_that_is_missing\n")
    done = run_cli("call", str(path), "tool")
    err = done.stderr
    assert done.returncode == 3, err
    assert err.count("Traceback (most recent call last)") == 1, err
    assert err.count("No module named 'helper_that_is_missing'") == 1, err
    assert "importlib" not in err, err
    assert err.rstrip().endswith("exited with code 1 (its stderr is above)"), err
