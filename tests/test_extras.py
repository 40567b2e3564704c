"""Every import of a module an extra installs goes through mcpkit._extras, so a missing one
names the `pip install 'mcpkit[extra]'` to run: the helper's table is pyproject.toml's extras,
every import site in src/mcpkit is walked, and each module importing one at import time is
imported with that module hidden (`sys.modules[name] = None`, as if not installed)."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from mcpkit._extras import EXTRAS, import_extra, needs_extra
from mcpkit.errors import MissingExtra

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src" / "mcpkit"
# joserfc's own dependency, which mcpkit.auth imports too
BROUGHT_BY_JOSERFC = {"cryptography"}


def extras_of_pyproject() -> dict[str, frozenset[str]]:
    """Each extra and the top-level modules of the packages it installs, read from
    pyproject.toml and the installed packages' metadata."""
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted: dict[str, list[str]] = declared["optional-dependencies"]
    modules_of: dict[str, set[str]] = {}
    for module, distributions in importlib.metadata.packages_distributions().items():
        for distribution in distributions:
            modules_of.setdefault(_normal(distribution), set()).add(module)

    def modules(extra: str) -> set[str]:
        found: set[str] = set()
        for requirement in wanted[extra]:
            name = re.match(r"[A-Za-z0-9._-]+(\[[\w,]+\])?", requirement)
            assert name is not None
            if _normal(name.group(0)).startswith("mcpkit["):
                for included in name.group(1).strip("[]").split(","):
                    found |= modules(included)
            else:
                found |= {m for m in modules_of[_normal(name.group(0))] if not m.startswith("_")}
        return found

    return {extra: frozenset(modules(extra)) for extra in wanted if extra not in ("all", "dev")}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


OPTIONAL = frozenset().union(*extras_of_pyproject().values()) | BROUGHT_BY_JOSERFC


def test_the_helpers_extras_are_pyprojects() -> None:
    declared = extras_of_pyproject()
    assert declared.keys() == EXTRAS.keys()
    for extra, modules in declared.items():
        added = BROUGHT_BY_JOSERFC if "joserfc" in modules else set()
        assert EXTRAS[extra] == modules | added, extra


def import_sites() -> Iterator[tuple[str, int, str, str | None]]:
    """(file, line, module imported, extra of the `needs_extra` around it or None) for each
    import of an extra's module that runs (those under `if TYPE_CHECKING:` never do)."""
    for path in sorted(SRC.rglob("*.py")):
        yield from _sites(ast.parse(path.read_text()), str(path.relative_to(REPO)), None)


def _sites(
    node: ast.AST, where: str, extra: str | None
) -> Iterator[tuple[str, int, str, str | None]]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
            for kept in child.orelse:
                yield from _sites(ast.Module(body=[kept], type_ignores=[]), where, extra)
            continue
        inner = _extra_of(child) if isinstance(child, ast.With) else None
        if isinstance(child, ast.Import | ast.ImportFrom):
            for module in _imported(child):
                if module.partition(".")[0] in OPTIONAL:
                    yield where, child.lineno, module, extra
        yield from _sites(child, where, inner or extra)


def _imported(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    return [node.module] if node.level == 0 and node.module else []


def _extra_of(node: ast.With) -> str | None:
    for item in node.items:
        call = item.context_expr
        if isinstance(call, ast.Call) and ast.unparse(call.func) == "needs_extra":
            first = call.args[0]  # a name (the helper's own import_extra) is not read here
            return (
                first.value
                if isinstance(first, ast.Constant) and isinstance(first.value, str)
                else None
            )
    return None


def test_every_import_of_an_extras_module_goes_through_the_helper() -> None:
    sites = list(import_sites())
    assert len(sites) > 80  # the walk found the tree's imports
    unnamed = [f"{where}:{line} {module}" for where, line, module, extra in sites if extra is None]
    assert unnamed == [], "wrap these in `with needs_extra(EXTRA):`"
    wrong = [
        f"{where}:{line} {module} in needs_extra({extra!r})"
        for where, line, module, extra in sites
        if extra is not None and module.partition(".")[0] not in EXTRAS[extra]
    ]
    assert wrong == [], "that extra does not install that module"


def test_modules_imported_by_name_go_through_the_helper() -> None:
    """`importlib.import_module("yaml")` would escape the walk above: such names go through
    `import_extra(module, extra)`, whose extra must install them."""
    for path in sorted(SRC.rglob("*.py")):
        for call in ast.walk(ast.parse(path.read_text())):
            if not isinstance(call, ast.Call) or not call.args:
                continue
            name = ast.unparse(call.func)
            first = call.args[0]
            if not isinstance(first, ast.Constant) or not isinstance(first.value, str):
                continue
            root = first.value.partition(".")[0]
            if name == "importlib.import_module":
                assert root not in OPTIONAL, f"{path}: use import_extra({first.value!r}, ...)"
            if name == "import_extra":
                extra = call.args[1]
                assert isinstance(extra, ast.Constant) and isinstance(extra.value, str), path
                assert root in EXTRAS[extra.value], path


def module_level_sites() -> dict[str, list[str]]:
    """Each mcpkit module that imports an extra's modules when it is imported, and those."""
    found: dict[str, list[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        tree = ast.parse(path.read_text())
        for statement in tree.body:
            if isinstance(statement, ast.With) and _extra_of(statement) is not None:
                dotted = ".".join(path.relative_to(SRC.parent).with_suffix("").parts)
                for node in statement.body:
                    if isinstance(node, ast.Import | ast.ImportFrom):
                        found.setdefault(dotted, []).extend(_imported(node))
    return found


IMPORT_HIDDEN = """
import importlib, json, sys
results = []
for module, hidden in json.loads(sys.argv[1]):
    root = hidden.partition(".")[0]
    saved = {n: m for n, m in sys.modules.items()
             if n == root or n.startswith(root + ".") or n.startswith("mcpkit.")
             and n not in ("mcpkit.errors", "mcpkit._extras")}
    for name in saved:
        del sys.modules[name]
    sys.modules[root] = None
    try:
        importlib.import_module(module)
        results.append([module, hidden, None, None])
    except Exception as exc:
        results.append([module, hidden, type(exc).__name__, str(exc)])
    for name in [n for n in sys.modules if n.startswith("mcpkit.") or n == root]:
        if name not in ("mcpkit.errors", "mcpkit._extras"):
            del sys.modules[name]
    sys.modules.update(saved)
print(json.dumps(results))
"""


def test_each_module_says_the_extra_to_install_when_its_module_is_missing() -> None:
    pairs = [[m, hidden] for m, modules in module_level_sites().items() for hidden in modules]
    assert len(pairs) > 50
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_HIDDEN, json.dumps(pairs)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
    )
    assert done.returncode == 0, done.stderr
    unsaid = []
    for module, hidden, kind, message in json.loads(done.stdout):
        root = hidden.partition(".")[0]
        said = re.search(r"pip install 'mcpkit\[(\w+)\]'$", message or "")
        if kind != "MissingExtra" or said is None or root not in EXTRAS[said.group(1)]:
            unsaid.append(f"{module} without {root}: {kind}: {message}")
    assert unsaid == []


# ------------------------------------------------------------------ the helper itself


def test_a_missing_module_names_what_needs_it_and_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "joserfc", None)
    with pytest.raises(MissingExtra) as caught, needs_extra("auth", "checking a JWT"):
        import joserfc  # noqa: F401
    assert str(caught.value) == (
        "checking a JWT needs joserfc, which is not installed: pip install 'mcpkit[auth]'"
    )
    assert caught.value.extra == "auth" and caught.value.name == "joserfc"
    assert isinstance(caught.value, ModuleNotFoundError)  # caught where ImportError was


def test_by_default_the_module_whose_import_failed_is_named(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "yaml", None)
    with pytest.raises(MissingExtra, match=r"^(tests\.)?test_extras needs PyYAML, which"):
        with needs_extra("openapi"):
            import yaml  # noqa: F401
    with pytest.raises(MissingExtra, match=r"^this needs PyYAML, .* 'mcpkit\[cli\]'$"):
        import_extra("yaml", "cli")


def test_an_outer_what_says_what_the_caller_was_doing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "httpx", None)
    with pytest.raises(MissingExtra, match=r"^connecting to a URL needs httpx, .*mcpkit\[http\]"):
        with needs_extra("http", "connecting to a URL"), needs_extra("http"):
            import httpx  # noqa: F401


def test_a_module_no_extra_brings_is_not_blamed_on_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "msgspec_not_an_extra", None)
    with pytest.raises(ModuleNotFoundError) as caught, needs_extra("auth"):
        import msgspec_not_an_extra  # type: ignore[import-not-found]  # noqa: F401
    assert not isinstance(caught.value, MissingExtra)


def test_an_unknown_extra_is_refused() -> None:
    with pytest.raises(ValueError, match="no extra 'auht'; mcpkit's extras are http, auth"):
        needs_extra("auht")
