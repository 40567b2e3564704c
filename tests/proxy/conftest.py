"""The proxy tests: their helpers (`tests/proxy/_proxying.py`) and the HTTP tests'
(`tests/http/_serving.py`) importable by name, however pytest imports this directory."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
for folder in (HERE, HERE.parent / "http"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))
