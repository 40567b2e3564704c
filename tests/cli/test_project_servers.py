"""A server a project's own files configure (a clone's `.mcp.json`, `.cursor/mcp.json`,
`.vscode/mcp.json`) as a `HOST:NAME` target: the user's server of the same name wins, with a
warning naming both files, and a project's command runs only once trusted (`--trust-project`,
or y at a terminal); without either, one `error:` line names the file, the command and the
flag, and nothing runs."""

from __future__ import annotations

import json
import os
import pty
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from _host_machine import RUN, Machine, write

from mcpkit.client.host_configs.configured import FoundServer, host_target
from mcpkit.client.target import TargetError

#: What a hostile checkout's server does: leave a file behind, proof that it ran.
MARKER = "ran-from-project"
HOSTILE = {"command": sys.executable, "args": ["-c", f"open({MARKER!r}, 'w')"]}


@pytest.fixture
def machine(tmp_path: Path) -> Machine:
    return Machine(tmp_path)


def _clone(machine: Machine, servers: dict[str, object]) -> Path:
    """A checkout's `.cursor/mcp.json` with `servers`; its path."""
    path = machine.cwd / ".cursor" / "mcp.json"
    write(path, json.dumps({"mcpServers": servers}))
    return path


def test_the_users_server_wins_over_a_projects_of_the_same_name(machine: Machine) -> None:
    # the user's everything (~/.cursor/mcp.json) and a clone's "everything" of its own
    project_file = _clone(machine, {"everything": HOSTILE})
    done = machine.mcpkit("list", "cursor:everything", "--json")
    assert done.returncode == 0, done.stderr
    assert "add" in {tool["name"] for tool in json.loads(done.stdout)["tools"]}
    assert not (machine.cwd / MARKER).exists()
    user_file = machine.home / ".cursor" / "mcp.json"
    [warning] = [line for line in done.stderr.splitlines() if line.startswith("warning:")]
    assert str(user_file) in warning and str(project_file) in warning

    # Claude Code too: ~/.claude.json's "shared" over the checkout's .mcp.json "shared"
    found = host_target("claude-code:shared", machine.places())
    assert found is not None and found.argv_or_url == ("shared-server",)


def test_a_projects_command_is_refused_without_trust_and_nothing_runs(machine: Machine) -> None:
    project_file = _clone(machine, {"helper": HOSTILE})
    done = machine.mcpkit("list", "cursor:helper")
    assert done.returncode == 3
    assert not (machine.cwd / MARKER).exists()
    [line] = done.stderr.splitlines()
    assert line.startswith("error: cursor:helper is a project's server")
    command = shlex.join([HOSTILE["command"], *HOSTILE["args"]])
    assert str(project_file) in line and command in line and "--trust-project" in line
    # the other hosts' project files are a project's as well
    for target in ("claude-code:shared", "mcp-json:here"):
        write(machine.home / ".claude.json", "{}")
        refused = machine.mcpkit("call", target, "add")
        assert refused.returncode == 3 and "--trust-project" in refused.stderr, target


def test_trust_project_runs_a_projects_command(machine: Machine) -> None:
    _clone(machine, {"helper": RUN})
    done = machine.mcpkit("list", "cursor:helper", "--trust-project", "--json")
    assert done.returncode == 0, done.stderr
    assert "add" in {tool["name"] for tool in json.loads(done.stdout)["tools"]}
    assert "--trust-project" in machine.mcpkit("proxy", "--help").stdout
    assert "--trust-project" in machine.mcpkit("dev", "--help").stdout


@pytest.mark.skipif(sys.platform == "win32", reason="a pseudo-terminal is POSIX")
@pytest.mark.parametrize(("answer", "runs"), [("y", True), ("n", False), ("", False)])
def test_at_a_terminal_the_person_is_asked(machine: Machine, answer: str, runs: bool) -> None:
    _clone(machine, {"helper": HOSTILE})
    leader, follower = pty.openpty()
    try:
        os.write(leader, f"{answer}\n".encode())  # waits in the terminal's line buffer
        done = subprocess.run(
            [sys.executable, "-m", "mcpkit", "list", "cursor:helper"],
            stdin=follower,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=machine.cwd,
            env=machine.environ(),
        )
    finally:
        os.close(follower)
        os.close(leader)
    assert "Run it? [y/N]" in done.stderr
    assert (machine.cwd / MARKER).exists() is runs
    assert done.returncode == 3  # it ran, and is no server; or it was refused
    if not runs:
        assert "--trust-project" in done.stderr


def test_the_trust_callback_sees_the_server_and_its_command(machine: Machine) -> None:
    project_file = _clone(machine, {"helper": HOSTILE})
    asked: list[tuple[FoundServer, str]] = []

    def refuse(server: FoundServer, command: str) -> bool:
        asked.append((server, command))
        return False

    with pytest.raises(TargetError, match="--trust-project"):
        host_target("cursor:helper", machine.places(), trust=refuse)
    [(server, command)] = asked
    assert (server.path, server.scope, server.from_project) == (project_file, "project", True)
    assert command == shlex.join([HOSTILE["command"], *HOSTILE["args"]])
    # a user's own command is never asked about; a project's URL starts nothing
    assert host_target("cursor:everything", machine.places(), trust=refuse) is not None
    _clone(machine, {"web": {"url": "http://127.0.0.1:1/mcp"}})
    assert host_target("cursor:web", machine.places(), trust=refuse) is not None
    assert len(asked) == 1


def test_discover_marks_a_projects_servers_and_the_ones_not_used(machine: Machine) -> None:
    _clone(machine, {"everything": HOSTILE, "helper": HOSTILE})
    found = json.loads(machine.mcpkit("discover", "--json").stdout)["servers"]
    by = {(s["target"], s["scope"]): s for s in found}
    assert by["cursor:everything", "user"]["used"] is True
    assert by["cursor:everything", "project"]["used"] is False
    assert by["cursor:helper", "project"]["used"] is True
    table = machine.mcpkit("discover").stdout
    assert "project, asks first" in table
    assert "project, not used" in table
