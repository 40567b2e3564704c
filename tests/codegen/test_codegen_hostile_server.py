"""`mcpkit generate` against a malicious server (tests/codegen/_hostile_server.py, over stdio)
whose every string is a known Python trick: a `coding:utf-7` declaration, UTF-7 that decodes
to a quote and code, quotes, backslashes, line ends of every kind, NUL, BOM, bidi overrides,
format braces, checker directives, very long text. The files made open with fixed lines, are
printable ASCII, compile, type-check, and importing the client or asking the script for
`--help` runs none of it: the marker file the payloads would create never appears."""

from __future__ import annotations

import io
import os
import shlex
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest
from _codegen_files import REPO

from mcpkit.cli.main import main
from mcpkit.codegen import cli_script, client_module, is_class_name
from mcpkit.codegen._header import FORMAT, opening
from mcpkit.codegen._source import finished

HOSTILE = Path(__file__).with_name("_hostile_server.py")
WAIT = 300  # seconds: a bound on a hung child, not a measurement
OPENING = {
    "client": ["# -*- coding: utf-8 -*-", f"# mcpkit-generate: client format {FORMAT}"],
    "cli": ["#!/usr/bin/env python3", "# -*- coding: utf-8 -*-"],
}


@pytest.fixture(scope="module", params=["every", "ascii", "utf-7"])
def made(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> tuple[Path, Path]:
    """The folder the files are generated in, and the marker the payloads would create: from
    every trick, from the ASCII ones alone (a file the UTF-7 payload decodes in whole), and
    from the UTF-7 attack alone."""
    where = tmp_path_factory.mktemp("hostile_server")
    marker = where / "ran"
    target = shlex.join([sys.executable, str(HOSTILE), str(marker), request.param])
    for kind in ("client", "cli"):
        out = where / f"hostile_{kind}.py"
        assert main(["generate", kind, target, "-o", str(out)]) == 0
        assert main(["generate", kind, target, "-o", str(out), "--check"]) == 0
    return where, marker


def _run(where: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return subprocess.run(
        [sys.executable, *args],
        cwd=where,
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT,
        check=False,
    )


@pytest.mark.parametrize("kind", ["client", "cli"])
def test_the_files_open_with_fixed_lines_and_are_printable_ascii(
    made: tuple[Path, Path], kind: str
) -> None:
    where, _ = made
    data = (where / f"hostile_{kind}.py").read_bytes()
    assert data.isascii()
    text = data.decode("ascii")
    lines = text.split("\n")
    assert lines[:2] == OPENING[kind]  # PEP 263 reads these two: no server text in them
    odd = {ch for ch in text if not (" " <= ch <= "~" or ch == "\n")}
    assert odd == set()
    # No comment holds a second `#`: none starts a directive a checker obeys (`# type: ignore`
    # at the top of a file silences it all), wherever server text sits in it.
    tokens = tokenize.generate_tokens(io.StringIO(text).readline)
    comments = [t.string for t in tokens if t.type == tokenize.COMMENT]
    assert len(comments) > len(lines[:2]) and [c for c in comments if "#" in c[1:]] == []


def test_importing_the_client_and_the_scripts_help_run_nothing(made: tuple[Path, Path]) -> None:
    where, marker = made
    imported = _run(where, "-c", "import hostile_client")
    assert not marker.exists(), "importing the generated client ran the server's code"
    assert imported.returncode == 0, imported.stderr
    helped = _run(where, "hostile_cli.py", "--help")
    assert not marker.exists(), "the generated script's --help ran the server's code"
    assert helped.returncode == 0, helped.stderr
    assert "usage: hostile_cli.py" in helped.stdout
    imported = _run(where, "-c", "import hostile_cli")  # as a module, too
    assert not marker.exists(), "importing the generated script ran the server's code"
    assert imported.returncode == 0, imported.stderr
    compiled = _run(where, "-m", "py_compile", "hostile_client.py", "hostile_cli.py")
    assert compiled.returncode == 0, compiled.stderr


def test_the_files_pass_mypy_strict(made: tuple[Path, Path]) -> None:
    where, _ = made
    ran = _run(where, "-m", "mypy", "--strict", "--no-incremental", "hostile_client.py")
    assert ran.returncode == 0 and "Success" in ran.stdout, ran.stdout + ran.stderr
    ran = _run(where, "-m", "mypy", "--strict", "--no-incremental", "hostile_cli.py")
    assert ran.returncode == 0 and "Success" in ran.stdout, ran.stdout + ran.stderr


def test_a_generator_refuses_to_give_out_anything_but_ascii_after_the_fixed_lines() -> None:
    fixed = opening("client")
    good = client_module([], "s")
    assert finished(good, fixed) == good
    with pytest.raises(ValueError, match=r"must be printable ASCII.*'\\xe9' on line 3"):
        finished("\n".join([*fixed, "# \xe9\n"]), fixed)
    with pytest.raises(ValueError, match=r"'\\r' on line 3"):
        finished("\n".join([*fixed, "x = 1\r\n"]), fixed)
    with pytest.raises(ValueError, match="must start with"):
        finished("# coding: utf-7\n" + good, fixed)
    with pytest.raises(ValueError, match="must start with"):
        finished(good, opening("cli"))  # a script has its shebang first
    with pytest.raises(ValueError, match="must start with"):
        finished(good, fixed[:1])  # one fixed line leaves line 2 to the server
    assert cli_script([], "coding:utf-7", "s.py").startswith(
        "#!/usr/bin/env python3\n# -*- coding: utf-8 -*-\n# mcpkit-generate: cli format"
    )


@pytest.mark.parametrize("name", ["Kl\u00fcent", "__class__", "__init__", "match", "Client"])
def test_a_class_name_that_is_not_a_plain_ascii_identifier_is_refused(name: str) -> None:
    assert not is_class_name(name)
    with pytest.raises(ValueError, match="ASCII Python identifier"):
        client_module([], "s", class_name=name)
