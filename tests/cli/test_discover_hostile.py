"""`mcpkit discover` and `mcpkit install` against files a project's checkout may hold where a
host's file belongs (a named pipe, a link to a device, a huge or deeply nested file): each is
reported, none hangs or takes the machine's memory; and discover changes nothing at all."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from _host_machine import Machine, write

from mcpkit.cli.hosts.config_file import ConfigError, load_config
from mcpkit.cli.hosts.yaml_file import load_yaml_config
from mcpkit.client.host_configs.configured import read_all
from mcpkit.client.host_configs.host_file import MAX_CONFIG_BYTES

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="named pipes and /dev/zero")


@pytest.fixture
def machine(tmp_path: Path) -> Machine:
    return Machine(tmp_path)


def _problems(machine: Machine) -> dict[tuple[str, str], str | None]:
    return {(f.host, f.scope): f.problem for f in read_all(machine.places())}


def test_a_pipe_a_device_and_a_huge_file_are_reported_not_read(machine: Machine) -> None:
    (machine.cwd / ".mcp.json").unlink()
    os.mkfifo(machine.cwd / ".mcp.json")  # opening it to read would wait for a writer
    (machine.cwd / ".cursor").mkdir()
    (machine.cwd / ".cursor" / "mcp.json").symlink_to("/dev/zero")  # endless
    with (machine.cwd / "mcp.json").open("wb") as huge:
        huge.truncate(MAX_CONFIG_BYTES + 1)  # sparse: no disk taken
    found = machine.mcpkit("discover", "--json")  # (its timeout: a hang fails the test)
    assert found.returncode == 0, found.stderr
    problems = _problems(machine)
    assert "not a regular file" in (problems["claude-code", "project"] or "")
    assert "not a regular file" in (problems["cursor", "project"] or "")
    assert "too large" in (problems["mcp-json", "project"] or "")
    assert problems["cursor", "user"] is None  # the others are read as before


def test_a_link_to_a_host_file_is_followed(machine: Machine) -> None:
    real = machine.home / "dotfiles" / "mcp.json"
    write(real, '{"mcpServers": {"linked": {"command": "x"}}}')
    (machine.cwd / "mcp.json").unlink()
    (machine.cwd / "mcp.json").symlink_to(real)
    files = {(f.host, f.scope): f for f in read_all(machine.places())}
    assert [s.name for s in files["mcp-json", "project"].servers] == ["linked"]


def test_deeply_nested_yaml_and_json_are_reported(machine: Machine) -> None:
    write(machine.home / ".config" / "goose" / "config.yaml", "[" * 100_000)
    write(machine.cwd / "mcp.json", "[" * 100_000)
    problems = _problems(machine)
    assert "not valid YAML" in (problems["goose", "user"] or "")
    assert "not valid JSON" in (problems["mcp-json", "project"] or "")


def test_discover_creates_and_changes_nothing(machine: Machine) -> None:
    def tree() -> dict[str, tuple[int, int, int]]:
        root = machine.home.parent
        return {
            str(path.relative_to(root)): (stat.st_mode, stat.st_size, stat.st_mtime_ns)
            for path in sorted(root.rglob("*"))
            for stat in [path.lstat()]
        }

    before = tree()
    for args in (("discover",), ("discover", "--json")):
        done = machine.mcpkit(*args)
        assert done.returncode == 0, done.stderr
    assert tree() == before


def test_install_refuses_a_pipe_or_a_huge_file_without_hanging(tmp_path: Path) -> None:
    pipe = tmp_path / "settings.json"
    os.mkfifo(pipe)
    # In a child process, bounded: a plain read of the pipe would wait for a writer forever.
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from mcpkit.cli.hosts.config_file import ConfigError, load_config\n"
        "from mcpkit.cli.hosts.yaml_file import load_yaml_config\n"
        "for load in (load_config, load_yaml_config):\n"
        "    try:\n"
        "        load(Path(sys.argv[1]))\n"
        "    except ConfigError as exc:\n"
        "        print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(pipe)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("not a regular file") == 2, done.stdout
    huge = tmp_path / "config.yaml"
    with huge.open("wb") as file:
        file.truncate(MAX_CONFIG_BYTES + 1)
    with pytest.raises(ConfigError, match="too large"):
        load_yaml_config(huge)
    with pytest.raises(ConfigError, match="is a folder"):
        load_config(tmp_path)
