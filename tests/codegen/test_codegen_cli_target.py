"""The script `mcpkit generate cli` writes finds its server wherever it is run from: TARGET is
read from the folder it was given in (kept relative to the script, or absolute when the script
is printed, escaped to ASCII), and a server it cannot find is one line of error, not a
traceback. Run as a user runs it: a real process, from another folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from _codegen_files import REPO

from mcpkit.cli.main import main

WAIT = 60.0
SERVER = """\
from mcpkit import Server

server = Server("tiny")


@server.tool
def add(a: int, b: int) -> int:
    return a + b
"""


def run_script(script: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return subprocess.run(
        [sys.executable, str(script), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT,
        check=False,
    )


def project(root: Path) -> Path:
    (root / "tools").mkdir(parents=True)
    (root / "server.py").write_text(SERVER, encoding="utf-8")
    elsewhere = root.parent / f"{root.name}-elsewhere"
    elsewhere.mkdir()
    return elsewhere


def test_a_relative_target_is_found_from_another_folder_then_missed_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "shop"
    elsewhere = project(root)
    monkeypatch.chdir(root)
    assert main(["generate", "cli", "server.py", "-o", "tools/cli.py"]) == 0
    script = root / "tools" / "cli.py"
    text = script.read_text(encoding="utf-8")
    assert 'TARGET = "server.py"\n' in text and 'TARGET_FOLDER = ".."\n' in text
    # (kept relative, the text is the same wherever the project is: --check agrees)
    assert main(["generate", "cli", "server.py", "-o", "tools/cli.py", "--check"]) == 0
    ran = run_script(script, elsewhere, "add", "--a", "2", "--b", "3")
    assert (ran.returncode, ran.stdout, ran.stderr) == (0, "5\n", "")
    # The folder moves with the script: a copy of the project answers from its own copy.
    moved = tmp_path / "moved"
    root.rename(moved)
    ran = run_script(moved / "tools" / "cli.py", elsewhere, "add", "--a", "1", "--b", "1")
    assert (ran.returncode, ran.stdout) == (0, "2\n")
    (moved / "server.py").unlink()
    missing = run_script(moved / "tools" / "cli.py", elsewhere, "add", "--a", "1", "--b", "1")
    assert missing.returncode == 1 and missing.stdout == ""
    assert missing.stderr.startswith("error: server.py does not exist (relative to ")
    assert str(moved) in missing.stderr and missing.stderr.count("\n") == 1


def test_a_printed_script_holds_the_folder_absolute_and_in_ascii(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "prój \"x\" 'y'"
    elsewhere = project(root)
    monkeypatch.chdir(root)
    assert main(["generate", "cli", "server.py"]) == 0
    text = capsys.readouterr().out
    (folder_line,) = [line for line in text.splitlines() if line.startswith("TARGET_FOLDER =")]
    assert folder_line.isascii() and "pr\\xf3j" in folder_line
    script = elsewhere / "cli.py"
    script.write_text(text, encoding="utf-8")
    ran = run_script(script, tmp_path, "add", "--a", "4", "--b", "5")
    assert (ran.returncode, ran.stdout, ran.stderr) == (0, "9\n", "")


def test_a_server_given_at_run_time_is_read_from_where_the_script_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "shop"
    elsewhere = project(root)
    monkeypatch.chdir(root)
    assert main(["generate", "cli", "server.py", "-o", "tools/cli.py"]) == 0
    script = root / "tools" / "cli.py"
    missing = run_script(script, elsewhere, "--server", "server.py", "add", "--a", "1", "--b", "1")
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    said = f"error: server.py does not exist (relative to {elsewhere})"
    assert missing.stderr.startswith(said) and missing.stderr.count("\n") == 1
    given = run_script(
        script, tmp_path, "--server", "shop/server.py", "add", "--a", "1", "--b", "2"
    )
    assert (given.returncode, given.stdout) == (0, "3\n")
