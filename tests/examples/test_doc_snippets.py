"""Every ```python block of README.md and docs/ is a program a reader can save and run, and
runs here as the page says (or is marked a fragment, and compiles): servers are loaded as
`mcpkit run` loads them and listed through a client, scripts run to a clean exit (a client
of an HTTP server against that server, started here), test files pass under pytest.
_doc_snippets.py has the conventions."""

from __future__ import annotations

import ast
import asyncio
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

WAIT = 120  # seconds: a bound on a hang of one program, not a measurement
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


def programs() -> list[tuple[str, str]]:
    """(page, program) for each program a page's files make: each module, script, `against`
    client and `run by` file on its own, and the page's test files together (one pytest run).
    One test each, so that each test's limit bounds one program (a page's ten programs in one
    test had one 30 s limit between them, and a busy machine ran past it)."""
    found: list[tuple[str, str]] = []
    for doc in DOCS:
        names = [name for name, parts in files(doc).items() if kind(name, parts) != "pytest"]
        tests = len(names) < len(files(doc))
        found += [(doc, name) for name in names] + ([(doc, "pytest")] if tests else [])
    return found


def run(argv: list[str], folder: Path) -> str:
    done = subprocess.run(
        argv, cwd=folder, env=env(), capture_output=True, text=True, timeout=WAIT, check=False
    )
    assert done.returncode == 0, f"{' '.join(argv)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.mark.parametrize(("doc", "program"), programs())
def test_every_program_runs_as_the_page_says(doc: str, program: str, tmp_path: Path) -> None:
    kinds = page_folder(doc, tmp_path)
    found = kinds.get(program, "pytest")
    if found == "module":
        listed = run([sys.executable, str(HERE / "_doc_servers.py"), program], tmp_path)
        (loaded,) = map(json.loads, listed.splitlines())
        assert loaded["file"] == program, listed
        # a server file offers what its blocks register (one that only configures a Server,
        # its transport or stores, may offer nothing)
        assert all(isinstance(offers, dict) for offers in loaded["servers"].values()), loaded
    elif found == "script":
        printed = run([sys.executable, program], tmp_path)
        shown = files(doc)[program][-1].prints
        assert shown is None or printed == shown, f"{doc}: {program} printed\n{printed}"
    elif found == "pytest":
        tests = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], tmp_path)
        assert re.search(r"\d+ passed", tests), tests
    elif found == "against":
        (server,) = {part.mark_value for part in files(doc)[program]}
        asyncio.run(_against(server, program, tmp_path))
    else:
        (test,) = {part.mark_value for part in files(doc)[program]}
        assert program in (REPO / test).read_text(), f"{doc}: {test} does not run {program}"


async def _against(server: str, client: str, folder: Path) -> None:
    """`client URL` against `mcpkit run SERVER --transport http`: each step bounded by its own
    limit (the server's start and stop by `running`'s, the client's run by WAIT)."""
    argv = mcpkit("run", server, "--transport", "http", "--port", "0")
    async with running(argv, cwd=folder) as served:
        url = await served.started()
        await asyncio.to_thread(run, [sys.executable, client, url], folder)
