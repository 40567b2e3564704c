"""`mcpkit install HOST FILE.py`: each host's documented entry shape at its documented place,
merged into existing files without losing anything, and every refusal leaving files alone."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
SERVER = "from mcpkit import Server\nserver = Server('weather')\n"


class Sandbox:
    """A project folder and a home folder under tmp_path: the real home is never touched."""

    def __init__(self, root: Path) -> None:
        self.cwd = root / "project"
        self.home = root / "home"
        self.cwd.mkdir()
        self.home.mkdir()
        self.server = self.cwd / "weather.py"
        self.server.write_text(SERVER)

    def env(self, **extra: str) -> dict[str, str]:
        env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "HOME": str(self.home)}
        env.pop("XDG_CONFIG_HOME", None)
        env["APPDATA"] = str(self.home / "AppData" / "Roaming")
        return {**env, **extra}

    def install(self, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "mcpkit", "install", *args],
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
            cwd=self.cwd,
            env=self.env(**extra_env),
        )

    def ok(self, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        done = self.install(*args, **extra_env)
        assert done.returncode == 0, done.stderr
        return done


@pytest.fixture
def box(tmp_path: Path) -> Sandbox:
    return Sandbox(tmp_path)


def read(path: Path) -> Any:
    return json.loads(path.read_text())


def run_entry(box: Sandbox, **more: object) -> dict[str, object]:
    return {
        "command": sys.executable,
        "args": ["-m", "mcpkit", "run", str(box.server)],
        **more,
    }


# Where each host keeps a user's or a project's servers on Linux (XDG), and the entry's shape.
HOST_FILES = [
    ("claude-desktop", "home", ".config/Claude/claude_desktop_config.json", "mcpServers", {}),
    ("claude-code", "project", ".mcp.json", "mcpServers", {"type": "stdio"}),
    ("cursor", "home", ".cursor/mcp.json", "mcpServers", {}),
    ("vscode", "project", ".vscode/mcp.json", "servers", {"type": "stdio"}),
    ("mcp-json", "project", "mcp.json", "mcpServers", {}),
    ("gemini-cli", "project", ".gemini/settings.json", "mcpServers", {}),
]


@pytest.mark.parametrize(("host", "where", "relative", "key", "typed"), HOST_FILES)
def test_each_host_gets_its_documented_shape_in_its_documented_file(
    box: Sandbox, host: str, where: str, relative: str, key: str, typed: dict[str, str]
) -> None:
    done = box.ok(host, "weather.py", "--env", "API_KEY=abc")
    path = (box.home if where == "home" else box.cwd) / relative
    entry = {**typed, **run_entry(box, env={"API_KEY": "abc"})}
    expected: dict[str, object] = {key: {"weather": entry}}
    if host == "vscode":
        expected["inputs"] = []
    assert read(path) == expected
    assert list(read(path)[key]["weather"]) == list(entry)  # the documented key order
    assert str(path) in done.stdout and "Next:" in done.stdout
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # a new file may hold secrets


def test_xdg_config_home_moves_claude_desktops_file(box: Sandbox) -> None:
    box.ok("claude-desktop", "weather.py", XDG_CONFIG_HOME=str(box.home / "xdg"))
    assert "weather" in read(box.home / "xdg/Claude/claude_desktop_config.json")["mcpServers"]


def test_scopes_choose_the_users_or_the_projects_file(box: Sandbox) -> None:
    claude_json = box.home / ".claude.json"
    state = {"numStartups": 7, "projects": {"/x": {"mcpServers": {}}}, "mcpServers": {}}
    claude_json.write_text(json.dumps(state))
    box.ok("claude-code", "weather.py", "--scope", "user")
    after = read(claude_json)
    assert after["numStartups"] == 7 and after["projects"] == state["projects"]
    assert after["mcpServers"]["weather"]["type"] == "stdio"
    box.ok("cursor", "weather.py", "--scope", "project")
    assert "weather" in read(box.cwd / ".cursor/mcp.json")["mcpServers"]
    done = box.install("claude-desktop", "weather.py", "--scope", "project")
    assert done.returncode == 2 and "claude-desktop has no project scope" in done.stderr


def test_merging_keeps_other_servers_unknown_keys_order_and_permissions(box: Sandbox) -> None:
    config = box.cwd / "config.json"
    before = {
        "globalShortcut": "Ctrl+Space",
        "mcpServers": {"other": {"command": "npx", "args": ["-y", "x"], "disabled": True}},
        "zeta": [1, {"deep": None}],
    }
    config.write_text(json.dumps(before))
    config.chmod(0o640)
    box.ok("claude-desktop", "weather.py", "--config", str(config))
    after = read(config)
    assert list(after) == ["globalShortcut", "mcpServers", "zeta"]
    assert after["mcpServers"] == {
        "other": before["mcpServers"]["other"],
        "weather": run_entry(box),
    }
    assert after["zeta"] == before["zeta"]
    assert stat.S_IMODE(config.stat().st_mode) == 0o640
    assert [p.name for p in box.cwd.iterdir() if p.name.startswith(".config")] == []  # no temp


def test_an_existing_name_is_replaced_only_with_force_and_keeps_its_place(box: Sandbox) -> None:
    config = box.cwd / "mcp.json"
    old = {"mcpServers": {"weather": {"command": "old"}, "after": {"command": "x"}}}
    config.write_text(json.dumps(old))
    untouched = config.read_bytes()
    done = box.install("mcp-json", "weather.py")
    assert done.returncode == 1
    assert "already has a server named 'weather'; add --force" in done.stderr
    assert config.read_bytes() == untouched
    box.ok("mcp-json", "weather.py", "--force")
    servers = read(config)["mcpServers"]
    assert list(servers) == ["weather", "after"] and servers["weather"] == run_entry(box)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ('{"mcpServers": {},}', "is not valid JSON"),
        ('// my servers\n{"mcpServers": {}}', "or has comments"),
        ("[1, 2]", "holds a JSON list, not an object"),
        ('{"mcpServers": ["a"]}', '"mcpServers" in'),
        ('{"mcpServers": {}}\n\xff', "is not valid JSON"),
        ('{"mcpServers": {}, "a": 1, "a": 2}', "the key 'a' appears twice in one object"),
        ("[" * 100_000 + "]" * 100_000, "nests too deeply"),
    ],
)
def test_a_file_that_is_not_a_json_object_of_servers_is_left_untouched(
    box: Sandbox, text: str, says: str
) -> None:
    config = box.cwd / "mcp.json"
    config.write_bytes(text.encode("utf-8", "surrogateescape").replace(b"\xc3\xbf", b"\xff"))
    untouched = config.read_bytes()
    done = box.install("mcp-json", "weather.py")
    assert done.returncode == 1 and says in done.stderr
    assert config.read_bytes() == untouched
    if "not valid JSON" in says:  # what to add by hand, so the user is not stuck
        assert '"weather": {' in done.stderr and '"mcpServers"' in done.stderr


def test_an_empty_file_counts_as_no_servers_yet(box: Sandbox) -> None:
    (box.cwd / "mcp.json").write_text("\n")
    box.ok("mcp-json", "weather.py")
    assert read(box.cwd / "mcp.json") == {"mcpServers": {"weather": run_entry(box)}}


def test_dry_run_prints_the_resulting_file_and_writes_nothing(box: Sandbox) -> None:
    done = box.ok("cursor", "weather.py", "--dry-run")
    assert json.loads(done.stdout) == {"mcpServers": {"weather": run_entry(box)}}
    assert "dry run" in done.stderr
    assert not (box.home / ".cursor").exists()
    existing = box.cwd / "mcp.json"
    existing.write_text('{"mcpServers": {"a": {"command": "a"}}}')
    done = box.ok("mcp-json", "weather.py", "--dry-run", "--name", "w2")
    assert list(json.loads(done.stdout)["mcpServers"]) == ["a", "w2"]
    assert read(existing) == {"mcpServers": {"a": {"command": "a"}}}


def test_env_file_then_env_options_fill_the_entrys_env(box: Sandbox) -> None:
    env_file = box.cwd / ".env"
    env_file.write_text(
        "# secrets\n\nexport TOKEN='a b'\nREGION=eu\nURL=\"http://x/?a=b\"\nEMPTY=\n"
    )
    done = box.ok("mcp-json", "weather.py", "--env-file", ".env", "--env", "REGION=us", "--dry-run")
    env = json.loads(done.stdout)["mcpServers"]["weather"]["env"]
    assert env == {"TOKEN": "a b", "REGION": "us", "URL": "http://x/?a=b", "EMPTY": ""}


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--env", "TOKEN"], "--env 'TOKEN' has no value: give KEY=VALUE"),
        (["--env", "1X=2"], "'1X' is not an environment variable name"),
        (["--env-file", "missing.env"], "--env-file missing.env: cannot read it"),
    ],
)
def test_bad_env_values_are_named(box: Sandbox, args: list[str], says: str) -> None:
    done = box.install("cursor", "weather.py", *args)
    assert done.returncode == 1 and says in done.stderr
    assert not (box.home / ".cursor").exists()


def test_a_bad_env_file_line_is_named_with_its_number(box: Sandbox) -> None:
    (box.cwd / "bad.env").write_text("A=1\nthis is not an assignment\n")
    done = box.install("cursor", "weather.py", "--env-file", "bad.env")
    assert done.returncode == 1 and "--env-file bad.env, line 2" in done.stderr


def test_vscode_asks_for_a_bare_env_key_through_an_input(box: Sandbox) -> None:
    config = box.cwd / ".vscode" / "mcp.json"
    config.parent.mkdir()
    mine = {"type": "promptString", "id": "weather-TOKEN", "description": "mine"}
    config.write_text(json.dumps({"servers": {}, "inputs": [{"id": "x"}, mine]}))
    box.ok("vscode", "weather.py", "--env", "TOKEN", "--env", "REGION")
    after = read(config)
    assert after["servers"]["weather"]["env"] == {
        "TOKEN": "${input:weather-TOKEN}",
        "REGION": "${input:weather-REGION}",
    }
    assert after["inputs"] == [
        {"id": "x"},
        mine,  # the user's own definition of that input stays
        {
            "type": "promptString",
            "id": "weather-REGION",
            "description": "REGION for the MCP server weather",
            "password": True,
        },
    ]


def test_uv_runs_the_server_with_mcpkit_and_the_given_packages(box: Sandbox) -> None:
    bin_dir = box.cwd / "bin"
    bin_dir.mkdir()
    uv = bin_dir / "uv"
    uv.write_text("#!/bin/sh\n")
    uv.chmod(0o755)
    path = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    done = box.ok("cursor", "weather.py:server", "--uv", "--with", "httpx", "--dry-run", PATH=path)
    entry = json.loads(done.stdout)["mcpServers"]["weather"]
    assert entry == {
        "command": str(uv),
        "args": [
            "run",
            "--with",
            "mcpkit",
            "--with",
            "httpx",
            "mcpkit",
            "run",
            f"{box.server}:server",
        ],
    }


def test_uv_missing_from_path_is_said_and_the_entry_runs_plain_uv(box: Sandbox) -> None:
    done = box.ok("cursor", "weather.py", "--uv", "--dry-run", PATH=str(box.cwd))
    assert json.loads(done.stdout)["mcpServers"]["weather"]["command"] == "uv"
    assert "uv is not on PATH here" in done.stderr


def test_with_needs_uv(box: Sandbox) -> None:
    done = box.install("cursor", "weather.py", "--with", "httpx")
    assert done.returncode == 2 and "add --uv" in done.stderr
    done = box.install("cursor", "weather.py", "--uv", "--python")
    assert done.returncode == 2 and "not allowed with" in done.stderr


def test_the_check_names_the_server_and_survives_prints_at_import(box: Sandbox) -> None:
    box.server.write_text("print('hello from import')\n" + SERVER.replace("weather", "Weather API"))
    done = box.ok("mcp-json", "weather.py", "--dry-run")
    assert list(json.loads(done.stdout)["mcpServers"]) == ["Weather API"]
    done = box.ok("mcp-json", "weather.py", "--dry-run", "--name", "wx")
    assert list(json.loads(done.stdout)["mcpServers"]) == ["wx"]


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("x = 1\n", "defines no mcpkit Server"),
        ("raise ValueError('boom')\n", "ValueError: boom"),
        (SERVER + "server.run()\n", 'under `if __name__ == "__main__":`'),
        ("import os\n" + SERVER + "assert os.environ['TOKEN'] == 's'\nraise SystemExit(3)\n", ""),
    ],
)
def test_a_file_mcpkit_run_cannot_serve_is_refused_before_writing(
    box: Sandbox, body: str, says: str
) -> None:
    box.server.write_text(body)
    done = box.install("mcp-json", "weather.py", "--env", "TOKEN=s")
    assert done.returncode == 1 and "cannot be served" in done.stderr and says in done.stderr
    assert "--no-check" in done.stderr
    assert not (box.cwd / "mcp.json").exists()
    box.ok("mcp-json", "weather.py", "--no-check")  # the file's stem names it then
    assert list(read(box.cwd / "mcp.json")["mcpServers"]) == ["weather"]


def test_a_missing_file_is_refused(box: Sandbox) -> None:
    done = box.install("cursor", "nope.py")
    assert done.returncode == 1
    assert f"nope.py does not exist (relative to {box.cwd})" in done.stderr


def test_a_symlinked_config_stays_a_link_to_the_updated_file(box: Sandbox) -> None:
    real = box.cwd / "dotfiles" / "mcp.json"
    real.parent.mkdir()
    real.write_text('{"mcpServers": {}}')
    link = box.cwd / "mcp.json"
    link.symlink_to(real)
    box.ok("mcp-json", "weather.py")
    assert link.is_symlink() and "weather" in read(real)["mcpServers"]


def test_a_byte_order_mark_is_read_past_and_not_written_back(box: Sandbox) -> None:
    config = box.cwd / "mcp.json"
    config.write_bytes(b'\xef\xbb\xbf{"mcpServers": {"a": {"command": "a"}}}')
    box.ok("mcp-json", "weather.py")
    assert config.read_bytes().startswith(b"{")
    assert list(read(config)["mcpServers"]) == ["a", "weather"]


def test_a_file_that_cannot_be_written_is_named_without_a_traceback(box: Sandbox) -> None:
    (box.cwd / "not-a-folder").write_text("")
    done = box.install("mcp-json", "weather.py", "--config", "not-a-folder/mcp.json")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "not-a-folder/mcp.json" in done.stderr and "--config" in done.stderr


async def test_the_installed_entry_starts_the_server_as_a_host_would(box: Sandbox) -> None:
    from mcpkit import Client, StdioParameters

    box.server.write_text(
        "import os\n"
        + SERVER
        + "@server.tool()\ndef token() -> str:\n    return os.environ['TOKEN']\n"
    )
    box.ok("mcp-json", "weather.py", "--env", "TOKEN=s3cret")
    entry = read(box.cwd / "mcp.json")["mcpServers"]["weather"]
    # a host starts it from a folder of its own, with the entry's env (and this checkout's src)
    env = {**entry["env"], "PYTHONPATH": str(REPO / "src"), "PATH": os.environ["PATH"]}
    params = StdioParameters(entry["command"], entry["args"], env=env, cwd=str(box.home))
    async with Client(params) as client:
        result = await client.call_tool("token")
        assert [getattr(block, "text", None) for block in result.content] == ["s3cret"]


def test_a_module_in_the_current_folder_does_not_shadow_the_check(box: Sandbox) -> None:
    elsewhere = box.cwd / "srv"
    elsewhere.mkdir()
    box.server.rename(elsewhere / "weather.py")
    (box.cwd / "json.py").write_text("raise SystemExit('shadowed the standard library')\n")
    # -P: as the `mcpkit` console script runs, without the current folder on sys.path
    done = subprocess.run(
        [
            sys.executable,
            "-P",
            "-m",
            "mcpkit",
            "install",
            "mcp-json",
            "srv/weather.py",
            "--dry-run",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
        cwd=box.cwd,
        env=box.env(),
    )
    assert done.returncode == 0, done.stderr
    assert list(json.loads(done.stdout)["mcpServers"]) == ["weather"]


def test_goose_gets_a_yaml_extension_beside_its_own_settings(box: Sandbox) -> None:
    import yaml

    path = box.home / ".config" / "goose" / "config.yaml"
    path.parent.mkdir(parents=True)
    path.write_text("GOOSE_PROVIDER: openai\nextensions:\n  developer:\n    type: builtin\n")
    done = box.ok("goose", "weather.py", "--env", "API_KEY=abc")
    assert str(path) in done.stdout
    found = yaml.safe_load(path.read_text())
    assert found["GOOSE_PROVIDER"] == "openai"
    assert found["extensions"]["developer"] == {"type": "builtin"}
    run = run_entry(box)
    assert found["extensions"]["weather"] == {
        "name": "weather",
        "type": "stdio",
        "cmd": run["command"],
        "args": run["args"],
        "envs": {"API_KEY": "abc"},
        "enabled": True,
        "timeout": 300,
    }


def test_a_goose_file_with_comments_is_left_untouched(box: Sandbox) -> None:
    path = box.home / ".config" / "goose" / "config.yaml"
    path.parent.mkdir(parents=True)
    text = "# my settings\nGOOSE_PROVIDER: openai\n"
    path.write_text(text)
    done = box.install("goose", "weather.py")
    assert done.returncode == 1
    assert "has comments" in done.stderr and "cmd:" in done.stderr  # the entry, to add by hand
    assert path.read_text() == text


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("GOOSE_PROVIDER: openai\nGOOSE_TELEMETRY: yes\n", "'yes' (line 2)"),
        ("extensions:\n  a:\n    envs: {MODE: off, UMASK: 0755}\n", "unquoted value"),
        ("GOOSE_START: 1:30\n", "'1:30'"),
        ("GOOSE_PROVIDER: openai\nGOOSE_PROVIDER: anthropic\n", "'GOOSE_PROVIDER' twice"),
    ],
)
def test_a_goose_file_rewriting_would_change_is_left_untouched(
    box: Sandbox, text: str, says: str
) -> None:
    """PyYAML reads `yes`, `off`, `0755` and `1:30` by YAML 1.1's rules (a boolean, 493, 90),
    Goose by YAML 1.2's (strings, 755): written back, they would mean something else to Goose;
    and a key given twice would lose a value."""
    path = box.home / ".config" / "goose" / "config.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    done = box.install("goose", "weather.py")
    assert done.returncode == 1, done.stdout
    assert says in done.stderr and "leaves it untouched" in done.stderr
    assert path.read_text() == text


def test_a_goose_file_with_quoted_values_and_anchors_is_written(box: Sandbox) -> None:
    import yaml

    path = box.home / ".config" / "goose" / "config.yaml"
    path.parent.mkdir(parents=True)
    path.write_text("GOOSE_TELEMETRY: 'yes'\nbase: &b {timeout: 300}\nother: *b\nloop: &l [*l]\n")
    box.ok("goose", "weather.py")
    found = yaml.safe_load(path.read_text())
    assert found["GOOSE_TELEMETRY"] == "yes" and "weather" in found["extensions"]
