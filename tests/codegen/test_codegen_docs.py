"""docs/cli.md, "Generating a typed client", runs as written: each shell example in order in a
folder of its own (examples/ beside it, as in a checkout), its output the ```text block after
it (stdout, or stderr for a command that prints nothing there), then the page's Python file
against the module the first example wrote."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from _codegen_files import REPO, import_file

from mcpkit.cli.main import main

SECTION = "## Generating a typed client"
BLOCK = re.compile(r"```(sh|text|python)\n(.*?)```", re.S)
WAIT = 120  # seconds: a bound on a hang, not a measurement


def section() -> str:
    text = (REPO / "docs" / "cli.md").read_text()
    start = text.index(SECTION + "\n")
    return text[start : text.index("\n## ", start + len(SECTION))]


def examples() -> list[tuple[str, str | None]]:
    """(command, expected output or None) for each ```sh block of the section."""
    blocks = BLOCK.findall(section())
    found: list[tuple[str, str | None]] = []
    for index, (kind, body) in enumerate(blocks):
        follows = blocks[index + 1] if index + 1 < len(blocks) else None
        if kind == "sh":
            found.append((body.strip(), follows[1] if follows and follows[0] == "text" else None))
    return found


def test_the_section_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "examples").symlink_to(REPO / "examples")
    monkeypatch.chdir(tmp_path)
    ran_commands = examples()
    assert [command.split()[:3] for command, _ in ran_commands] == [
        ["mcpkit", "generate", "client"],
        ["mcpkit", "generate", "client"],
        ["mcpkit", "generate", "cli"],
        ["python", "everything_cli.py", "add"],
    ]
    for command, expected in ran_commands:  # in this process: each starts a server already
        program, *words = shlex.split(command)
        if program == "mcpkit":
            code = main(words)
        else:
            code = import_file(tmp_path / words[0]).main(words[1:])
        shown = capsys.readouterr()
        assert code == 0, (command, shown.err)
        if expected is not None:
            assert (shown.out or shown.err) == expected, (command, shown)
    [(source, prints)] = _python_blocks()
    (tmp_path / "use_everything.py").write_text(source)
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    done = subprocess.run(
        [sys.executable, "use_everything.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT,
        check=False,
    )
    assert (done.returncode, done.stdout) == (0, prints), done.stderr


def _python_blocks() -> list[tuple[str, str]]:
    """(source, what it prints) of the section's ```python blocks."""
    blocks = BLOCK.findall(section())
    found: list[tuple[str, str]] = []
    for index, (kind, body) in enumerate(blocks):
        if kind == "python":
            assert body.startswith("# use_everything.py\n")
            assert blocks[index + 1][0] == "text", "the page shows what it prints"
            found.append((body, blocks[index + 1][1]))
    return found
