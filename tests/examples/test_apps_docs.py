"""docs/apps.md works as written: its script runs as it is and prints what the doc shows."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "apps.md"


def test_the_apps_script_prints_what_the_doc_says(tmp_path: Path) -> None:
    text = DOC.read_text()
    found = re.search(
        r"```python\n# (\w+\.py)\n(.*?)```\n\nprints\n\n```text\n(.*?)```", text, re.S
    )
    assert found is not None, "docs/apps.md: a script block followed by what it prints"
    name, source, printed = found.groups()
    script = tmp_path / name
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
    assert done.stdout == printed
