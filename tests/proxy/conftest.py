"""The proxy tests: their helpers (`tests/proxy/_proxying.py`), the HTTP tests'
(`tests/http/_serving.py`), the interop tests' (`tests/interop/interop_harness.py`, and the
features checks) and the auth tests' (`tests/auth/_resource_helpers.py`) importable by name,
however pytest imports this directory."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for folder in (HERE, HERE.parent / "http", HERE.parent / "interop", HERE.parent / "auth"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
