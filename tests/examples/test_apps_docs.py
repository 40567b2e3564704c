"""docs/apps.md works as written: its script runs as it is and prints what the doc shows."""

from __future__ import annotations

from pathlib import Path

from _doc_scripts import REPO, printed_block, run_script


def test_the_apps_script_prints_what_the_doc_says(tmp_path: Path) -> None:
    name, source, printed = printed_block(REPO / "docs" / "apps.md")
    assert run_script(tmp_path, name, source) == printed
