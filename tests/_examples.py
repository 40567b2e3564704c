"""Loading an example server afresh, for tests that change it (a card published, a setting set)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

from mcpkit import Server

__all__ = ["EXAMPLES", "fresh_example"]

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def fresh_example(file: str, module_name: str) -> Server:
    """The `server` of examples/`file`, from a new module named `module_name` each call."""
    spec = importlib.util.spec_from_file_location(module_name, EXAMPLES / file)
    assert spec is not None and spec.loader is not None
    module = ModuleType(spec.name)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    server: Server = module.server
    return server
