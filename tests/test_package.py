"""The package's surface: public names resolve, `import mcpkit` stays light, layers hold."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import mcpkit

SRC = Path(__file__).resolve().parents[1] / "src" / "mcpkit"


def test_every_public_name_resolves() -> None:
    for name in mcpkit.__all__:
        assert getattr(mcpkit, name) is not None, name
    assert sorted(dir(mcpkit)) == sorted(mcpkit.__all__)


def test_import_mcpkit_loads_nothing_heavy() -> None:
    code = ("import sys, mcpkit; "
            "print(','.join(m for m in sys.modules if m.startswith(('mcpkit.', 'msgspec', "
            "'jsonschema_rs', 'asyncio'))))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=60).stdout.strip()
    assert loaded == "", f"import mcpkit loaded: {loaded}"


# Which top-level layers each layer may import (DESIGN.md, "Layers"); testing holds both ends.
ALLOWED = {
    "errors": set(),
    "types": {"errors"},
    "protocol": {"errors", "types"},
    "runtime": {"errors", "types", "protocol"},
    "transports": {"errors", "types", "protocol", "runtime"},
    "server": {"errors", "types", "protocol", "runtime", "transports"},
    "client": {"errors", "types", "protocol", "runtime", "transports"},
    "testing": {"errors", "types", "protocol", "runtime", "transports", "server", "client"},
    "cli": {"errors", "types", "protocol", "runtime", "transports", "server", "client"},
}


def layer_of(path: Path) -> str:
    rel = path.relative_to(SRC)
    return rel.parts[0].removesuffix(".py")


def test_layers_import_only_downwards() -> None:
    wrong: list[str] = []
    for path in SRC.rglob("*.py"):
        layer = layer_of(path)
        if layer not in ALLOWED:
            continue  # __init__, __main__
        for node in ast.walk(ast.parse(path.read_text())):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            for name in names:
                parts = name.split(".")
                if parts[0] != "mcpkit" or len(parts) < 2:
                    continue
                target = parts[1]
                if target != layer and target not in ALLOWED[layer]:
                    wrong.append(f"{path.relative_to(SRC)} imports {name}")
    assert wrong == []
