"""TARGET parsing for the `mcpkit` verbs: files, modules, commands, URLs, and bad ones."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from mcpkit.client.target import TargetError, open_client, parse_headers, parse_target


def test_a_url_is_connected_to_over_http() -> None:
    target = parse_target("http://127.0.0.1:8000/mcp")
    assert (target.kind, target.argv_or_url, target.spawns) == (
        "url",
        "http://127.0.0.1:8000/mcp",
        False,
    )


def test_a_file_with_or_without_object_is_served_by_mcpkit_run(tmp_path: Path) -> None:
    (tmp_path / "srv.py").write_text("")
    for text in ("srv.py", "srv.py:other"):
        target = parse_target(text, cwd=tmp_path)
        assert target.kind == "file"
        assert target.argv_or_url == (sys.executable, "-m", "mcpkit", "run", text)


def test_an_executable_given_by_its_path_is_a_command(tmp_path: Path) -> None:
    # as ./node_modules/.bin/mcp-server-everything: a program, not Python to import
    program = tmp_path / "some-server"
    program.write_text("#!/bin/sh\nexec node server.js\n")
    program.chmod(0o755)
    target = parse_target(str(program))
    assert (target.kind, target.argv_or_url) == ("command", (str(program),))
    program.chmod(0o644)  # a file that is not executable is still served as Python
    assert parse_target(str(program)).kind == "file"


def test_a_missing_py_file_is_refused_with_where_it_was_looked_for(tmp_path: Path) -> None:
    with pytest.raises(TargetError, match=r"nope\.py does not exist \(relative to"):
        parse_target("nope.py:app", cwd=tmp_path)


def test_a_dotted_name_is_a_module(tmp_path: Path) -> None:
    target = parse_target("pkg.server:app", cwd=tmp_path)
    assert target.kind == "module"
    assert target.argv_or_url[-1] == "pkg.server:app"


def test_a_quoted_command_is_split_like_a_shell_would(tmp_path: Path) -> None:
    target = parse_target("python -c 'print(1)'", cwd=tmp_path)
    assert target.kind == "command"
    assert target.argv_or_url == (sys.executable, "-c", "print(1)")


def test_a_command_naming_a_py_file_is_still_a_command(tmp_path: Path) -> None:
    (tmp_path / "server.py").write_text("")
    target = parse_target("python server.py", cwd=tmp_path)
    assert (target.kind, target.argv_or_url) == ("command", (sys.executable, "server.py"))


def test_a_single_program_on_path_is_a_command(tmp_path: Path) -> None:
    assert parse_target("sh", cwd=tmp_path).argv_or_url == ("sh",)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "the target is empty"),
        ("   ", "the target is empty"),
        ("ws://host/mcp", r"ws:// is not a transport"),
        ("no-such-program-xyz --flag", "is not on PATH"),
        ("echo 'unclosed", "cannot split the command"),
        ("a/b\x00c", "is not a file, module"),
        ("-x", "is not a file, module"),
    ],
)
def test_bad_targets_say_what_to_give(text: str, words: str, tmp_path: Path) -> None:
    with pytest.raises(TargetError, match=words):
        parse_target(text, cwd=tmp_path)


def test_headers_parse_and_malformed_ones_are_refused() -> None:
    assert parse_headers(["X-Api-Key: abc", "Authorization:Bearer t"]) == {
        "X-Api-Key": "abc",
        "Authorization": "Bearer t",
    }
    for bad in ("no colon", ": value", "Bad Name: v"):
        # Worded for a Python caller: the command line adds its option's name itself.
        with pytest.raises(TargetError, match=rf"^the header {re.escape(repr(bad))} is not") as e:
            parse_headers([bad])
        assert "--header" not in str(e.value)


def test_headers_for_a_process_are_refused_in_the_callers_terms(tmp_path: Path) -> None:
    (tmp_path / "server.py").write_text("")
    target = parse_target("server.py", cwd=tmp_path)
    with pytest.raises(TargetError, match=r"^headers are for URL targets; a server started as"):
        open_client(target, headers={"X-A": "1"})


def test_a_javascript_file_is_run_with_node(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # as the npm reference servers are run: `node dist/index.js`, never `mcpkit run`
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    node = bin_dir / "node"
    node.write_text("#!/bin/sh\n")
    node.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    for name in ("server.js", "server.mjs", "server.cjs"):
        (tmp_path / name).write_text("")
        target = parse_target(name, cwd=tmp_path)
        assert (target.kind, target.argv_or_url) == ("command", ("node", name))
    with pytest.raises(TargetError, match=r"gone\.js does not exist"):
        parse_target("gone.js", cwd=tmp_path)
    node.unlink()
    with pytest.raises(TargetError, match=r"'node' is not on PATH \(node comes with Node\.js"):
        parse_target("server.js", cwd=tmp_path)


def test_a_launcher_not_installed_says_where_it_comes_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(TargetError, match=r"'npx' is not on PATH \(npx comes with Node\.js"):
        parse_target("npx -y @modelcontextprotocol/server-everything", cwd=tmp_path)
    with pytest.raises(TargetError, match=r"'uvx' is not on PATH \(uvx comes with uv"):
        parse_target("uvx mcp-server-fetch", cwd=tmp_path)
