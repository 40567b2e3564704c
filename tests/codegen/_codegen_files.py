"""What the codegen tests share besides fixtures: where the repository and the example server
are, and importing a generated file (imported by name: a `conftest` module of another test
folder may be the one `import conftest` finds)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

__all__ = ["EVERYTHING", "REPO", "import_file"]

REPO = Path(__file__).resolve().parents[2]
EVERYTHING = REPO / "examples" / "everything.py"


def import_file(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"generated_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # TypedDicts look their module up while built
    spec.loader.exec_module(module)
    return module
