"""Running a doc's script blocks as a reader would: written to a file, run with a fresh
interpreter that imports mcpkit from this checkout's `src/`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def script_blocks(doc: Path) -> dict[str, str]:
    """The doc's python blocks by the file name on their first line (`# name.py`)."""
    return dict(re.findall(r"```python\n# (\w+\.py)\n(.*?)```", doc.read_text(), re.S))


def printed_block(doc: Path) -> tuple[str, str, str]:
    """(name, source, what it prints) of the doc's script block followed by "prints" and a
    text block."""
    found = re.search(
        r"```python\n# (\w+\.py)\n(.*?)```\n\nprints\n\n```text\n(.*?)```", doc.read_text(), re.S
    )
    assert found is not None, f"{doc.name}: a script block followed by what it prints"
    name, source, printed = found.groups()
    return name, source, printed


def run_script(folder: Path, name: str, source: str) -> str:
    """Run `source` as `folder/name`; its standard output (it must exit 0)."""
    script = folder / name
    script.write_text(source)
    done = subprocess.run(
        [sys.executable, str(script)],
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout
