"""The docs work as written: docs/testing.md's examples pass under plain pytest with only
mcpkit's plugin, and every public name the user-facing docs use says where it comes from."""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import mcpkit

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src"
USER_DOCS = [
    "README.md",
    "docs/client.md",
    "docs/testing.md",
    "docs/cli.md",
    "docs/server.md",
    "docs/http.md",
    "docs/deploy.md",
    "docs/auth.md",
    "docs/tasks.md",
    "docs/skills.md",
    "docs/apps.md",
    "docs/proxy.md",
    "docs/inspector.md",
    "docs/fastmcp.md",
    "docs/llm.md",
    "docs/agents.md",
]
PLUGIN = "mcpkit.testing._pytest"


def python_blocks(doc: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", (REPO / doc).read_text(), re.S)


def write_testing_examples(folder: Path) -> int:
    """Save docs/testing.md's blocks under the names in their first lines; count the tests,
    the checks a class inherits from mcpkit.testing.stores included."""
    tests = 0
    for block in python_blocks("docs/testing.md"):
        match = re.fullmatch(r"# (\w+\.py)(, continued)?", block.splitlines()[0])
        assert match, f"every block in testing.md starts with its file name:\n{block}"
        file = folder / match.group(1)
        file.write_text((file.read_text() + "\n\n" if match.group(2) else "") + block)
        tests += len(re.findall(r"^(?:async )?def test_", block, re.M))
        for base in re.findall(r"^class Test\w*\((\w+Checks)\):", block, re.M):
            checks = getattr(importlib.import_module("mcpkit.testing.stores"), base)
            tests += sum(name.startswith("test_") for name in dir(checks))
    return tests


@pytest.mark.parametrize("other_plugins", ["none", "installed ones (anyio, hypothesis)"])
def test_the_testing_docs_pass_as_written(tmp_path: Path, other_plugins: str) -> None:
    expected = write_testing_examples(tmp_path)
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    env.pop("PYTEST_ADDOPTS", None)
    if other_plugins == "none":  # a fresh install: pytest, mcpkit and nothing else
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    # `-p mcpkit` names the installed entry point: loaded with autoload off, a no-op with it on.
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "mcpkit",
            "-p",
            "no:cacheprovider",
            "-W",
            "error",
            "-q",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{expected} passed" in done.stdout


def test_the_plugin_is_declared_as_a_pytest_entry_point() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["entry-points"]["pytest11"] == {"mcpkit": PLUGIN}
    importlib.import_module(PLUGIN)


def import_lines(block: str) -> list[str]:
    """`from mcpkit... import ...` statements of a block, parenthesised ones joined."""
    return [
        re.sub(r"[()\s]+", " ", m)
        for m in re.findall(r"^from mcpkit[\w.]* import (?:\([^)]*\)|[^\n]*)", block, re.M)
    ]


@pytest.mark.parametrize("doc", USER_DOCS)
def test_every_import_in_the_docs_works(doc: str) -> None:
    for block in python_blocks(doc):
        for line in import_lines(block):
            module, _, names = line.removeprefix("from ").partition(" import ")
            for name in names.split(","):
                name = name.split("#")[0].split(" as ")[0].strip()
                if not name:  # after the trailing comma of a parenthesised import
                    continue
                assert hasattr(importlib.import_module(module), name), f"{doc}: {line}"


def public_homes() -> dict[str, set[str]]:
    """Every name in some public mcpkit module's `__all__`, and the modules that export it."""
    homes: dict[str, set[str]] = {}
    for info in pkgutil.walk_packages([str(SRC / "mcpkit")], "mcpkit."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", ()):
            homes.setdefault(name, set()).add(info.name)
    return homes


@pytest.mark.parametrize("doc", USER_DOCS)
def test_every_public_class_the_docs_name_says_where_it_comes_from(doc: str) -> None:
    text = (REPO / doc).read_text()
    homes = public_homes()
    # Inline code that is a name or a call (`Server(...)`), not prose quoted in backticks.
    inline = re.findall(r"`([A-Za-z_][\w.]*(?:\([^`\n]*\))?)`", text)
    code = " ".join(inline + python_blocks(doc))
    unexplained = []
    for name in sorted(set(re.findall(r"(?<![.\w])[A-Z][a-z]+[A-Z]?[A-Za-z]*\b", code))):
        if name not in homes or name in mcpkit.__all__:
            continue
        para = r"(?:(?!\n\n).)*"  # within one paragraph
        said = any(
            re.search(
                rf"{re.escape(home)} import [^\n]*\b{name}\b|"
                rf"{re.escape(home)} import \([^)]*\b{name}\b|"
                rf"`{re.escape(home)}`{para}`{name}`|"
                rf"`{name}`{para}`{re.escape(home)}`|{re.escape(home)}\.{name}\b",
                text,
                re.S,
            )
            for home in homes[name]
        )
        # A name the example imports from another package (Starlette's `Mount`) is its.
        said = said or bool(re.search(rf"from [\w.]+ import [^\n]*\b{name}\b", code))
        if not said:
            unexplained.append(f"{name} (from {' or '.join(sorted(homes[name]))})")
    assert unexplained == [], f"{doc} uses names without their import path: {unexplained}"
