"""`mcpkit run FILE.py[:object]` (or `MODULE[:object]`): load a Server and serve it over stdio."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

__all__ = ["find_server", "load_file", "load_module"]

_CONVENTIONAL_NAMES = ("server", "mcp", "app")


def load_file(path: Path) -> Any:
    """Import a Python file as a module named after it (its folder goes on sys.path)."""
    if not path.is_file():
        raise SystemExit(f"mcpkit run: no such file: {path}")
    sys.path.insert(0, str(path.parent.resolve()))
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"mcpkit run: cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def find_server(module: Any, name: str | None) -> Any:
    """The Server named `name`, or the one in a variable called server, mcp or app."""
    from mcpkit.server.server import Server

    if name is not None:
        obj = getattr(module, name, None)
        if obj is None:
            raise SystemExit(f"mcpkit run: {module.__file__} has no object named {name!r}")
        if not isinstance(obj, Server):
            raise SystemExit(f"mcpkit run: {name!r} is a {type(obj).__name__}, not a Server")
        return obj
    for candidate in _CONVENTIONAL_NAMES:
        obj = getattr(module, candidate, None)
        if isinstance(obj, Server):
            return obj
    found = [k for k, v in vars(module).items() if isinstance(v, Server)]
    if len(found) == 1:
        return getattr(module, found[0])
    if found:
        raise SystemExit(f"mcpkit run: several Servers in {module.__file__} ({', '.join(found)});"
                         f" name one: FILE.py:{found[0]}")
    raise SystemExit(f"mcpkit run: no Server found in {module.__file__}; name it `server`, "
                     "`mcp` or `app`, or give FILE.py:object")


def run(target: str) -> None:
    path_text, _, name = target.partition(":")
    path = Path(path_text)
    if path_text.endswith(".py") or path.exists():
        module = load_file(path)
    else:
        module = load_module(path_text)
    server = find_server(module, name or None)
    server.run()


def load_module(dotted: str) -> Any:
    """Import an installed module by its dotted name (`mypackage.server`); the current
    directory goes on sys.path first, as `python -m` does."""
    sys.path.insert(0, str(Path.cwd()))
    try:
        return importlib.import_module(dotted)
    except ModuleNotFoundError as exc:
        if exc.name and dotted.startswith(exc.name):
            raise SystemExit(f"mcpkit run: no such file or module: {dotted}") from None
        raise
