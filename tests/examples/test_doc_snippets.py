"""Every ```python block of README.md and docs/ is a program a reader can save and run, and
runs here as the page says (or is marked a fragment, and compiles): servers are loaded as
`mcpkit run` loads them and listed through a client, scripts run to a clean exit (a client
of an HTTP server against that server, started here), test files pass under pytest.
_doc_snippets.py has the conventions."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from _doc_snippets import DOCS, MARKS, REPO, Snippet, files, snippets, source_of

if str(REPO / "tests" / "http") not in sys.path:  # `mcpkit run` children, for `against:`
    sys.path.insert(0, str(REPO / "tests" / "http"))
from _running import mcpkit, running

WAIT = 120  # seconds: a bound on a hang of a whole page's programs, not a measurement
HERE = Path(__file__).resolve().parent


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO / "src")}


def kind(name: str, parts: list[Snippet]) -> str:
    """How a file of the page runs: `pytest`, `against` (a client of an HTTP server), `run by`
    (another test), `script` (`python FILE`), or `module` (loaded; its Servers listed)."""
    marks = {part.mark for part in parts} - {None}
    if marks:
        (mark,) = marks
        return mark or ""
    if name.startswith("test_") or name == "conftest.py":
        return "pytest"
    return "script" if "asyncio.run(" in source_of(parts) else "module"


@pytest.mark.parametrize("doc", DOCS)
def test_every_block_compiles_and_is_named_or_marked(doc: str) -> None:
    names: set[str] = set()
    for snippet in snippets(doc):
        try:
            ast.parse(snippet.source)
        except SyntaxError as exc:
            pytest.fail(f"{snippet.where}: {exc.msg} (line {exc.lineno} of the block)")
        assert snippet.mark in (None, *MARKS), f"{snippet.where}: unknown mark {snippet.mark!r}"
        if snippet.mark == "fragment":
            assert snippet.mark_value, f"{snippet.where}: say why it is a fragment"
            continue
        assert snippet.name, f"{snippet.where}: start it with `# file.py`, or mark it a fragment"
        if snippet.continued:
            assert snippet.name in names, f"{snippet.where}: continues a file not shown above"
        names.add(snippet.name)


@pytest.mark.parametrize("doc", DOCS)
def test_every_file_names_what_it_uses(doc: str, tmp_path: Path) -> None:
    """No name a program uses is left undefined (a fragment's `server`, a missing import)."""
    made = files(doc)
    if not made:
        return
    for name, parts in made.items():
        (tmp_path / name).write_text(source_of(parts))
    ruff = [sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache"]
    done = subprocess.run(
        [*ruff, "--select", "F821,F822", "--output-format", "concise", *made],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=WAIT,
    )
    assert done.returncode == 0, f"{doc}:\n{done.stdout}{done.stderr}"


def page_folder(doc: str, tmp_path: Path) -> dict[str, str]:
    """The page's files saved in `tmp_path` (with examples/ beside them, as in a checkout);
    each file's kind."""
    (tmp_path / "examples").symlink_to(REPO / "examples")
    kinds: dict[str, str] = {}
    for name, parts in files(doc).items():
        (tmp_path / name).write_text(source_of(parts))
        kinds[name] = kind(name, parts)
    return kinds


def run(argv: list[str], folder: Path) -> str:
    done = subprocess.run(
        argv, cwd=folder, env=env(), capture_output=True, text=True, timeout=WAIT, check=False
    )
    assert done.returncode == 0, f"{' '.join(argv)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.mark.parametrize("doc", DOCS)
async def test_every_file_runs_as_the_page_says(doc: str, tmp_path: Path) -> None:
    kinds = page_folder(doc, tmp_path)
    by_kind: dict[str, list[str]] = {}
    for name, found in kinds.items():
        by_kind.setdefault(found, []).append(name)
    modules = by_kind.get("module", [])
    if modules:
        listed = run([sys.executable, str(HERE / "_doc_servers.py"), *modules], tmp_path)
        loaded = {found["file"]: found["servers"] for found in map(json.loads, listed.splitlines())}
        assert list(loaded) == modules, listed
        for name, servers in loaded.items():
            # a server file offers what its blocks register (one that only configures a
            # Server, its transport or stores, may offer nothing)
            assert all(isinstance(offers, dict) for offers in servers.values()), (name, servers)
    for name in by_kind.get("script", []):
        printed = run([sys.executable, name], tmp_path)
        shown = files(doc)[name][-1].prints
        assert shown is None or printed == shown, f"{doc}: {name} printed\n{printed}"
    if by_kind.get("pytest"):
        tests = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], tmp_path)
        assert re.search(r"\d+ passed", tests), tests
    for name in by_kind.get("against", []):
        (server,) = {part.mark_value for part in files(doc)[name]}
        argv = mcpkit("run", server, "--transport", "http", "--port", "0")
        async with running(argv, cwd=tmp_path) as served:
            url = await served.started()
            run([sys.executable, name, url], tmp_path)
    for name in by_kind.get("run by", []):
        (test,) = {part.mark_value for part in files(doc)[name]}
        assert name in (REPO / test).read_text(), f"{doc}: {test} does not run {name}"
