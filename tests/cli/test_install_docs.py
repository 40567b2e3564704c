"""docs/cli.md's "Installing a server into a host" and "Shell completion" work as written:
each command runs in a sandbox home and prints (or writes) what the section shows."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mcpkit.cli.commands.install import HOST_NAMES
from mcpkit.cli.hosts import HOSTS

REPO = Path(__file__).resolve().parents[2]


def section(title: str) -> str:
    text = (REPO / "docs" / "cli.md").read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def blocks(text: str) -> list[tuple[str, str]]:
    return re.findall(r"```(\w+)\n(.*?)```", text, re.S)


class Home:
    """/home/me of the docs, under tmp_path, with `mcpkit` and a `uv` on PATH."""

    def __init__(self, tmp_path: Path) -> None:
        self.home = tmp_path / "me"
        self.project = self.home / "weather"
        self.project.mkdir(parents=True)
        (self.project / "weather.py").write_text(
            "from mcpkit import Server\nserver = Server('weather')\n"
        )
        bin_dir = self.home / ".local" / "bin"
        bin_dir.mkdir(parents=True)
        (bin_dir / "uv").write_text("#!/bin/sh\n")
        (bin_dir / "mcpkit").write_text(f'#!/bin/sh\nexec {sys.executable} -m mcpkit "$@"\n')
        for program in bin_dir.iterdir():
            program.chmod(0o755)
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("XDG_")},
            "HOME": str(self.home),
            "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "PYTHONPATH": str(REPO / "src"),
        }

    def run(self, *argv: str) -> str:
        done = subprocess.run(
            argv,
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
            cwd=self.project,
            env=self.env,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def as_documented(self, text: str) -> str:
        """The docs' text with this sandbox's paths and interpreter in it."""
        text = text.replace("/home/me/.venv/bin/python", sys.executable)
        return text.replace("/home/me", str(self.home))


def test_the_install_section_runs_as_written(tmp_path: Path) -> None:
    home = Home(tmp_path)
    found = blocks(section("Installing a server into a host"))
    assert [kind for kind, _ in found] == ["sh", "text", "json", "sh", "json"]
    (_, install), (_, printed), (_, written), (_, dry_run), (_, dry_output) = found
    assert home.run(*install.split()) == home.as_documented(printed)
    config = home.home / ".config" / "Claude" / "claude_desktop_config.json"
    assert json.loads(config.read_text()) == json.loads(home.as_documented(written))
    assert json.loads(home.run(*dry_run.split())) == json.loads(home.as_documented(dry_output))
    assert not (home.home / ".cursor").exists()


def test_the_host_table_names_every_host_and_its_key() -> None:
    rows = re.findall(
        r"^\| `([\w-]+)` \| (.*) \| `(\w+)`", section("Installing a server into a host"), re.M
    )
    assert tuple(host for host, _, _ in rows) == HOST_NAMES
    assert all(HOSTS[host].servers_key == key for host, _, key in rows)


def test_every_option_the_install_section_names_is_one_the_verb_takes(tmp_path: Path) -> None:
    usage = Home(tmp_path).run(sys.executable, "-m", "mcpkit", "install", "--help")
    named = set(re.findall(r"`(--[a-z-]+)", section("Installing a server into a host")))
    assert named and all(option in usage for option in named)


def completion_lines() -> list[str]:
    (text,) = [body for kind, body in blocks(section("Shell completion")) if kind == "sh"]
    return [line.split("  #")[0] for line in text.splitlines()]


def test_the_bash_line_registers_the_completion(tmp_path: Path) -> None:
    home = Home(tmp_path)
    bash_line = completion_lines()[0]
    assert home.run("bash", "-c", f"{bash_line}; complete -p mcpkit").strip() == (
        "complete -F _mcpkit_complete mcpkit"
    )


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed")
def test_the_zsh_line_registers_the_completion(tmp_path: Path) -> None:
    home = Home(tmp_path)
    zsh_line = completion_lines()[1]
    program = f"autoload -U compinit; compinit -u -D; {zsh_line}; print -r -- $_comps[mcpkit]"
    assert home.run("zsh", "-f", "-c", program).strip() == "_mcpkit_complete"


@pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed")
def test_the_fish_line_installs_a_completion_fish_loads(tmp_path: Path) -> None:
    home = Home(tmp_path)
    fish_line = completion_lines()[2]
    home.run("sh", "-c", f"mkdir -p ~/.config/fish/completions && {fish_line}")
    assert home.run("fish", "-c", "complete -C 'mcpkit inst'").split("\t")[0] == "install"
