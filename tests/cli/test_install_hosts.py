"""mcpkit.cli.hosts with plain calls: each host's file on each operating system, and the
atomic write giving way to a host that changed the file meanwhile."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcpkit.cli.commands.install import HOST_NAMES
from mcpkit.cli.hosts import HOSTS, ConfigError, Scope, config_path, write_config
from mcpkit.cli.hosts.formats import input_id_for

HOME = Path("/h")
CWD = Path("/p")


def test_the_verb_offers_exactly_the_known_hosts() -> None:
    assert HOST_NAMES == tuple(HOSTS)


@pytest.mark.parametrize(
    ("platform", "environ", "expected"),
    [
        ("darwin", {}, "/h/Library/Application Support/Claude/claude_desktop_config.json"),
        ("win32", {"APPDATA": "/r"}, "/r/Claude/claude_desktop_config.json"),
        ("win32", {}, "/h/AppData/Roaming/Claude/claude_desktop_config.json"),
        ("linux", {}, "/h/.config/Claude/claude_desktop_config.json"),
        ("linux", {"XDG_CONFIG_HOME": "/x"}, "/x/Claude/claude_desktop_config.json"),
        # XDG Base Directory: a relative path in $XDG_CONFIG_HOME is ignored
        ("linux", {"XDG_CONFIG_HOME": "rel"}, "/h/.config/Claude/claude_desktop_config.json"),
    ],
)
def test_claude_desktops_file_per_operating_system(
    platform: str, environ: dict[str, str], expected: str
) -> None:
    host = HOSTS["claude-desktop"]
    where = config_path(host, "user", home=HOME, cwd=CWD, platform=platform, environ=environ)
    assert where == Path(expected)


@pytest.mark.parametrize(
    ("host", "scope", "platform", "expected"),
    [
        ("claude-code", "project", "linux", "/p/.mcp.json"),
        ("claude-code", "user", "darwin", "/h/.claude.json"),
        ("cursor", "user", "win32", "/h/.cursor/mcp.json"),
        ("cursor", "project", "linux", "/p/.cursor/mcp.json"),
        ("vscode", "project", "darwin", "/p/.vscode/mcp.json"),
        ("vscode", "user", "darwin", "/h/Library/Application Support/Code/User/mcp.json"),
        ("vscode", "user", "linux", "/h/.config/Code/User/mcp.json"),
        ("mcp-json", "project", "linux", "/p/mcp.json"),
        ("gemini-cli", "project", "linux", "/p/.gemini/settings.json"),
        ("gemini-cli", "user", "win32", "/h/.gemini/settings.json"),
        ("goose", "user", "linux", "/h/.config/goose/config.yaml"),
        ("goose", "user", "darwin", "/h/.config/goose/config.yaml"),
    ],
)
def test_each_hosts_file_per_scope(host: str, scope: Scope, platform: str, expected: str) -> None:
    chosen = HOSTS[host]
    assert scope in chosen.scopes
    where = config_path(chosen, scope, home=HOME, cwd=CWD, platform=platform, environ={})
    assert where == Path(expected)


def test_a_file_changed_since_it_was_read_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "mcp.json"
    path.write_text('{"mcpServers": {}}')
    read = path.read_bytes()
    path.write_text('{"mcpServers": {"theirs": {}}}')  # the host saved it meanwhile
    assert write_config(path, "{}\n", expected=read) is False
    assert path.read_text() == '{"mcpServers": {"theirs": {}}}'
    assert write_config(path, "{}\n", expected=path.read_bytes()) is True
    assert path.read_text() == "{}\n"
    assert [p.name for p in tmp_path.iterdir()] == ["mcp.json"]


def test_a_new_file_appearing_before_the_write_is_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "mcp.json"
    path.parent.mkdir()
    path.write_text("{}")
    assert write_config(path, "{}\n", expected=None) is False


def test_input_ids_keep_to_letters_digits_dashes_and_underscores() -> None:
    assert input_id_for("My Server!", "API_KEY") == "My-Server-API_KEY"


def test_a_folder_that_cannot_be_made_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match=r"cannot write .*file/mcp\.json: .*--config"):
        write_config(tmp_path / "file" / "mcp.json", "{}\n", expected=None)


def test_gooses_file_per_operating_system() -> None:
    goose = HOSTS["goose"]
    windows = config_path(
        goose, "user", home=HOME, cwd=CWD, platform="win32", environ={"APPDATA": "/r"}
    )
    assert windows == Path("/r/Block/goose/config/config.yaml")
    xdg = config_path(
        goose, "user", home=HOME, cwd=CWD, platform="linux", environ={"XDG_CONFIG_HOME": "/x"}
    )
    assert xdg == Path("/x/goose/config.yaml")
