"""`mcpkit run FILE.py[:object]` serves a file's Server over stdio."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from mcpkit import Client, StdioParameters

REPO = Path(__file__).resolve().parents[2]
MCPKIT = [sys.executable, "-m", "mcpkit"]


async def test_run_serves_the_example_over_stdio() -> None:
    async with Client([*MCPKIT, "run", str(REPO / "examples" / "tools.py")]) as client:
        assert client.server_info.name == "tools-example"
        result = await client.call_tool("add", {"a": 40, "b": 2})
        assert result.structured_content == {"result": 42}


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "srv.py"
    path.write_text("from mcpkit import Server\n" + body)
    return path


async def test_run_finds_a_named_object_and_prints_go_to_stderr(tmp_path: Path) -> None:
    path = write(tmp_path, (
        "first = Server('first')\n"
        "second = Server('second')\n"
        "@second.tool()\n"
        "def hello() -> str:\n"
        "    print('this goes to stderr, not into the protocol stream')\n"
        "    return 'hi'\n"))
    async with Client([*MCPKIT, "run", f"{path}:second"], stderr="capture") as client:
        assert client.server_info.name == "second"
        assert (await client.call_tool("hello")).content[0].text == "hi"


@pytest.mark.parametrize(("body", "target_suffix", "message"), [
    ("x = 1\n", "", "no Server found"),
    ("a = Server('a')\nb = Server('b')\n", "", "several Servers"),
    ("a = Server('a')\n", ":nope", "no object named 'nope'"),
    ("a = 5\n", ":a", "not a Server"),
])
def test_run_explains_what_is_wrong(tmp_path: Path, body: str, target_suffix: str,
                                    message: str) -> None:
    path = write(tmp_path, body)
    done = subprocess.run([*MCPKIT, "run", f"{path}{target_suffix}"], capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode != 0
    assert message in done.stderr
    assert done.stdout == ""


def test_run_a_missing_file_and_version() -> None:
    done = subprocess.run([*MCPKIT, "run", "/no/such/file.py"], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode != 0 and "no such file" in done.stderr
    version = subprocess.run([*MCPKIT, "--version"], capture_output=True, text=True,
                             timeout=60, check=True)
    assert version.stdout.startswith("mcpkit ")


async def test_run_an_importable_module(tmp_path: Path) -> None:
    package = tmp_path / "mypkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "srv.py").write_text("from mcpkit import Server\napp = Server('from-module')\n")
    params = StdioParameters(command=sys.executable, args=["-m", "mcpkit", "run", "mypkg.srv"],
                             cwd=str(tmp_path))
    async with Client(params) as client:
        assert client.server_info.name == "from-module"


def test_run_an_unknown_module() -> None:
    done = subprocess.run([*MCPKIT, "run", "no_such_module_7f3a.server"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode != 0 and "no such file or module" in done.stderr
