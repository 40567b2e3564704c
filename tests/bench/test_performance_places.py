"""docs/performance.md's fast-path lists name places that exist: the table of marked copies
and "Why the fast paths are shaped as they are" each lead with `file.py:Name.attribute`
under src/mcpkit. A rename or a move that leaves them naming a place that is gone leaves a
reader (and the next session that cuts copies) looking for code that is not there. The
"Taken out" tables are history and name what is gone on purpose; they are not read here."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "mcpkit"
_SECTIONS = (("### The marked copies", "### "), ("### Why the fast paths", "## "))
_LEADING = re.compile(r"^(?:\| |- )`([\w/]+\.py)(?::([\w.]+))?`")


def _listed(text: str) -> list[tuple[str, str]]:
    """The (file, qualified name) each row of the two lists leads with."""
    found = []
    for head, next_head in _SECTIONS:
        start = text.index(head)
        end = text.find("\n" + next_head, start + len(head))
        for line in text[start : end if end != -1 else None].splitlines():
            match = _LEADING.match(line)
            if match:
                found.append((match[1], match[2] or ""))
    return found


def _defined(tree: ast.Module) -> set[str]:
    """The module's names, classes' names as `Class.name` (methods, class attributes, and
    attributes methods set on `self`)."""
    names: set[str] = set()

    def targets(node: ast.AST) -> list[ast.expr]:
        if isinstance(node, ast.Assign):
            return node.targets
        return [node.target] if isinstance(node, ast.AnnAssign) else []

    def walk(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.add(prefix + node.name)
            for target in targets(node):
                if isinstance(target, ast.Name):
                    names.add(prefix + target.id)
            if isinstance(node, ast.ClassDef):
                walk(node.body, f"{prefix}{node.name}.")
                for inner in ast.walk(node):
                    for target in targets(inner):
                        if (
                            isinstance(target, ast.Attribute)
                            and isinstance(target.value, ast.Name)
                            and target.value.id == "self"
                        ):
                            names.add(f"{prefix}{node.name}.{target.attr}")

    walk(tree.body, "")
    return names


def test_the_fast_path_lists_name_places_that_exist() -> None:
    listed = _listed((ROOT / "docs" / "performance.md").read_text())
    assert len(listed) > 10  # the lists were found
    gone = []
    for file, name in listed:
        path = PACKAGE / file
        if not path.is_file():
            gone.append(f"{file} (no such file)")
        elif name and name not in _defined(ast.parse(path.read_text())):
            gone.append(f"{file}:{name}")
    assert not gone, "docs/performance.md names places that are gone:\n" + "\n".join(gone)


def test_a_renamed_place_is_found() -> None:
    text = (
        "### The marked copies\n\n| `protocol/receiving.py:Receiving.nowhere` | x |\n\n"
        "### Why the fast paths are shaped\n\n- `protocol/no_such.py:X`: y\n"
        "- `protocol/receiving.py:Receiving.receive_data`: z\n\n## How to reproduce\n"
    )
    assert _listed(text) == [
        ("protocol/receiving.py", "Receiving.nowhere"),
        ("protocol/no_such.py", "X"),
        ("protocol/receiving.py", "Receiving.receive_data"),
    ]
    defined = _defined(ast.parse((PACKAGE / "protocol" / "receiving.py").read_text()))
    assert "Receiving.receive_data" in defined
    assert "Receiving.nowhere" not in defined
