"""`mcpkit discover` and `HOST:NAME` targets over a fake machine: each host's file at its
place under a home and a project folder of tmp_path (HOME, APPDATA and XDG_CONFIG_HOME point
there; the real home is never read), in each host's own shape, on Linux, macOS and Windows."""

from __future__ import annotations

import asyncio
import json
import re
import shlex
import sys
from pathlib import Path

import pytest
from _host_machine import REPO, RUN, Machine, write

from mcpkit.client.host_configs.configured import find_server, host_target, read_all
from mcpkit.client.host_configs.jsonc import strip_jsonc
from mcpkit.client.target import TargetError


@pytest.fixture
def machine(tmp_path: Path) -> Machine:
    return Machine(tmp_path)


def test_discover_lists_every_hosts_servers_in_the_mcp_servers_shape(machine: Machine) -> None:
    done = machine.mcpkit("discover", "--json")
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert [(s["target"], s["scope"]) for s in found["servers"]] == [
        ("claude-desktop:everything", "user"),
        ("claude-code:mine", "local"),  # this project's, kept in ~/.claude.json
        ("claude-code:shared", "user"),  # the user's, before the project's .mcp.json
        ("claude-code:shared", "project"),
        ("cursor:everything", "user"),
        ("cursor:off", "user"),
        ("vscode:git", "user"),
        ("vscode:remote", "project"),
        ("gemini-cli:stream", "user"),
        ("gemini-cli:old", "user"),
        ("goose:fetch", "user"),
        ("goose:web", "user"),
        ("mcp-json:here", "project"),
    ]
    by = {(s["target"], s["scope"]): s for s in found["servers"]}
    assert by["claude-code:shared", "project"]["entry"] == {"command": "p"}
    assert by["claude-code:shared", "user"]["entry"]["command"] == "shared-server"
    assert by["cursor:off", "user"]["disabled"] and by["cursor:off", "user"]["ignored"] == [
        "disabled"
    ]
    assert by["gemini-cli:stream", "user"]["entry"] == {
        "type": "http",
        "url": "http://127.0.0.1:1/mcp",
    }
    assert by["gemini-cli:stream", "user"]["ignored"] == ["timeout"]
    assert by["gemini-cli:old", "user"]["entry"]["type"] == "sse"
    assert by["goose:fetch", "user"]["entry"] == {
        "command": "uvx",
        "args": ["mcp-server-fetch"],
        "env": {"A": "<hidden: --show-secrets>"},  # env and header values often hold keys
    }
    assert by["goose:fetch", "user"]["disabled"]
    assert by["goose:web", "user"]["entry"] == {"type": "http", "url": "http://127.0.0.1:2/mcp"}
    files = {(f["host"], f["scope"]): f for f in found["files"]}
    assert files["claude-desktop", "user"]["file"] == str(
        machine.home / ".config" / "Claude" / "claude_desktop_config.json"
    )
    assert files["goose", "user"]["servers"] == 2  # the builtin extension is no server
    assert all(f["problem"] is None for f in found["files"])
    missing = [key for key, f in files.items() if not f["exists"]]
    assert missing == [("cursor", "project"), ("gemini-cli", "project")]
    table = machine.mcpkit("discover")
    assert table.returncode == 0 and "cursor:everything" in table.stdout


def test_discover_finds_the_files_where_each_system_keeps_them(machine: Machine) -> None:
    # the same files, moved where macOS and Windows keep them (home and APPDATA)
    config = machine.home / ".config"
    mac = machine.home / "Library" / "Application Support"
    appdata = machine.home / "roaming"
    (mac / "Claude").mkdir(parents=True)
    (config / "Claude" / "claude_desktop_config.json").rename(
        mac / "Claude" / "claude_desktop_config.json"
    )
    found = find_server("claude-desktop:everything", machine.places("darwin"))
    assert found is not None and found.path.is_relative_to(mac)
    (appdata / "Block" / "goose" / "config").mkdir(parents=True)
    (config / "goose" / "config.yaml").rename(appdata / "Block/goose/config/config.yaml")
    found = find_server("goose:web", machine.places("win32", APPDATA=str(appdata)))
    assert found is not None and found.path.is_relative_to(appdata)
    # XDG_CONFIG_HOME moves VS Code's user file on Linux
    (machine.home / "xdg").mkdir()
    config.rename(machine.home / "xdg" / "config")
    places = machine.places("linux", XDG_CONFIG_HOME=str(machine.home / "xdg" / "config"))
    assert find_server("vscode:git", places) is not None


def test_a_file_that_cannot_be_read_is_reported_and_the_others_are_read(machine: Machine) -> None:
    write(machine.cwd / "mcp.json", "{not json")
    files = {(f.host, f.scope): f for f in read_all(machine.places())}
    assert files["mcp-json", "project"].problem is not None
    assert "not valid JSON" in (files["mcp-json", "project"].problem or "")
    assert len(files["cursor", "user"].servers) == 2


def test_host_name_targets_carry_the_entrys_environment_folder_and_headers(
    machine: Machine, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = host_target("cursor:everything", machine.places())
    assert target is not None and target.kind == "command"
    assert target.argv_or_url == (RUN["command"], *RUN["args"])
    assert (target.env, target.cwd) == ({"GREETING": "hello"}, str(machine.cwd))
    remote = host_target("gemini-cli:stream", machine.places())
    assert remote is not None and remote.argv_or_url == "http://127.0.0.1:1/mcp"
    assert host_target("server.py", machine.places()) is None  # not HOST:NAME
    with pytest.raises(
        TargetError, match=r"Cursor has no server named 'nope' \(it has: everything, off"
    ):
        host_target("cursor:nope", machine.places())
    with pytest.raises(TargetError, match="VS Code input"):  # said, not sent with a hole in it
        host_target("vscode:remote", machine.places())


def test_mcpkit_list_takes_a_server_a_host_configured(machine: Machine) -> None:
    done = machine.mcpkit("list", "cursor:everything", "--json")
    assert done.returncode == 0, done.stderr
    assert {"add", "divide"} <= {tool["name"] for tool in json.loads(done.stdout)["tools"]}
    missing = machine.mcpkit("list", "cursor:nope")
    assert missing.returncode == 3
    assert "Cursor has no server named 'nope'" in missing.stderr


def test_jsonc_comments_and_trailing_commas_go_strings_stay() -> None:
    text = '{"url": "http://a//b", /* x */ "s": "/* no */", // end\n "l": [1, 2,],}'
    assert json.loads(strip_jsonc(text)) == {"url": "http://a//b", "s": "/* no */", "l": [1, 2]}


@pytest.mark.parametrize("text", ["{'a': 1}", "{a: 1}", '{"a": 0x1f}', '{"a": +1}'])
def test_jsonc_is_not_json5_what_the_hosts_refuse_is_refused(text: str) -> None:
    with pytest.raises(json.JSONDecodeError):
        json.loads(strip_jsonc(text))


def _discover_section() -> str:
    text = (REPO / "docs" / "cli.md").read_text()
    start = text.index("\n## Servers configured on this machine: discover\n")
    return text[start : text.index("\n## ", start + 1)]


def test_the_discover_section_runs_as_written(machine: Machine) -> None:
    from mcpkit.cli.hosts import HOSTS

    section = _discover_section()
    hosts = re.findall(r"^\| `([\w-]+)` \|", section, re.M)
    assert tuple(hosts) == tuple(HOSTS)
    (commands,) = re.findall(r"```sh\n(.*?)```", section, re.S)
    cursor = machine.home / ".cursor" / "mcp.json"
    cursor.write_text(json.dumps({"mcpServers": {"github": RUN}}))  # the docs' name
    for line in commands.splitlines():
        program, *args = shlex.split(line)
        assert program == "mcpkit"
        done = machine.mcpkit(*args)
        assert done.returncode == 0, done.stderr
    assert "cursor:github" in machine.mcpkit("discover").stdout


async def test_mcpkit_proxy_serves_a_server_a_host_configured(machine: Machine) -> None:
    from mcpkit import Client
    from mcpkit.transports.stdio_client import StdioParameters

    env = {"HOME": str(machine.home), "PYTHONPATH": str(REPO / "src")}
    proxy = StdioParameters(
        sys.executable,
        ["-m", "mcpkit", "proxy", "cursor:everything"],
        env=env,
        cwd=machine.cwd,
        stderr="devnull",
    )
    async with asyncio.timeout(60), Client(proxy) as client:
        assert "add" in {tool.name for tool in await client.list_tools()}


def test_env_and_header_values_are_printed_only_when_asked(machine: Machine) -> None:
    shown = machine.mcpkit("discover", "--json", "--show-secrets")
    assert shown.returncode == 0, shown.stderr
    by = {s["target"]: s for s in json.loads(shown.stdout)["servers"]}
    assert by["goose:fetch"]["entry"]["env"] == {"A": "1"}
