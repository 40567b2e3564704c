"""Every shell example of docs/cli.md's sections on the verbs runs as written: its output is
the ```text block that follows it (stdout, or the end of stderr for a failing command; only
its start when the block ends with a `...` line) and its exit code the one its `# exit N`
comment names (0 without one)."""

from __future__ import annotations

import argparse
import importlib
import re
import shlex
import subprocess
import sys
from typing import Any

from _verbs import REPO, WAIT, cli_env

from mcpkit.cli.commands import VERBS

DOC = REPO / "docs" / "cli.md"
SECTIONS = (
    "## Talking to a server: list, call, read, prompt",
    "## Inspecting a server: inspect",
    "## Exit codes",
)
BLOCK = re.compile(r"```(sh|text)\n(.*?)```", re.S)


def examples() -> list[tuple[str, str | None]]:
    """(command, expected output or None) for each ```sh block of the verbs' sections."""
    text = DOC.read_text()
    found: list[tuple[str, str | None]] = []
    for heading in SECTIONS:
        start = text.index(heading + "\n")
        end = text.find("\n## ", start + len(heading))
        blocks = BLOCK.findall(text[start : end if end != -1 else None])
        for index, (kind, body) in enumerate(blocks):
            if kind != "sh":
                continue
            follows = blocks[index + 1] if index + 1 < len(blocks) else None
            found.append((body.strip(), follows[1] if follows and follows[0] == "text" else None))
    return found


def test_the_sections_have_examples() -> None:
    assert len(examples()) >= 8


def test_every_example_runs_as_shown() -> None:
    for command, expected in examples():
        line, _, comment = command.partition("  # exit ")
        words = shlex.split(line)
        assert words[0] == "mcpkit", command
        ran = subprocess.run(
            [sys.executable, "-m", "mcpkit", *words[1:]],
            capture_output=True,
            text=True,
            timeout=WAIT,
            stdin=subprocess.DEVNULL,
            env=cli_env(),
            cwd=REPO,
        )
        code = int(comment) if comment else 0
        assert ran.returncode == code, (command, ran.stderr)
        if expected is not None:
            shown = ran.stdout if code == 0 else ran.stderr
            if expected.endswith("\n...\n"):  # the start of a longer output
                assert shown.startswith(expected.removesuffix("...\n")), (command, shown)
            else:
                assert shown.endswith(expected) if code else shown == expected, (command, shown)


def verbs_taking(option: str) -> list[str]:
    """The verbs whose --help lists `option`, each parser made as `mcpkit` makes it."""
    made: dict[str, argparse.ArgumentParser] = {}
    subparsers = argparse.ArgumentParser().add_subparsers()

    def add_parser(name: str, **options: Any) -> argparse.ArgumentParser:
        made[name] = subparsers.add_parser(name, **options)
        return made[name]

    for name in VERBS:
        importlib.import_module(f"mcpkit.cli.commands.{name}").register(add_parser)
    return [name for name in VERBS if option in made[name].format_help()]


def test_the_protocol_option_is_documented_for_every_verb_that_takes_it() -> None:
    takes = verbs_taking("--protocol")
    assert takes, "no verb takes --protocol"
    text = DOC.read_text()
    assert f"`{'`, `'.join(takes[:-1])}` and `{takes[-1]}` take `--protocol`" in text, takes
    assert "| `--protocol auto\\|2026-07-28\\|2025-11-25` | all |" in text
